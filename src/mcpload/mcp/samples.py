"""Sample arguments for a tool, derived from its JSON Schema ``inputSchema``.

Deterministic and readable (a person reads them in the scenario ``init`` writes): ``examples``,
``default``, ``const`` and ``enum`` first, then the smallest value that satisfies the type, its bounds
and its format. Local ``$ref`` s are followed. The schema comes from the server and is untrusted, so
generation is bounded — depth, number of values, string length and item count — and never raises:
a value that could not satisfy the schema (``minLength: 1e9``, a contradiction, an unknown regex) is
reported by :func:`valid_arguments`, which checks the result with ``jsonschema``.

Why not hypothesis-jsonschema: it draws random values (unreadable in a scenario, different each run),
drags hypothesis into the core install, gives up (``Unsatisfiable``) or takes long on the hostile
schemas a server can send, and lags behind current drafts. A small deterministic generator checked by
``jsonschema`` (already a core dependency) gives readable values in bounded time, and says plainly
when a tool needs its arguments written by hand.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_DEPTH = 8  # nesting of objects/arrays/combinators/$ref followed
MAX_NODES = 400  # values generated for one tool
MAX_STRING = 1024  # longest string generated (a minLength above it cannot be met)
MAX_ITEMS = 32  # longest array generated
MAX_REF_CHARS = 256
MAX_SCHEMA_NODES = 20_000  # a larger inputSchema is not validated (jsonschema's time grows with it)

_FORMATS = {
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "/test",
    "email": "test@example.com",
    "idn-email": "test@example.com",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "regex": "test",
    "json-pointer": "/test",
}
# candidates tried against a ``pattern`` (short, so even a pathological regex stays fast)
_PATTERN_CANDIDATES = ("test", "a", "A", "0", "1", "abc", "ABC", "a1", "test-1", "test_1", "x@example.com", "")


class _Budget:
    __slots__ = ("left", "root")

    def __init__(self, root: Any) -> None:
        self.left = MAX_NODES
        self.root = root


def _number(value: Any) -> float | None:
    """A finite JSON number, or None (bounds such as ``minimum: "x"`` are ignored)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _resolve(schema: dict[str, Any], budget: _Budget) -> Any:
    """Follow a local ``$ref`` (``#/$defs/x``, ``#/definitions/x``, ``#``); anything else stays as it is."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#") or len(ref) > MAX_REF_CHARS:
        return schema
    node: Any = budget.root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {k: v for k, v in schema.items() if k != "$ref"}
    if not isinstance(node, dict):
        return node
    rest = {k: v for k, v in schema.items() if k != "$ref"}
    return {**node, **rest} if rest else node


def _value(schema: Any, depth: int, budget: _Budget) -> Any:
    budget.left -= 1
    if schema is True or schema is None:
        return "test"
    if not isinstance(schema, dict) or depth > MAX_DEPTH or budget.left <= 0:
        return None if depth > MAX_DEPTH or budget.left <= 0 else "test"
    if "$ref" in schema:
        schema = _resolve(schema, budget)
        if not isinstance(schema, dict):
            return "test"
        depth += 1
    if "const" in schema:
        return schema["const"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "default" in schema:
        return schema["default"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of and all(isinstance(s, dict) for s in all_of[:16]):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in all_of[:16]:
            part = _resolve(part, budget)
            if isinstance(part, dict):
                for k, v in part.items():
                    if k == "properties" and isinstance(v, dict) and isinstance(merged.get(k), dict):
                        merged[k] = {**merged[k], **v}
                    elif k == "required" and isinstance(v, list) and isinstance(merged.get(k), list):
                        merged[k] = [*merged[k], *v]
                    else:
                        merged.setdefault(k, v)
        return _value(merged, depth + 1, budget)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options[:64] if not (isinstance(o, dict) and o.get("type") == "null")]
            base = {k: v for k, v in schema.items() if k not in (key, "anyOf", "oneOf")}
            first = (usable or options)[0]
            first = _resolve(first, budget) if isinstance(first, dict) else first
            return _value({**base, **first} if isinstance(first, dict) else first, depth + 1, budget)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind[:8] if isinstance(k, str)]
        kind = next((k for k in kinds if k != "null"), "null" if kinds else None)
    if kind == "object" or (kind is None and isinstance(schema.get("properties"), dict)):
        return _object(schema, depth + 1, budget)
    if kind == "array":
        return _array(schema, depth + 1, budget)
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _float(schema)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string(schema)


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low exclusive, high exclusive), for drafts 4 (boolean exclusive*) and 6+ (numbers)."""
    low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
    low_ex = high_ex = False
    ex_min, ex_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if ex_min is True:
        low_ex = low is not None
    elif _number(ex_min) is not None and (low is None or _number(ex_min) >= low):  # type: ignore[operator]
        low, low_ex = _number(ex_min), True
    if ex_max is True:
        high_ex = high is not None
    elif _number(ex_max) is not None and (high is None or _number(ex_max) <= high):  # type: ignore[operator]
        high, high_ex = _number(ex_max), True
    return low, high, low_ex, high_ex


