"""The agent engine end to end against the real demo server (official SDK), through the Python API.

Every run is seeded; counts are asserted exactly wherever the scenario makes them deterministic (open
profiles with ``distribution: even`` give an exact number of agents, ``conversations_per_session`` an
exact number of conversations each), and timings with the tolerance of one runner tick.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mcpload.demo.launch import demo_server
from mcpload.demo.server import _doc_id
from mcpload.engine.execute import run_scenario
from mcpload.metrics import read_intervals
from mcpload.profiles import parse_profiles
from mcpload.scenario import Scenario

SEARCH, GET_DOC, SEND = "tools/call search_docs", "tools/call get_doc", "tools/call send_message"
SLOW_MS = 150  # median latency of get_doc on the `slow_url` server
STUCK = "get_delivery_report"  # a tool that answers only after ~30 s on the `slow_url` server


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    """get_doc ~150 ms, get_delivery_report ~30 s (never answers within a test), send_message always fails."""
    latency = f"1,get_doc={SLOW_MS},{STUCK}=30000"
    with demo_server(extra_args=("--latency", latency, "--failure-rate", "send_message=1", "--seed", "7")) as url:
        yield url


def make(url: str, agents: dict[str, Any], profiles: Any, **extra: Any) -> Scenario:
    return Scenario.from_dict(
        {"target": {"url": url}, "agents": agents, "profiles": profiles, **extra}, source="<test>"
    )


def calls(results: dict[str, Any]) -> dict[str, int]:
    return {op: entry["calls"] for op, entry in results["operations"].items()}


def even(rate: float, duration: str, **extra: Any) -> dict[str, Any]:
    """An open profile with exactly rate·duration arrivals (the first at 0)."""
    return {"type": "agent-arrival-rate", "rate": rate, "duration": duration, "distribution": "even", **extra}


def even_then_quiet(rate: float, duration: str, quiet: str = "3s") -> dict[str, Any]:
    """Exactly rate·duration arrivals (the first at 0), then ``quiet`` seconds without arrivals before the
    profile ends: arrivals that do several conversations finish them all, however slow the machine is
    (at the profile's end an arrival is retired after its current conversation)."""
    return {
        "type": "ramping-arrival-rate",
        "start_rate": rate,
        "stages": [
            {"duration": duration, "target": rate},
            {"duration": 0, "target": 0},
            {"duration": quiet, "target": 0},
        ],
        "distribution": "even",
    }


# 1. stage targets over time


async def test_ramping_agents_follow_the_stages(demo_url, tmp_path):
    profile = {
        "type": "ramping-agents",
        "stages": [{"duration": "2s", "target": 10}, {"duration": "2s", "target": 10}, {"duration": "1s", "target": 0}],
    }
    # one short conversation, then a long idle: every agent stays alive until the runner retires it
    agents = {"a": {"idle": "30s", "workflow": [{"call": "search_docs", "args": {"query": "ramp"}}]}}
    report = await run_scenario(
        make(demo_url, agents, profile), seed=1, out=tmp_path / "r.json", intervals=tmp_path / "r.ndjson"
    )
    res = report.results
    shape = parse_profiles([profile], "p")[0]

    _, intervals, summary = read_intervals(tmp_path / "r.ndjson")
    assert intervals == res["intervals"] and summary is not None
    assert [round(iv["t"]) for iv in intervals[:5]] == [1, 2, 3, 4, 5]
    assert res["duration_s"] == pytest.approx(5.0, abs=0.5)
    for iv in intervals:
        # the runner re-reads the target every 0.1 s: allow one tick (and a little lateness) before the cut
        wanted = [shape.target_at(iv["t"] - dt) for dt in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)]
        low, high = min(wanted) - 1, max(wanted) + 1
        assert low <= iv["target_agents"] <= high, iv
        assert low <= iv["active_agents"] <= high, iv
    assert intervals[0]["target_agents"] in (4, 5, 6)
    assert all(iv["target_agents"] >= 9 and iv["active_agents"] >= 9 for iv in intervals[1:4])
    assert intervals[-1]["active_agents"] == 0
    # ten agents, each holding one session for the whole run: none replaced, none failed
    assert res["sessions"] == {**res["sessions"], "started": 10, "completed": 10, "failed": 0}
    assert res["conversations"]["completed"] == res["conversations"]["ok"] == 10
    assert calls(res)[SEARCH] == 10
    assert res["interrupted_calls"] == 0 and res["totals"]["failed"] == 0


