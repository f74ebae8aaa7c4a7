"""The plan of a run (``--dry-run``), worked out from the scenario: agents, rates, expected calls/s."""

import pytest

from mcpload.plan import plan
from mcpload.scenario import Scenario


def make(agents: dict, profiles: list) -> Scenario:
    return Scenario.from_dict({"target": {"url": "http://127.0.0.1:1/mcp"}, "agents": agents, "profiles": profiles})


def test_closed_agents_split_by_weight_and_calls_from_think_and_idle():
    s = make(
        {
            "a": {"weight": 3, "workflow": [{"call": "x"}, {"think": "1s"}, {"call": "y"}], "idle": "3s"},
            "b": {"weight": 1, "workflow": [{"call": "x"}, {"think": "1s..3s"}], "idle": "2s"},
        },
        [{"type": "constant-agents", "agents": 8, "duration": "1m"}],
    )
    p = plan(s)
    assert p.duration_s == 60 and p.peak_agents == 8
    assert p.agents_per_type == {"a": 6, "b": 2}
    assert p.workloads["a"].calls == 2 and p.workloads["a"].cycle_s == 4
    assert p.workloads["b"].cycle_s == 4
    assert p.peak_calls_per_s == pytest.approx(6 * 2 / 4 + 2 * 1 / 4)
    assert p.mean_calls_per_s == pytest.approx(p.peak_calls_per_s)
    assert p.peak_arrival_rate == 0 and p.notes == []


def test_parallel_repeat_choice():
    workflow = [
        {"parallel": [{"call": "x"}, {"repeat": {"times": 1, "steps": [{"think": "2s"}, {"call": "y"}]}}]},
        {"repeat": {"times": 3, "steps": [{"call": "z"}, {"think": "1s"}]}},
        {"choice": [{"weight": 1, "steps": [{"call": "x"}]}, {"weight": 3, "steps": [{"think": "4s"}]}]},
        {"list_tools": {}},
    ]
    p = plan(make({"a": {"workflow": workflow}}, [{"type": "constant-agents", "agents": 1, "duration": "10s"}]))
    w = p.workloads["a"]
    assert w.calls == pytest.approx(2 + 3 + 0.25)
    assert w.requests == pytest.approx(w.calls + 1)
    assert w.think_s == pytest.approx(2 + 3 + 3)


def test_ramp_peak_and_open_arrivals():
    s = make(
        {"a": {"workflow": [{"call": "x"}, {"think": "2s"}, {"call": "y"}]}},
        [
            {"type": "ramping-agents", "stages": [{"duration": "10s", "target": 20}, {"duration": "10s", "target": 0}]},
            {"type": "agent-arrival-rate", "rate": 5, "duration": "20s", "start": "5s", "max_agents": 100},
        ],
    )
    p = plan(s)
    assert p.duration_s == 25
    assert p.peak_arrival_rate == pytest.approx(5)
    # at the top of the ramp: 20 closed agents + 5/s arrivals living ~2 s each
    assert p.peak_agents == 20 + 10
    assert p.peak_calls_per_s == pytest.approx(20 * 2 / 2 + 5 * 2)


def test_no_think_no_idle_is_unbounded():
    p = plan(make({"a": {"workflow": [{"call": "x"}]}}, [{"type": "constant-agents", "agents": 2, "duration": "5s"}]))
    assert p.peak_calls_per_s is None and p.mean_calls_per_s is None
    assert any("no think or idle time" in n for n in p.notes)


def test_open_only_rates():
    s = make(
        {"a": {"workflow": [{"call": "x"}, {"think": "1s"}, {"call": "y"}]}},
        [{"type": "agent-arrival-rate", "rate": 60, "time_unit": "1m", "duration": "30s"}],
    )
    p = plan(s)
    assert p.peak_arrival_rate == pytest.approx(1)
    assert p.peak_calls_per_s == pytest.approx(2)
    assert p.peak_agents == 1
