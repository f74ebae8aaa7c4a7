"""Preflight: before any load, connect once, settle transport and protocol, and check that every
tool the scenario names exists and that its literal arguments match the tool's ``inputSchema``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from mcpload.mcp.target import Target, connect


class PreflightError(Exception):
    """``code`` 3: target unreachable or not MCP; 2: the scenario does not fit the server."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Preflight:
    transport: str
    protocol: str
    era: str
    protocol_version: str
    server_info: dict[str, Any]
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    setup_ms: float = 0.0


async def preflight(
    target: Target, tool_names: dict[str, str], literal_calls: list[tuple[str, str, Any]], source: str
) -> Preflight:
    """Args:
    target: where the server is.
    tool_names: tool name → scenario path of a step naming it (for error messages).
    literal_calls: (scenario path, tool, literal arguments) to validate against the schemas.
    source: the scenario file, for error messages.
    """
    session, opened = await connect(target)
    if not opened.ok:
        raise PreflightError(f"{target.describe()}: not reachable as an MCP server ({opened.describe()})", 3)
    try:
        listed = await session.list_tools()
        if not listed.ok:
            raise PreflightError(f"{target.describe()}: tools/list failed ({listed.describe()})", 3)
        tools = {t["name"]: t for t in listed.result.get("tools", []) if isinstance(t, dict) and "name" in t}
        info = Preflight(
            transport=session.transport.name,
            protocol=session.protocol_version,
            era=session.era,
            protocol_version=session.protocol_version,
            server_info=session.server_info,
            tools=tools,
            setup_ms=round(opened.latency * 1000, 3),
        )
    finally:
        await session.close()
    for name, path in tool_names.items():
        if name not in tools:
            close = difflib.get_close_matches(name, list(tools), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (it offers: {', '.join(sorted(tools)) or 'none'})"
            raise PreflightError(f"{source}: {path}: tool {name!r} is not offered by the server{hint}", 2)
    for path, tool, args in literal_calls:
        problem = schema_problem(tools[tool].get("inputSchema"), args)
        if problem:
            raise PreflightError(f"{source}: {path}: arguments do not match {tool}'s inputSchema: {problem}", 2)
    return info


def schema_problem(schema: Any, args: Any) -> str | None:
    """The first validation error of ``args`` against ``schema``, or None."""
    if not isinstance(schema, dict):
        return None
    if _plainly_valid(schema, args):
        return None  # most tools' schemas: no need to import jsonschema (~50 ms of start-up CPU)
    import jsonschema

    from mcpload.mcp.samples import schema_too_big

    if schema_too_big(schema):
        return None  # a server's schema too large to check: not the scenario's fault, and not worth the time
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator = validator_cls(schema)
        error = next(iter(sorted(validator.iter_errors(args), key=lambda e: list(e.path))), None)
    except Exception:  # SchemaError, TypeError (minimum: "x"), RecursionError, re.error, an unresolvable $ref…
        return None  # the server's schema is broken: not the scenario's fault, and never our crash
    if error is None:
        return None
    where = "/".join(str(p) for p in error.path)
    return f"{where + ': ' if where else ''}{error.message}"


_ANNOTATIONS = frozenset(("title", "description", "default", "examples", "$schema", "$id", "$comment"))
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


def _type_ok(schema: dict, value: Any) -> bool:
    """``value`` certainly has ``schema``'s ``type`` (a bool is never an integer or a number here)."""
    kind = schema.get("type")
    if kind is None:
        return True
    kinds = kind if isinstance(kind, list) else [kind]
    for k in kinds:
        types = _TYPES.get(k) if isinstance(k, str) else None
        if types is not None and type(value) in types:
            return True
    return False


def _plainly_valid(schema: dict, args: Any) -> bool:
    """True when ``args`` is certainly valid against a plain object schema (``type``, ``properties`` of
    plain typed values, ``required``, boolean ``additionalProperties``, annotations). False means "not
    sure": jsonschema then decides and words the problem."""
    if not _ANNOTATIONS.issuperset(schema.keys() - {"type", "properties", "required", "additionalProperties"}):
        return False
    if schema.get("type", "object") != "object" or type(args) is not dict:
        return False
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if type(properties) is not dict or type(required) is not list or type(extra) is not bool:
        return False
    if any(name not in args for name in required):
        return False
    for name, value in args.items():
        sub = properties.get(name)
        if sub is None:
            if not extra:
                return False
            continue
        if sub is True:
            continue
        if type(sub) is not dict or not _ANNOTATIONS.issuperset(sub.keys() - {"type"}) or not _type_ok(sub, value):
            return False
    return True
