"""Sample arguments for a tool, derived from its JSON Schema ``inputSchema``.

Good enough to call each tool once (``mcpload diagnose``): defaults, examples, enums and consts
first, then the smallest value that satisfies the type and its bounds.
"""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 6


def sample_value(schema: Any, depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return "test"
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return sample_value((usable or options)[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        return sample_object(schema, depth + 1)
    if kind == "array":
        n = int(schema.get("minItems", 0) or 0)
        return [sample_value(schema.get("items"), depth + 1) for _ in range(n)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1))
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if kind == "string" or kind is None:
        fmt = schema.get("format")
        if fmt == "uri":
            return "https://example.com/"
        if fmt == "email":
            return "test@example.com"
        if fmt == "date-time":
            return "2026-01-01T00:00:00Z"
        text = "test"
        min_len = int(schema.get("minLength", 0) or 0)
        return (text * (min_len // len(text) + 1))[: max(min_len, len(text))]
    return "test"


def sample_object(schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Values for the required properties (all properties when none are marked required)."""
    props = schema.get("properties") or {}
    if not isinstance(props, dict):
        return {}
    required = schema.get("required")
    names = required if isinstance(required, list) else list(props)
    return {name: sample_value(props.get(name, {}), depth) for name in names if isinstance(name, str)}


def sample_arguments(tool: dict[str, Any]) -> dict[str, Any]:
    schema = tool.get("inputSchema")
    return sample_object(schema) if isinstance(schema, dict) else {}
