"""The one rule set for changes to a scenario's target (``scenario.target_spec.TargetOverrides``): the
command line (``target_for_run``, what ``run``/``capacity``/``replay`` call), ``Scenario.to_target`` and
``run_load`` (``testing.run.build_scenario``) give the same target for every override, on a URL or a
stdio target, its transport left ``auto`` or pinned."""

from __future__ import annotations

import pytest

from mcpload.scenario import Scenario, ScenarioError
from mcpload.scenario.command_line import target_for_run
from mcpload.scenario.target_spec import OVERRIDES, TargetOverrides
from mcpload.testing.run import build_scenario

URL = "http://127.0.0.1:1/mcp"
NEW_URL = "http://127.0.0.1:2/mcp"
PROFILES = [{"type": "constant-agents", "agents": 1, "duration": "1s"}]
AGENTS = {"a": {"workflow": [{"call": "echo"}]}}

#: the scenario's target: a URL or a stdio command, its transport auto or pinned
BASES = {
    "url/auto": {"url": URL},
    "url/http": {"url": URL, "transport": "http"},
    "url/sse": {"url": "http://127.0.0.1:1/sse", "transport": "sse"},
    "stdio/auto": {"command": "srv a"},
    "stdio/stdio": {"command": "srv a", "transport": "stdio"},
}


def _scenario(base: str) -> Scenario:
    target = {**BASES[base], "headers": {"X-A": "1", "X-B": "1"}}
    return Scenario.from_dict({"target": target, "agents": AGENTS, "profiles": PROFILES}, source="<test>")


# (override name, the command line's value, the Python API's value)
OVERRIDE_VALUES = {
    "url": (NEW_URL, NEW_URL),
    "stdio_cmd": ("srv 'b c'", ["srv", "b c"]),
    "transport": ("sse", "sse"),
    "protocol": ("2025-06-18", "2025-06-18"),
    "headers": (("X-B: 2", "X-C:3"), {"X-B": "2", "X-C": "3"}),
    "bearer_env": ("MCPLOAD_TEST_TOKEN", "MCPLOAD_TEST_TOKEN"),
    "connections": ("shared:4", "shared:4"),
    "insecure": (True, True),
}

# What each override gives on each base: (url, command, transport), the other field changed, or an error.
# Written out, not computed: this table is the rule set's specification.
EXPECTED: dict[tuple[str, str], tuple[str | None, list[str] | None, str] | str] = {
    ("url", "url/auto"): (NEW_URL, None, "auto"),
    ("url", "url/http"): (NEW_URL, None, "http"),  # a pinned HTTP transport is kept
    ("url", "url/sse"): (NEW_URL, None, "sse"),
    ("url", "stdio/auto"): (NEW_URL, None, "auto"),  # stdio no longer fits: back to auto
    ("url", "stdio/stdio"): (NEW_URL, None, "auto"),
    ("stdio_cmd", "url/auto"): (None, ["srv", "b c"], "stdio"),
    ("stdio_cmd", "url/http"): (None, ["srv", "b c"], "stdio"),
    ("stdio_cmd", "url/sse"): (None, ["srv", "b c"], "stdio"),
    ("stdio_cmd", "stdio/auto"): (None, ["srv", "b c"], "stdio"),
    ("stdio_cmd", "stdio/stdio"): (None, ["srv", "b c"], "stdio"),
    ("transport", "url/auto"): (URL, None, "sse"),
    ("transport", "url/http"): (URL, None, "sse"),
    ("transport", "url/sse"): ("http://127.0.0.1:1/sse", None, "sse"),
    ("transport", "stdio/auto"): "needs a URL",
    ("transport", "stdio/stdio"): "needs a URL",
}


def _expected(name: str, base: str) -> tuple[str | None, list[str] | None, str] | str:
    if (name, base) in EXPECTED:
        return EXPECTED[name, base]
    # every other override leaves the place and the transport as the scenario has them
    place = BASES[base]
    transport = place.get("transport", "stdio" if "command" in place else "auto")
    return (place.get("url"), ["srv", "a"] if "command" in place else None, transport)


OTHER_FIELD = {  # the field each remaining override changes, and its value afterwards
    "protocol": ("protocol", "2025-06-18"),
    "headers": ("headers", {"X-A": "1", "X-B": "2", "X-C": "3"}),  # added, a name given again replaced
    "bearer_env": ("bearer_env", "MCPLOAD_TEST_TOKEN"),
    "connections": ("connections", "shared:4"),
    "insecure": ("verify_tls", False),
}


def _three_ways(scenario: Scenario, name: str):
    """The target by the command line, by ``Scenario.to_target`` and (where it has the option) ``run_load``."""
    cli_value, api_value = OVERRIDE_VALUES[name]
    yield "command line", lambda: target_for_run(scenario, TargetOverrides(**{name: cli_value}))
    api_name = "command" if name == "stdio_cmd" else name
    yield "Scenario.to_target", lambda: scenario.to_target({api_name: api_value})
    if api_name in ("url", "command", "headers"):
        yield "run_load", lambda: build_scenario(scenario, **{api_name: api_value})[1]


