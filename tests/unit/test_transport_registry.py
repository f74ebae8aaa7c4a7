"""The transport registry is the one table: every transport in it is accepted everywhere a transport is
named (the target, the scenario model, the JSON Schema, the CLI help) and opens from a target.

A transport added in one place and not another fails here (see docs/architecture.md, "Adding a transport").
"""

from __future__ import annotations

import pytest
import typer.main

from mcpload.mcp.connect import Target
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.schema import scenario_schema
from mcpload.scenario.target_spec import parse_target
from mcpload.transports import registry
from mcpload.transports.base import Transport

ENTRIES = pytest.mark.parametrize("entry", registry.TRANSPORTS, ids=lambda entry: entry.name)


def place(entry: registry.TransportEntry) -> dict[str, object]:
    """A target of the kind ``entry`` needs."""
    return {"url": "http://127.0.0.1:9/mcp"} if entry.needs == "url" else {"command": ["server", "--stdio"]}


def other_place(entry: registry.TransportEntry) -> dict[str, object]:
    return {"command": ["server"]} if entry.needs == "url" else {"url": "http://127.0.0.1:9/mcp"}


def test_names_are_unique_and_auto_is_not_a_transport() -> None:
    names = [entry.name for entry in registry.TRANSPORTS]
    assert len(names) == len(set(names))
    assert registry.AUTO not in names
    assert (registry.AUTO, *names) == registry.NAMES


@ENTRIES
def test_the_class_is_a_transport_of_that_name_that_opens_from_a_target(entry: registry.TransportEntry) -> None:
    cls = registry.transport_class(entry.name)
    assert issubclass(cls, Transport)
    assert cls.name == entry.name, "Transport.name is what results and diagnose report"
    assert "from_target" in vars(cls) or any(
        "from_target" in vars(base) for base in cls.__mro__[1:] if base is not Transport
    ), f"{cls.__name__} does not define from_target"
    target = Target(transport=entry.name, **place(entry))  # type: ignore[arg-type]  # a str/list per need
    transport = target.make_transport(entry.name)
    assert type(transport) is cls
    assert target.candidate_transports() == [entry.name]


@ENTRIES
def test_the_target_and_the_scenario_accept_it_where_it_fits_only(entry: registry.TransportEntry) -> None:
    spec = parse_target({"transport": entry.name, **place(entry)})
    assert spec.transport == entry.name
    assert spec.to_target().transport == entry.name
    with pytest.raises(ScenarioError, match=f"transport {entry.name} needs"):
        parse_target({"transport": entry.name, **other_place(entry)})
    with pytest.raises(ValueError, match=f"transport {entry.name} needs"):
        Target(transport=entry.name, **other_place(entry))  # type: ignore[arg-type]


@ENTRIES
def test_auto_tries_it_for_the_targets_it_fits(entry: registry.TransportEntry) -> None:
    if entry.needs == "command":
        assert entry.name in Target(command=["server"]).candidate_transports()
        return
    assert entry.name in Target(url="http://127.0.0.1:9/mcp").candidate_transports()
    if entry.url_suffix:
        assert Target(url=f"http://127.0.0.1:9/x{entry.url_suffix}/").candidate_transports()[0] == entry.name


def test_auto_order_keeps_the_detection_rules() -> None:
    assert registry.auto_order("/mcp") == ["http", "sse"]
    assert registry.auto_order("/api/sse/") == ["sse", "http"]
    assert registry.auto_order("/sse", oauth=True) == ["http"]
    assert registry.auto_order(None) == ["stdio"]


def test_the_json_schema_lists_every_transport() -> None:
    target = scenario_schema()["$defs"]["target"]["properties"]["transport"]
    assert target["enum"] == list(registry.NAMES)
    for entry in registry.TRANSPORTS:
        assert f"{entry.name} ({entry.summary})" in target["description"]


@pytest.mark.parametrize("command", ["run", "capacity", "diagnose", "init"])
def test_the_cli_help_lists_every_transport(command: str) -> None:
    from mcpload.cli import app

    click_app = typer.main.get_command(app)
    sub = click_app.commands[command]  # type: ignore[attr-defined]  # a click Group
    (option,) = [param for param in sub.params if "--transport" in getattr(param, "opts", ())]
    assert option.help == registry.CHOICES_HELP
    for name in registry.NAMES:
        assert name in option.help


def test_legacy_sse_stays_in_the_handshake_era() -> None:
    """The session reads ``supports_modern`` to skip the 2026-07-28 probe: legacy SSE has no stateless era."""
    assert registry.transport_class("sse").supports_modern is False
    assert registry.transport_class("http").supports_modern is True