async def test_target_is_zero_once_the_profile_has_ended(demo_url):
    agents = {"a": {"idle": "30s", "workflow": ["list_tools"]}}
    report = await run_scenario(make(demo_url, agents, {"type": "constant-agents", "agents": 3, "duration": "1.5s"}))
    last = report.results["intervals"][-1]
    assert last["t"] >= 1.5 and last["active_agents"] == 0
    assert last["target_agents"] == 0


# 2. arrival-rate accuracy


async def test_even_arrivals_start_on_schedule(demo_url):
    agents = {"a": {"conversations_per_session": 1, "workflow": [{"call": "search_docs", "args": {"query": "x"}}]}}
    report = await run_scenario(make(demo_url, agents, even(10, "3s")), seed=1)
    res = report.results
    arrivals = res["arrivals"]
    assert abs(arrivals["started"] - 30) <= 1, arrivals
    assert arrivals["dropped"] == 0 and arrivals["scheduled"] == arrivals["started"]
    assert arrivals["late_p99_ms"] < 100
    assert sum(iv["arrivals"] for iv in res["intervals"]) == arrivals["scheduled"]
    assert all(abs(iv["arrivals"] - 10) <= 1 for iv in res["intervals"][:3]), res["intervals"]
    # one session and one conversation per arrival
    assert res["sessions"]["started"] == arrivals["started"] == res["conversations"]["ok"] == calls(res)[SEARCH]
    assert "latency_corrected_ms" in res


