"""The agent's step loop (``engine/agent.py``): a real session over stdio against ``tests/stdio_session.py``,
with the agent's sleeps (think, idle, retry backoff) on a fake clock.

The fake clock replaces ``asyncio.sleep`` in the agent module only: each pause is written into the same
timeline as the outcomes, so the order of calls and pauses and every pause's length are asserted exactly
and nothing waits for real time. The recorder is a small stand-in that writes what it is told into the
timeline too (metrics have tests of their own).
"""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import mcpload.engine.agent as agent_module
import mcpload.scenario.steps as steps_module
from mcpload.engine.agent import RunningAgent, SharedRunState
from mcpload.engine.rng import AgentRandom
from mcpload.mcp.connect import Target
from mcpload.mcp.session import Session
from mcpload.outcome import OK, RPC_ERROR, Outcome
from mcpload.scenario import Scenario

SERVER = [sys.executable, str(Path(__file__).resolve().parents[1] / "stdio_session.py")]
BOUND_S = 20
TOKENS = 100  # tokens_per_step


class Timeline:
    """Everything the agent did, in order: ``("call", name, args)``, ``("sleep", seconds)``, recorder events."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.outcomes: list[Outcome] = []
        self.closed: list[str] = []  # how each session ended: "close" or "abandon"

    # the agent's sink
    def __call__(self, outcome: Outcome, intended_start: float | None = None) -> None:
        self.outcomes.append(outcome)
        args = None
        if outcome.kind == OK and outcome.method == "tools/call":
            args = outcome.result.get("structuredContent")
        self.events.append(("call", outcome.name or outcome.method, outcome.kind, args))

    # the recorder stand-in
    def session_opened(self, ok: bool, seconds: float, kind: str) -> None:
        self.events.append(("opened", ok))

    def session_closed(self, seconds: float | None) -> None:
        self.events.append(("closed",))

    def conversation_finished(self, ok: bool, tokens: int, wasted: int) -> None:
        self.events.append(("conversation", ok, tokens, wasted))

    def note(self, *args: Any) -> None:
        pass

    def calls(self) -> list[tuple[Any, ...]]:
        return [e for e in self.events if e[0] in ("call", "sleep")]


@pytest.fixture
def timeline(monkeypatch) -> Timeline:
    line = Timeline()
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float, result: Any = None) -> Any:
        if seconds:  # (a zero sleep is the agent yielding between conversations)
            line.events.append(("sleep", seconds))
        await real_sleep(0)
        return result

    clock = types.SimpleNamespace(**{**vars(asyncio), "sleep": fake_sleep})
    for module in (agent_module, steps_module):  # the agent's pauses, and the think step that runs itself
        monkeypatch.setattr(module, "asyncio", clock)
    return line


class WatchedSession(Session):
    """The real session, noting how it was ended (``on_end``)."""

    timeline: Timeline

    async def close(self) -> None:
        self.timeline.closed.append("close")
        await super().close()

    async def abandon(self) -> None:
        self.timeline.closed.append("abandon")
        await Session.close(self)


def make_agent(timeline: Timeline, agent: dict[str, Any], seed: int = 1) -> RunningAgent:
    scenario = Scenario.from_dict(
        {
            "target": {"command": SERVER},
            "agents": {"a": {"tokens_per_step": TOKENS, **agent}},
            "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        }
    )
    world = SharedRunState(scenario, Target.stdio(SERVER), "stdio", "2025-11-25", timeline, timeline)
    WatchedSession.timeline = timeline
    world.session_class = WatchedSession
    return RunningAgent(0, scenario.agents["a"], world, AgentRandom(f"{seed}:agent:0"))


async def run(agent: RunningAgent) -> None:
    async with asyncio.timeout(BOUND_S):
        await agent.run()


def echo(tag: Any) -> dict[str, Any]:
    return {"call": "echo", "args": {"tag": tag}}


def called(tag: Any) -> tuple[Any, ...]:
    return ("call", "echo", OK, {"tag": tag})


async def test_steps_run_in_order_with_think_and_idle_between(timeline):
    agent = make_agent(
        timeline,
        {
            "conversations_per_session": 2,
            "idle": "3s",
            "workflow": [
                echo(0),
                {"think": "2s"},
                echo(1),
                {"repeat": {"times": 2, "steps": [echo("r")]}},
                "ping",
                "list_tools",
            ],
        },
    )
    await run(agent)
    one = [called(0), ("sleep", 2.0), called(1), called("r"), called("r"), ("call", "ping", OK, None)]
    one.append(("call", "tools/list", OK, None))
    initialize = ("call", "initialize", OK, None)
    assert timeline.calls() == [initialize, *one, ("sleep", 3.0), *one]  # no idle after the last
    conversations = [e for e in timeline.events if e[0] == "conversation"]
    assert conversations == [("conversation", True, 6 * TOKENS, 0)] * 2
    assert timeline.events[:2] == [initialize, ("opened", True)] and timeline.events[-1] == ("closed",)
    assert timeline.closed == ["close"]


async def test_a_parallel_step_sends_every_branch_before_any_answer_and_waits_for_all(timeline):
    agent = make_agent(
        timeline,
        {"conversations_per_session": 1, "workflow": [{"parallel": [echo("a"), echo("b"), echo("c")]}, echo("after")]},
    )
    await run(agent)
    branches = [o for o in timeline.outcomes if o.name == "echo"][:3]
    after = timeline.outcomes[-1]
    assert sorted(o.result["structuredContent"]["tag"] for o in branches) == ["a", "b", "c"]
    assert all(o.kind == OK for o in timeline.outcomes)
    first_answer = min(o.started + o.latency for o in branches)
    assert max(o.started for o in branches) < first_answer  # all three in flight at once
    assert after.result["structuredContent"] == {"tag": "after"}
    assert after.started >= max(o.started + o.latency for o in branches)  # the step after waits for all


@pytest.mark.parametrize(
    ("retry", "attempts", "waits"),
    [
        ({"attempts": 3, "backoff": "1s", "multiplier": 2, "on": ["rpc_error"]}, 3, [1.0, 2.0]),
        ({"attempts": 4, "backoff": "500ms", "multiplier": 1, "on": ["rpc_error"]}, 4, [0.5, 0.5, 0.5]),
        ({"attempts": 3, "backoff": "1s", "on": ["timeout"]}, 1, []),  # not a kind it retries
        (None, 1, []),
    ],
    ids=["backoff-doubles", "flat-backoff", "other-kind", "no-retry"],
)
async def test_retries_wait_their_backoff_and_a_failed_step_ends_the_conversation(timeline, retry, attempts, waits):
    step = {"call": "fail", **({"retry": retry} if retry else {})}
    agent = make_agent(timeline, {"conversations_per_session": 1, "workflow": [echo(0), step, echo("never")]})
    await run(agent)
    failing = [("call", "fail", RPC_ERROR, None)]
    expected = [called(0), failing[0]]
    for wait in waits:
        expected += [("sleep", wait), failing[0]]
    assert timeline.calls()[1:] == expected  # (after the initialize) and the step after is never run
    # every attempt spent the agent's tokens; the conversation failed, so all of them are wasted
    spent = (1 + attempts) * TOKENS
    assert [e for e in timeline.events if e[0] == "conversation"] == [("conversation", False, spent, spent)]


@pytest.mark.parametrize(("on_end", "ended"), [("delete", "close"), ({"abandon": "100%"}, "abandon")])
async def test_on_end_decides_how_the_session_ends(timeline, on_end, ended):
    agent = make_agent(timeline, {"conversations_per_session": 1, "on_end": on_end, "workflow": [echo(0)]})
    await run(agent)
    assert timeline.closed == [ended]
    assert timeline.events[-1] == ("closed",)


async def test_halted_leaves_at_the_next_step_and_still_closes_the_session(timeline):
    agent = make_agent(timeline, {"workflow": [echo(0), echo(1), echo(2)]})  # no limit: runs until halted
    sink = agent.world.sink

    def halt_after_one(outcome: Outcome, intended_start: float | None = None) -> None:
        sink(outcome, intended_start)
        if outcome.name == "echo":
            agent.world.halted = True

    agent.world.sink = halt_after_one
    await run(agent)
    assert timeline.calls()[1:] == [called(0)]
    assert not [e for e in timeline.events if e[0] == "conversation"]  # cut short, not finished
    assert timeline.closed == ["close"] and timeline.events[-1] == ("closed",)


async def test_a_retired_agent_finishes_its_conversation_then_leaves(timeline):
    agent = make_agent(timeline, {"idle": "5s", "workflow": [echo(0), {"think": "1s"}, echo(1)]})
    sink = agent.world.sink

    def retire_on_first(outcome: Outcome, intended_start: float | None = None) -> None:
        sink(outcome, intended_start)
        if outcome.name == "echo":
            agent.retire()

    agent.world.sink = retire_on_first
    await run(agent)
    assert timeline.calls()[1:] == [called(0), ("sleep", 1.0), called(1)]  # no idle, no second conversation
    assert [e for e in timeline.events if e[0] == "conversation"] == [("conversation", True, 2 * TOKENS, 0)]


async def test_the_seed_decides_every_draw_and_branches_draw_apart(timeline):
    """Choices, repeat counts and think times (parallel branches' too) come from the agent's seeded
    generator: one seed, one timeline (twice); another seed, another."""
    workflow = [
        {"repeat": {"times": "1..4", "steps": [{"think": "1s..3s"}]}},
        {"choice": [{"weight": 1, "steps": [echo("x")]}, {"weight": 1, "steps": [echo("y")]}]},
        {"parallel": [{"think": "1s..3s"}, {"think": "1s..3s"}]},
    ]
    runs = []
    for seed in (7, 7, 8):
        timeline.events, timeline.outcomes = [], []
        await run(make_agent(timeline, {"conversations_per_session": 3, "workflow": workflow}, seed=seed))
        runs.append(timeline.calls())
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert all(1.0 <= e[1] <= 3.0 for e in runs[0] if e[0] == "sleep")
