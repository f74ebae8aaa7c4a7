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


async def test_task_false_calls_plainly_and_the_server_refuses(everything_url, capsys):
    """Bound to fail: preflight warns (the step, the tool, why); the run goes on and measures it."""
    workflow = [{"call": "simulate-research-query", "args": {"topic": "x"}, "task": False}]
    res = (await run_scenario(make(everything_url, workflow, agents=1, duration="0.5s"), seed=1)).results
    op = res["operations"][RESEARCH]
    assert op["ok"] == 0 and op["calls"] >= 1 and "operation_extras" not in res
    warning = capsys.readouterr().err
    assert "workflow[0]: task: false, but simulate-research-query requires tasks" in warning, warning


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


def make_with_answers(url: str, workflow: list[Any], answers: dict[str, Any]) -> Scenario:
    data = {
        # listen: the server asks roots/list on the standalone GET stream, right after initialize
        "target": {"url": url, "timeout": 20, "listen": True},
        "agents": {"a": {"workflow": workflow}},
        "profiles": {"type": "constant-agents", "agents": 2, "duration": "1s"},
        "answers": answers,
    }
    return Scenario.from_dict(data, source="<test>")


async def test_canned_answers_let_tools_that_ask_the_client_load(everything_url):
    """server-everything offers its sampling, elicitation and roots tools only to clients declaring those
    capabilities: with ``answers`` they are offered (preflight sees them) and every call succeeds,
    carrying the canned answer."""
    workflow = [
        {"call": "trigger-sampling-request", "args": {"prompt": "capital of France?"}},
        {"call": "trigger-elicitation-request", "args": {}},
        {"call": "get-roots-list", "args": {}},
    ]
    answers = {
        "sampling": "Paris, canned",
        "elicitation": {"action": "accept", "content": {"name": "mcpload", "check": True}},
        "roots": [{"uri": "file:///srv/project", "name": "project"}],
    }
    res = (await run_scenario(make_with_answers(everything_url, workflow, answers), seed=1)).results
    for tool in ("trigger-sampling-request", "trigger-elicitation-request", "get-roots-list"):
        op = res["operations"][f"tools/call {tool}"]
        assert op["calls"] >= 2 and op["ok"] == op["calls"], (tool, op, res["top_errors"])


async def test_without_answers_such_tools_are_refused_before_the_run(everything_url):
    from mcpload.engine.preflight import PreflightError

    scenario = make_with_answers(everything_url, [{"call": "trigger-sampling-request", "args": {"prompt": "x"}}], {})
    with pytest.raises(PreflightError) as refused:
        await run_scenario(scenario, seed=1)
    assert refused.value.code == 2 and "trigger-sampling-request" in str(refused.value)


async def test_the_canned_roots_reach_the_server(everything_url):
    from mcpload import Target, connect

    answers = Scenario.from_dict(
        {
            "target": {"url": everything_url, "listen": True},
            "agents": {"a": {"workflow": ["ping"]}},
            "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
            "answers": {"roots": [{"uri": "file:///srv/project", "name": "project"}]},
        }
    ).to_target()
    assert isinstance(answers, Target) and answers.listen
    session, opened = await connect(answers)
    try:
        assert opened.ok and session.capabilities == {"roots": {}}
        out = await session.call_tool("get-roots-list", {})
        assert out.ok and "file:///srv/project" in out.result["content"][0]["text"], out.result
        assert session.server_requests["roots/list"] >= 1
    finally:
        await session.close()


async def test_subscribe_steps_and_resource_updates_are_counted(everything_stdio_cmd):
    """``subscribe`` sends resources/subscribe; server-everything's toggle-subscriber-updates then sends
    notifications/resources/updated at once for each subscribed URI (stdio: no GET stream needed)."""
    workflow = [
        {"subscribe": "demo://resource/static/document/architecture.md"},
        {"call": "toggle-subscriber-updates", "args": {}},
        {"think": "0.2s"},
    ]
    data = {
        "target": {"command": everything_stdio_cmd, "timeout": 20},
        "agents": {"a": {"workflow": workflow, "conversations_per_session": 1}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
    res = (await run_scenario(Scenario.from_dict(data, source="<test>"), seed=1)).results
    op = res["operations"]["resources/subscribe demo://resource/static/document/architecture.md"]
    assert op["calls"] >= 1 and op["ok"] == op["calls"], op
    counted = res["operation_extras"]["server notifications"]
    assert counted.get("notifications/resources/updated", 0) >= 1, counted