def _integer(schema: dict[str, Any]) -> int:
    low, high, low_ex, high_ex = _bounds(schema)
    step = _number(schema.get("multipleOf"))
    step_i = int(step) if step is not None and step >= 1 and step == int(step) and step < 1e15 else 1
    if low is not None and abs(low) < 1e15:
        start = math.floor(low) + 1 if low_ex or low != math.floor(low) else int(low)
    elif high is not None and abs(high) < 1e15:
        start = min(1, math.ceil(high) - 1 if high_ex or high != math.ceil(high) else int(high))
    else:
        start = 1
    if step_i > 1:
        start = -(-start // step_i) * step_i  # the first multiple at or above start
    return start


def _float(schema: dict[str, Any]) -> float | int:
    low, high, low_ex, high_ex = _bounds(schema)
    step = _number(schema.get("multipleOf"))
    if step is not None and step > 0:
        return _integer(schema) if step == int(step) else step * max(1, math.ceil((low or 0) / step) + low_ex)
    if low is not None:
        value = low + 1 if low_ex else low
        if high is not None and (value > high or (high_ex and value >= high)):
            value = (low + high) / 2
        return value
    if high is not None:
        return min(1, high - 1) if high_ex else min(1, high)
    return 1


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    text = _FORMATS.get(fmt, "test") if isinstance(fmt, str) else "test"
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and len(pattern) <= 512:
        try:
            regex = re.compile(pattern)
        except (re.error, RecursionError, OverflowError):
            regex = None
        if regex is not None and not regex.search(text):
            text = next((c for c in _PATTERN_CANDIDATES if regex.search(c)), text)
    low = _number(schema.get("minLength"))
    high = _number(schema.get("maxLength"))
    if low is not None and len(text) < low:
        want = int(min(low, MAX_STRING))
        text = (text * (want // max(len(text), 1) + 1))[:want] if text else "x" * want
    if high is not None and 0 <= high < len(text):
        text = text[: int(high)]
    return text


def _array(schema: dict[str, Any], depth: int, budget: _Budget) -> list[Any]:
    prefix = schema.get("prefixItems")
    items = schema.get("items")
    if isinstance(items, list):  # draft 4-7 tuple form
        prefix, items = items, schema.get("additionalItems")
    low = _number(schema.get("minItems")) or 0
    want = int(min(max(low, 0), MAX_ITEMS))
    prefix = prefix[:MAX_ITEMS] if isinstance(prefix, list) else []
    values = [_value(s, depth, budget) for s in prefix[: max(want, 0)]]
    while len(values) < want and budget.left > 0:
        values.append(_value(items, depth, budget))
    if schema.get("uniqueItems") is True and len(values) > 1 and all(isinstance(v, str) for v in values):
        values = [f"{v}{i}" if i else v for i, v in enumerate(values)]
    return values


def _object(schema: dict[str, Any], depth: int, budget: _Budget) -> dict[str, Any]:
    """Values for the required properties (all properties when none are marked required)."""
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    required = schema.get("required")
    names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else list(props)
    low = _number(schema.get("minProperties")) or 0
    if len(names) < low:  # a few optional ones to reach minProperties
        names += [n for n in props if n not in names][: int(min(low, MAX_ITEMS)) - len(names)]
    out: dict[str, Any] = {}
    for name in names[: MAX_ITEMS * 4]:
        if budget.left <= 0:
            break
        sub = props.get(name)
        if sub is None:
            extra = schema.get("additionalProperties")
            sub = extra if isinstance(extra, dict) else {}
        out[name] = _value(sub, depth, budget)
    return out


def sample_value(schema: Any, root: Any = None) -> Any:
    """A value for ``schema`` (best effort, never raises; check it with :func:`problem`)."""
    try:
        return _value(schema, 0, _Budget(schema if root is None else root))
    except RecursionError:
        return None


def sample_object(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments for an object schema (best effort, never raises)."""
    try:
        value = _value(schema, 0, _Budget(schema))
    except RecursionError:
        return {}
    return value if isinstance(value, dict) else {}


def sample_arguments(tool: dict[str, Any]) -> dict[str, Any]:
    schema = tool.get("inputSchema")
    return sample_object(schema) if isinstance(schema, dict) else {}


def problem(schema: Any, value: Any) -> str | None:
    """Why ``value`` does not validate against ``schema`` (one line), or None when it does."""
    if not isinstance(schema, dict):
        return None
    if _too_big(schema):
        return f"inputSchema too large to check (over {MAX_SCHEMA_NODES} values)"
    import jsonschema

    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        error = jsonschema.exceptions.best_match(cls(schema).iter_errors(value))
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"inputSchema is not a valid JSON Schema ({where + ': ' if where else ''}{_short(exc.message)})"
    except Exception as exc:  # RecursionError, re.error, referencing's Unresolvable…: a broken schema, not our crash
        return f"inputSchema cannot be checked ({type(exc).__name__})"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{_short(error.message)}"


def _too_big(schema: dict[str, Any]) -> bool:
    """More than MAX_SCHEMA_NODES values in it, keys and list items included (counted without recursion,
    stopping early): jsonschema's time grows with the schema, and a 1,000,000-value enum is not worth it."""
    stack: list[Any] = [schema]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1 + len(node)
        if seen > MAX_SCHEMA_NODES:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend(c for c in children if isinstance(c, dict | list))
    return False


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_arguments(tool: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Sample arguments and why they do not validate against the tool's ``inputSchema`` (None: they do)."""
    args = sample_arguments(tool)
    return args, problem(tool.get("inputSchema"), args)
