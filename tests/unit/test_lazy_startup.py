"""Start-up stays lean: heavy modules load where they are used, and the fast schema check agrees with
jsonschema."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mcpload.engine import preflight
from mcpload.engine.preflight import schema_problem


def _loaded(code: str) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name.partition(".")[0] for name in out.stdout.split()}


HEAVY = {"jinja2", "jsonschema", "psutil", "prometheus_client", "plotly", "opentelemetry", "mcp"}


def test_import_mcpload_loads_nothing_heavy():
    loaded = _loaded("import mcpload")
    assert not loaded & (HEAVY | {"yaml", "typer", "rich"})
    assert "mcpload" in loaded


def test_public_api_still_resolves():
    import mcpload

    for name in mcpload.__all__:
        assert getattr(mcpload, name) is not None
    from mcpload import Session, Target, connect, run_scenario  # noqa: F401

    with pytest.raises(AttributeError):
        mcpload.no_such_name  # noqa: B018


def test_a_scenario_without_templates_or_monitoring_does_not_import_them():
    code = (
        "import mcpload.cli, mcpload.engine.agent\n"
        "from mcpload.scenario import Scenario\n"
        "from mcpload.monitor import MonitorConfig, monitoring\n"
        "s = Scenario.from_dict({'target': {'url': 'http://127.0.0.1:1/mcp'},"
        " 'agents': {'a': {'workflow': [{'call': 'echo', 'args': {'message': 'hi'}}]}},"
        " 'profiles': [{'type': 'constant-agents', 'agents': 1, 'duration': '1s'}]})\n"
        "with monitoring(MonitorConfig()) as m: assert m is None\n"
        "from mcpload.engine.preflight import schema_problem\n"
        "assert schema_problem({'type': 'object', 'properties': {'message': {'type': 'string'}}}, {'message': 'x'})"
        " is None\n"
    )
    assert not _loaded(code) & {"jinja2", "jsonschema", "psutil", "prometheus_client"}


def test_templates_still_compile_lazily():
    from mcpload.scenario.templates import compile_args, environment

    args = compile_args({"q": "{{ saved.x }}", "n": 1}, "args")
    assert not args.is_literal
    assert environment() is environment()


SCHEMA = {
    "type": "object",
    "title": "search_docsArguments",
    "properties": {
        "query": {"title": "Query", "type": "string"},
        "limit": {"default": 5, "title": "Limit", "type": "integer"},
        "ratio": {"type": ["number", "null"]},
        "anything": {"description": "no type"},
        "flag": {"type": "boolean"},
    },
    "required": ["query"],
}


@pytest.mark.parametrize(
    "schema, args",
    [
        (SCHEMA, {"query": "x"}),
        (SCHEMA, {"query": "x", "limit": 3, "ratio": None, "anything": [1], "flag": False}),
        (SCHEMA, {"query": "x", "extra": 1}),
        (SCHEMA, {}),  # required missing
        (SCHEMA, {"query": 1}),  # wrong type
        (SCHEMA, {"query": "x", "limit": True}),  # a bool is not an integer
        (SCHEMA, {"query": "x", "limit": 1.0}),  # jsonschema decides (draft 2020-12: an integer)
        (SCHEMA, {"query": "x", "limit": 1.5}),
        (SCHEMA, {"query": "x", "flag": 0}),
        ({**SCHEMA, "additionalProperties": False}, {"query": "x", "extra": 1}),
        ({**SCHEMA, "additionalProperties": False}, {"query": "x"}),
        ({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}, {"n": 1}),
        ({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}, {"n": 4}),
        ({"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string"}}}}, {"xs": [1]}),
        ({"type": "object"}, []),
        ({"type": "object", "properties": {"x": False}}, {"x": 1}),
        ({"type": "object", "properties": {"x": True}}, {"x": 1}),
    ],
)
def test_fast_schema_check_agrees_with_jsonschema(schema, args, monkeypatch):
    fast = schema_problem(schema, args)
    monkeypatch.setattr(preflight, "_plainly_valid", lambda schema, args: False)
    assert fast == schema_problem(schema, args)
