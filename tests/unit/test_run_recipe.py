"""The command line's scenario and target (``scenario.command_line``, ``scenario.target_spec.TargetOverrides``):
the override rules ``run``/``capacity`` have always applied, and the recipe a Ray actor rebuilds them from."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mcpload.scenario import Scenario, ScenarioError
from mcpload.scenario.command_line import RunRecipe, scenario_for_run, target_for_run
from mcpload.scenario.target_spec import TargetOverrides

WORKFLOW = {"agent": {"workflow": [{"call": "echo", "args": {}}]}}
PROFILE = [{"type": "constant-agents", "agents": 3, "duration": "5s"}]


def _scenario(target: dict | None) -> Scenario:
    data = {"agents": WORKFLOW, "profiles": PROFILE}
    if target is not None:
        data["target"] = target
    return Scenario.from_dict(data, source="<test>")


@pytest.mark.parametrize("pinned", ["http", "sse"])
def test_a_new_url_keeps_a_pinned_http_transport(pinned):
    s = _scenario({"url": "http://127.0.0.1:1/mcp", "transport": pinned})
    target = target_for_run(s, TargetOverrides(url="http://127.0.0.1:2/mcp"))
    assert (target.url, target.transport, target.command) == ("http://127.0.0.1:2/mcp", pinned, None)


def test_a_new_url_drops_stdio_and_a_command_sets_it():
    s = _scenario({"command": "python -m server"})
    assert target_for_run(s, TargetOverrides(url="http://127.0.0.1:2/mcp")).transport == "auto"
    t = target_for_run(_scenario({"url": "http://127.0.0.1:1/mcp"}), TargetOverrides(stdio_cmd="srv --x 'a b'"))
    assert (t.url, t.command, t.transport) == (None, ["srv", "--x", "a b"], "stdio")
    explicit = TargetOverrides(stdio_cmd="srv", transport="auto")
    assert target_for_run(_scenario({"url": "http://127.0.0.1:1/mcp"}), explicit).transport == "auto"


def test_tls_and_headers_overrides():
    ca = pytest.importorskip("certifi").where()  # a real PEM bundle: the Target loads it
    s = _scenario({"url": "https://127.0.0.1:1/mcp", "insecure": True, "headers": {"A": "1", "B": "2"}})
    t = target_for_run(s, TargetOverrides(ca_file=ca, headers=("B: 3", "C:4")))
    assert (t.verify_tls, t.ca_file) == (True, ca)
    assert t.headers == {"A": "1", "B": "3", "C": "4"}
    assert target_for_run(s, TargetOverrides()).verify_tls is False
    with pytest.raises(ValueError, match="exclude each other"):
        target_for_run(s, TargetOverrides(insecure=True, ca_file=ca))
    with pytest.raises(ValueError, match="expected 'Name: value'"):
        target_for_run(s, TargetOverrides(headers=("Authorization",)))
    with pytest.raises(ValueError, match="--header 'X-Key'") as bad:
        target_for_run(s, TargetOverrides(headers=("X-Key: secret-token\x00",)))
    assert "secret-token" not in str(bad.value)


def test_a_scenario_without_target_takes_the_command_line_one():
    s = _scenario(None)
    with pytest.raises(ScenarioError, match="no target"):
        target_for_run(s, TargetOverrides())
    assert target_for_run(s, TargetOverrides(url="http://127.0.0.1:3/mcp")).url == "http://127.0.0.1:3/mcp"
    assert target_for_run(s, TargetOverrides(stdio_cmd="srv a")).command == ["srv", "a"]


def test_ad_hoc_scenario_and_profile_replacement(tmp_path):
    s = scenario_for_run(None, "http://127.0.0.1:1/mcp", None, "echo", '{"m": 1}', "1s", None, "7s")
    assert s.name == "ad-hoc echo" and s.profiles[0].duration == 7 and s.profiles[0].agents == 1
    with pytest.raises(ValueError, match="needs --url or --stdio-cmd"):
        scenario_for_run(None, None, None, "echo", "{}", None, None, None)
    with pytest.raises(ValueError, match="--args: not valid JSON"):
        scenario_for_run(None, "http://127.0.0.1:1/mcp", None, "echo", "{", None, None, None)
    path = tmp_path / "s.yaml"
    path.write_text(
        "target: {url: 'http://127.0.0.1:1/mcp'}\nagents: {a: {workflow: [{call: echo}]}}\n"
        "profiles: [{type: constant-agents, agents: 4, duration: 9s}]\n"
    )
    kept = scenario_for_run(path, None, None, None, "{}", None, 2, None)
    assert (kept.profiles[0].agents, kept.profiles[0].duration) == (2, 9)
    with pytest.raises(ValueError, match="--tool is for ad-hoc runs"):
        scenario_for_run(path, None, None, "echo", "{}", None, None, None)
    with pytest.raises(ValueError, match="must be at least 1"):
        scenario_for_run(path, None, None, None, "{}", None, 0, None)


def test_the_recipe_travels_and_rebuilds_the_same_run(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(
        "agents: {a: {workflow: [{call: echo}]}}\nprofiles: [{type: constant-agents, agents: 2, duration: 3s}]\n"
    )
    monkeypatch.chdir(tmp_path)
    recipe = RunRecipe(
        scenario_file=Path("s.yaml"), agents=5, trace_context=0.25,
        target=TargetOverrides(url="http://127.0.0.1:4/mcp", headers=("X-A: 1",)),
    ).resolved()  # fmt: skip
    assert recipe.scenario_file == path.resolve()
    scenario, target = pickle.loads(pickle.dumps(recipe))()
    assert scenario.profiles[0].agents == 5
    assert (target.url, target.headers["X-A"], target.trace_context) == ("http://127.0.0.1:4/mcp", "1", 0.25)


@pytest.mark.parametrize("command", ["run", "capacity"])
def test_url_and_stdio_cmd_together_are_refused_in_one_line(command):
    # two servers: neither may win silently (the command used to)
    from tests.helpers import mcpload_in_process

    done = mcpload_in_process(command, "--url", "http://127.0.0.1:9/mcp", "--stdio-cmd", "srv", "--tool", "echo")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip().splitlines() == [
        "mcpload: --url and --stdio-cmd exclude each other: give the server one way"
    ]
