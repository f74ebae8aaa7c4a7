"""mcpload fit: the scenario it writes loads, and holds the measured numbers where they belong."""

from __future__ import annotations

import math

import pytest
import yaml

from mcpload.scenario import Scenario, walk
from mcpload.traffic.analysis import analyze
from mcpload.traffic.fit import write_fit
from mcpload.traffic.trace import read_trace
from tests.traffic.synth import synth_trace


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return analyze(read_trace(synth_trace(tmp_path_factory.mktemp("t") / "t.jsonl", sessions=80, seed=9)))


def fitted_mean(best):
    params = best["params"]
    if best["kind"] == "lognormal":
        return params["median"] * math.exp(params["sigma"] ** 2 / 2)
    return params["mean"]


def load(path):
    return Scenario.from_dict(yaml.safe_load(path.read_text()), str(path), base_dir=path.parent)


def test_fitted_scenario_holds_the_measured_numbers(analysis, tmp_path):
    scenario_file, data = write_fit(analysis, tmp_path / "t.jsonl", tmp_path / "fitted.yaml", scale=2)
    text = scenario_file.read_text()
    assert "# persona:" in text and "KS" in text and "measured" in text  # numbers say where they came from
    scenario = load(scenario_file)
    by_name = {p["name"]: p for p in analysis["personas"]}
    assert set(scenario.agents) == set(by_name)
    for name, agent in scenario.agents.items():
        p = by_name[name]
        assert agent.weight == p["sessions"]
        markov = agent.workflow[0]
        assert markov.kind == "markov"
        for dist, best in ((markov.think, p["gaps"]["think"]["best"]), (agent.idle, p["gaps"]["idle"]["best"])):
            assert dist.describe().startswith(best["kind"])
            assert dist.mean() == pytest.approx(fitted_mean(best), rel=0.01)
        assert {s.tool for s in walk(agent.workflow) if s.kind == "call"} == set(p["tools"])
    (profile,) = scenario.profiles
    assert profile.rate == pytest.approx(analysis["sessions"]["arrival_rate_per_s"] * 2, rel=1e-3)
    assert data.exists() and "search_docs" in data.read_text()


def test_fit_with_a_builtin_persona_keeps_the_trace_calls(analysis, tmp_path):
    scenario_file, _ = write_fit(analysis, tmp_path / "t.jsonl", tmp_path / "p.yaml", persona="chat-assistant")
    scenario = load(scenario_file)
    for agent in scenario.agents.values():
        assert agent.conversations_per_session == 2  # the persona's
    tools = {s.tool for a in scenario.agents.values() for s in walk(a.workflow) if s.kind == "call"}
    assert tools == set(analysis["tools"])


@pytest.mark.parametrize(
    ("option", "value"), [("scale", 0), ("duration", -1), ("profile", "sideways"), ("persona", "x")]
)
def test_bad_fit_options(analysis, tmp_path, option, value):
    with pytest.raises(ValueError, match=option):
        write_fit(analysis, tmp_path / "t.jsonl", tmp_path / "f.yaml", **{option: value})