@pytest.mark.parametrize("base", list(BASES))
@pytest.mark.parametrize("name", list(OVERRIDE_VALUES))
def test_each_override_on_each_target_is_one_rule(name, base, monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_TOKEN", "t")
    scenario = _scenario(base)
    expected = _expected(name, base)
    for way, make in _three_ways(scenario, name):
        if isinstance(expected, str):
            with pytest.raises(ValueError, match=expected):
                make()
            continue
        target = make()
        assert (target.url, target.command, target.transport) == expected, way
        if name in OTHER_FIELD:
            field, value = OTHER_FIELD[name]
            assert getattr(target, field) == value, way


def test_every_override_is_in_the_table():
    assert set(OVERRIDES) == {*OVERRIDE_VALUES, "ca_file"}  # ca_file: test_tls_overrides (needs a PEM file)


@pytest.mark.parametrize("base", [{"insecure": True}, {}, {"ca_file": "CA"}])
def test_tls_overrides(base):
    ca = pytest.importorskip("certifi").where()  # a real PEM bundle: the Target loads it
    target = {"url": "https://127.0.0.1:1/mcp", **{k: ca if v == "CA" else v for k, v in base.items()}}
    scenario = Scenario.from_dict({"target": target, "agents": AGENTS, "profiles": PROFILES}, source="<test>")
    for make in (
        lambda overrides: target_for_run(scenario, TargetOverrides(**overrides)),
        lambda overrides: scenario.to_target(overrides),
    ):
        trusted = make({"ca_file": ca})  # turns verification back on over the scenario's insecure
        assert (trusted.verify_tls, trusted.ca_file) == (True, ca)
        blind = make({"insecure": True})  # drops the scenario's ca_file
        assert (blind.verify_tls, blind.ca_file) == (False, None)
        with pytest.raises(ValueError, match="exclude each other"):
            make({"insecure": True, "ca_file": ca})


@pytest.mark.parametrize(
    ("target", "overrides", "place"),
    [
        (None, {"url": NEW_URL}, (NEW_URL, None, "auto")),
        (None, {"stdio_cmd": "srv b"}, (None, ["srv", "b"], "stdio")),
        ({"transport": "http", "headers": {"X-A": "1"}}, {"url": NEW_URL}, (NEW_URL, None, "http")),
        ({"transport": "stdio"}, {"url": NEW_URL}, (NEW_URL, None, "auto")),
        ({"transport": "http"}, {"stdio_cmd": "srv b"}, (None, ["srv", "b"], "stdio")),
    ],
)
def test_a_scenario_that_places_no_server_takes_the_override(target, overrides, place):
    data = {"agents": AGENTS, "profiles": PROFILES}
    if target is not None:
        data["target"] = target
    scenario = Scenario.from_dict(data, source="<test>")
    for made in (target_for_run(scenario, TargetOverrides(**overrides)), scenario.to_target(overrides)):
        assert (made.url, made.command, made.transport) == place
    with pytest.raises(ScenarioError, match="<test>: target: no target"):
        target_for_run(scenario, TargetOverrides(protocol="2025-06-18"))


def test_override_errors():
    scenario = _scenario("url/auto")
    with pytest.raises(ScenarioError, match="<test>: target: 'timeout' is not a target override"):
        scenario.to_target({"timeout": 3})
    with pytest.raises(ValueError, match="give url= or command=, not both"):
        build_scenario(scenario, url=NEW_URL, command="srv")
    # two servers at once: refused by the command line and the Python API alike, whatever the scenario has
    no_target = Scenario.from_dict({"agents": AGENTS, "profiles": PROFILES}, source="<test>")
    for on in (_scenario("url/auto"), _scenario("stdio/stdio"), no_target):
        with pytest.raises(ValueError, match="--url and --stdio-cmd exclude each other"):
            target_for_run(on, TargetOverrides(url=NEW_URL, stdio_cmd="srv b"))
        with pytest.raises(ValueError, match="--url and --stdio-cmd exclude each other"):
            on.to_target({"url": NEW_URL, "command": ["srv", "b"]})
    # a bad value: the command line's own words, the Python API's as a scenario error naming its source
    with pytest.raises(ValueError, match=r"^--header 'X-Key': the value") as bad:
        target_for_run(scenario, TargetOverrides(headers=("X-Key: secret\x00",)))
    assert "secret" not in str(bad.value)
    with pytest.raises(ScenarioError, match=r"^<test>: target: header the value of X-Key"):
        scenario.to_target({"headers": {"X-Key": "secret\x00"}})