async def test_arrivals_beyond_max_agents_are_dropped_and_counted(demo_url):
    agents = {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x"}}, {"think": "5s"}]}}
    profile = even(10, "1s", max_agents=2, graceful_stop="0s")
    started = time.perf_counter()
    report = await run_scenario(make(demo_url, agents, profile), seed=1)
    assert time.perf_counter() - started < 4  # the 5 s thinks were cut at the end of the profile
    res = report.results
    assert res["arrivals"] == {**res["arrivals"], "scheduled": 10, "started": 2, "dropped": 8}
    assert sum(iv["dropped"] for iv in res["intervals"]) == 8
    assert res["sessions"]["started"] == 2 and calls(res)[SEARCH] == 2


# 3. workflow order, save and chaining


def chain(expected_doc: str, query: str = "chain") -> list[dict[str, Any]]:
    """search_docs → save the first id → get_doc(that id) → a step whose argument renders only when
    get_doc echoed the id that search_docs returned (else an undefined name fails the conversation)."""
    check = (
        "{{ saved.doc if saved.echoed.split()[1] == saved.doc and saved.doc == '" + expected_doc + "' "
        "else saved.no_such_value }}"
    )
    return [
        {
            "call": "search_docs",
            "args": {"query": query, "limit": 2},
            "save": {"doc": "structuredContent.results[0].id"},
        },
        {"call": "get_doc", "args": {"doc_id": "{{ saved.doc }}"}, "save": {"echoed": "content[0].text"}},
        {"get_prompt": {"name": "summarize", "args": {"doc_id": check}}},
    ]


async def test_saved_values_chain_calls_in_order(demo_url):
    # two agents (even arrivals at 0 s and 0.5 s), three conversations each: exact counts
    agents = {"a": {"conversations_per_session": 3, "workflow": chain(_doc_id("chain", 0))}}
    report = await run_scenario(make(demo_url, agents, even_then_quiet(2, "1s")), seed=1)
    res = report.results
    assert res["template_errors"] == {}
    assert calls(res) == {
        "server/discover": 2,
        SEARCH: 6,
        GET_DOC: 6,
        "prompts/get summarize": 6,
    }
    assert res["totals"]["failed"] == 0
    assert res["conversations"] == {**res["conversations"], "completed": 6, "ok": 6, "failed": 0}
    assert res["sessions"] == {**res["sessions"], "started": 2, "completed": 2, "failed": 0}


async def test_chain_check_catches_a_wrong_value(demo_url):
    """The control for the test above: the same check with another id fails every conversation."""
    agents = {"a": {"conversations_per_session": 3, "workflow": chain("doc-0000000000")}}
    res = (await run_scenario(make(demo_url, agents, even_then_quiet(2, "1s")), seed=1)).results
    assert sum(res["template_errors"].values()) == 6
    assert "prompts/get summarize" not in res["operations"]
    assert calls(res)[GET_DOC] == 6 and res["totals"]["failed"] == 0
    assert res["conversations"] == {**res["conversations"], "ok": 0, "failed": 6}


# 4. parallel


async def test_parallel_calls_overlap(slow_url):
    # one agent, one conversation: four rounds of two get_doc calls (~150 ms each) side by side
    pair = {"parallel": [{"call": "get_doc", "args": {"doc_id": "a"}}, {"call": "get_doc", "args": {"doc_id": "b"}}]}
    agents = {"a": {"conversations_per_session": 1, "workflow": [{"repeat": {"times": 4, "steps": [pair]}}]}}
    report = await run_scenario(make(slow_url, agents, even(1, "300ms")), seed=1)
    res = report.results
    assert res["conversations"]["ok"] == 1
    latency = res["operations"][GET_DOC]["latency_ms"]
    assert latency["count"] == 8
    one_after_another = latency["mean"] * latency["count"] / 1000  # seconds, had the calls not overlapped
    # the run lasted about the sum of the slower call of each pair: well under the sum of all calls
    assert res["duration_s"] < 0.85 * one_after_another, (res["duration_s"], one_after_another)
    assert res["duration_s"] > latency["max"] / 1000


# 5. retries


@pytest.mark.parametrize(
    ("on", "attempts_per_send"),
    [(["tool_error"], 3), (["timeout", "transport"], 1)],
    ids=["retried", "kind-not-retried"],
)
async def test_retries_and_wasted_tokens(slow_url, on, attempts_per_send):
    workflow = [
        {"call": "search_docs", "args": {"query": "x"}},
        {
            "call": "send_message",
            "args": {"to": "ops", "text": "hi"},
            "retry": {"attempts": 3, "backoff": "10ms", "on": on},
        },
        {"call": "get_doc", "args": {"doc_id": "never reached"}},
    ]
    agents = {"a": {"conversations_per_session": 2, "tokens_per_step": 100, "workflow": workflow}}
    scenario = make(slow_url, agents, even_then_quiet(3, "1s"), tokens={"price_per_1k": 0.5})
    res = (await run_scenario(scenario, seed=1)).results

    conversations = 3 * 2
    sends = conversations * attempts_per_send
    retries = conversations * (attempts_per_send - 1)
    assert calls(res) == {"server/discover": 3, SEARCH: conversations, SEND: sends}
    send = res["operations"][SEND]
    assert send["errors"] == {"tool_error": sends} and send["ok"] == 0
    assert send["retries"] == retries and send["latency_ms"]["count"] == conversations
    assert res["totals"]["retries"] == retries == (attempts_per_send - 1) * conversations
    if retries:
        assert res["retry_latency_ms"]["count"] == retries
    else:
        assert "retry_latency_ms" not in res
    # each failed conversation wastes everything it spent: the search and every send attempt
    tokens = conversations * 100 * (1 + attempts_per_send)
    assert res["conversations"] == {
        **res["conversations"],
        "completed": conversations,
        "ok": 0,
        "failed": conversations,
        "tokens": tokens,
        "wasted_tokens": tokens,
        "wasted_cost": tokens * 0.5 / 1000,
    }


# 7. graceful stop


async def test_graceful_stop_cuts_thinks_and_calls_as_interrupted(slow_url):
    agents = {
        "thinker": {"workflow": [{"call": "search_docs", "args": {"query": "x"}}, {"think": "30s"}]},
        "waiter": {"workflow": [{"call": STUCK, "args": {"message_id": "m1"}}]},
    }
    profile = {"type": "constant-agents", "agents": 4, "duration": "1s", "graceful_stop": "1s"}
    started = time.perf_counter()
    res = (await run_scenario(make(slow_url, agents, profile), seed=1)).results
    assert time.perf_counter() - started < 6
    assert res["duration_s"] == pytest.approx(2.0, abs=0.5)  # the profile's 1 s, then 1 s of grace
    assert res["interrupted_calls"] == 2  # the two waiters' calls, cut by the end of the grace period
    assert "tools/call get_delivery_report" not in res["operations"]
    assert res["totals"]["failed"] == 0 and res["errors"] == {} and res["top_errors"] == []
    assert calls(res)[SEARCH] == 2
    assert res["conversations"]["failed"] == 0  # a conversation cut by the run is not the server's failure
    assert res["sessions"] == {**res["sessions"], "started": 4, "completed": 4}
    assert res["intervals"][-1]["active_agents"] == 0


# 9. reproducibility


def random_workflow() -> list[dict[str, Any]]:
    return [
        {
            "call": "search_docs",
            "args": {"query": "{{ random_choice(['a', 'b', 'c']) }}", "limit": "{{ random_int(1, 5) }}"},
        },
        {
            "choice": [
                {"weight": 2, "steps": [{"call": "get_doc", "args": {"doc_id": "x"}}]},
                {"weight": 1, "steps": ["list_tools"]},
                {"weight": 1, "steps": []},
            ]
        },
        {"repeat": {"times": "1..3", "steps": [{"call": "get_doc", "args": {"doc_id": "y"}}, {"think": "1ms..3ms"}]}},
        {"repeat": {"times": "0..2", "steps": ["list_prompts"]}},
    ]


async def test_same_seed_same_calls(demo_url):
    agents = {"a": {"conversations_per_session": 4, "idle": "1ms..5ms", "workflow": random_workflow()}}
    scenario = make(demo_url, agents, even_then_quiet(5, "1s"))
    first = (await run_scenario(scenario, seed=11)).results
    second = (await run_scenario(scenario, seed=11)).results
    other = (await run_scenario(scenario, seed=12)).results
    assert first["conversations"]["ok"] == second["conversations"]["ok"] == other["conversations"]["ok"] == 20
    assert calls(first) == calls(second)
    assert calls(first) != calls(other)  # the seed does matter


async def test_same_seed_same_calls_with_random_parallel_branches(demo_url):
    left = {
        "repeat": {
            "times": "1..3",
            "steps": [
                {"call": "search_docs", "args": {"query": "q"}},
                {"choice": [{"steps": [{"call": "get_doc", "args": {"doc_id": "a"}}]}, {"steps": ["list_resources"]}]},
            ],
        }
    }
    right = {
        "repeat": {
            "times": "1..3",
            "steps": [
                {"call": "get_doc", "args": {"doc_id": "b"}},
                {"choice": [{"steps": ["list_tools"]}, {"steps": ["list_prompts"]}]},
            ],
        }
    }
    agents = {"a": {"conversations_per_session": 4, "workflow": [{"parallel": [left, right]}]}}
    scenario = make(demo_url, agents, even_then_quiet(5, "1s"))
    runs = [(await run_scenario(scenario, seed=3)).results for _ in range(3)]
    assert all(r["conversations"]["ok"] == 20 for r in runs)
    assert calls(runs[0]) == calls(runs[1]) == calls(runs[2])
