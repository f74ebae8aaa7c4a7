"""Call step options against server-everything (issue 14 §1): tasks (``simulate-research-query`` has
``taskSupport: required``: 4 stages of 1 s, pollInterval 1 s), progress, and abandoned calls."""

from __future__ import annotations

from typing import Any

import pytest

from mcpload.engine.execute import run_scenario
from mcpload.scenario import Scenario

pytestmark = pytest.mark.node
RESEARCH = "tools/call simulate-research-query"
LONG = "tools/call trigger-long-running-operation"


def make(url: str, workflow: list[Any], agents: int = 2, duration: str = "2s") -> Scenario:
    data = {
        "target": {"url": url, "timeout": 20},
        "agents": {"a": {"workflow": workflow}},
        "profiles": {"type": "constant-agents", "agents": agents, "duration": duration},
    }
    return Scenario.from_dict(data, source="<test>")


async def test_a_task_tool_loads_with_full_success(everything_url):
    """A call step on a ``taskSupport: required`` tool sends task-augmented calls, polls ``tasks/get`` at
    the server's interval and fetches ``tasks/result``: one operation, timed to the result, 100 % ok."""
    workflow = [{"call": "simulate-research-query", "args": {"topic": "load testing"}}]
    res = (await run_scenario(make(everything_url, workflow), seed=1)).results
    op = res["operations"][RESEARCH]
    assert op["calls"] >= 2 and op["ok"] == op["calls"], op  # 100 % success
    assert set(res["operations"]) == {"initialize", RESEARCH}  # polls are not operations of their own
    assert op["latency_ms"]["p50"] >= 3500  # four 1 s stages: the time to the result, not to the task
    extras = res["operation_extras"][RESEARCH]
    assert extras["task_calls"] == op["calls"]
    assert 3 <= extras["task_polls_mean"] <= 6, extras  # honouring pollInterval 1000 ms


async def test_task_false_calls_plainly_and_the_server_refuses(everything_url):
    workflow = [{"call": "simulate-research-query", "args": {"topic": "x"}, "task": False}]
    res = (await run_scenario(make(everything_url, workflow, agents=1, duration="0.5s"), seed=1)).results
    op = res["operations"][RESEARCH]
    assert op["ok"] == 0 and op["calls"] >= 1 and "operation_extras" not in res


async def test_progress_steps_count_notifications(everything_url):
    workflow = [{"call": "trigger-long-running-operation", "args": {"duration": 0.4, "steps": 4}, "progress": True}]
    res = (await run_scenario(make(everything_url, workflow, agents=1, duration="1s"), seed=1)).results
    op = res["operations"][LONG]
    extras = res["operation_extras"][LONG]
    assert op["ok"] == op["calls"] == extras["progress_calls"] >= 2, (op, extras)
    assert extras["progress_notifications"] == 4 * op["calls"]
    assert 0 < extras["first_progress_ms_mean"] <= extras["first_progress_ms_max"] < op["latency_ms"]["max"]


async def test_abandoned_calls_are_cancelled_not_failed(everything_url):
    """``abandon: {share: 1, after: 0.3s}`` on a 2 s tool: every call is given up (the server is sent
    notifications/cancelled), counted as cancelled, neither as a failure nor as interrupted."""
    step = {"call": "trigger-long-running-operation", "args": {"duration": 2, "steps": 2}}
    workflow = [{**step, "abandon": {"share": 1, "after": "0.3s"}}, {"call": "echo", "args": {"message": "next"}}]
    res = (await run_scenario(make(everything_url, workflow, agents=1, duration="1s"), seed=1)).results
    cancelled = res["operation_extras"][LONG]["cancelled"]
    assert cancelled >= 2, res["operation_extras"]
    assert LONG not in res["operations"] and res["interrupted_calls"] == 0
    echo = res["operations"]["tools/call echo"]
    assert echo["calls"] == echo["ok"] >= cancelled - 1  # the workflow went on after each abandoned call
