"""Sample arguments (``mcp/samples.py``): valid against satisfiable schemas (checked with jsonschema, over
many generated schemas), and bounded in time and memory — never a crash — on hostile ones a server
may send (``minLength: 1e9``, ``minItems: 1e9``, ``minimum: "x"``, recursive ``$ref``, huge enums …)."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpload.mcp.samples import MAX_ITEMS, MAX_STRING, problem, sample_arguments, sample_value, valid_arguments


def deep(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}, "required": ["x"]}
    return schema


HOSTILE = {
    "minLength 1e9": {"type": "string", "minLength": 1_000_000_000},
    "minItems 1e9": {"type": "array", "minItems": 1_000_000_000, "items": {"type": "string"}},
    "minItems 1e9 of objects": {"type": "array", "minItems": 10**9, "items": deep(3)},
    "minimum x": {"type": "integer", "minimum": "x", "maximum": [1]},
    "number bounds odd": {"type": "number", "minimum": float("nan"), "maximum": float("inf"), "multipleOf": -3},
    "integer huge bounds": {"type": "integer", "minimum": 1e300, "exclusiveMaximum": -1e300, "multipleOf": 1e-300},
    "recursive ref": {
        "$ref": "#/$defs/node",
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}, "required": ["next"]}},
    },
    "self ref": {"type": "object", "properties": {"me": {"$ref": "#"}}, "required": ["me"]},
    "ref loop": {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}},
    "dangling ref": {"type": "object", "properties": {"x": {"$ref": "#/$defs/nope"}}, "required": ["x"]},
    "remote ref": {"type": "object", "properties": {"x": {"$ref": "http://127.0.0.1:1/schema"}}, "required": ["x"]},
    "deep nesting": deep(5000),
    "huge enum": {"type": "object", "properties": {"e": {"enum": list(range(1_000_000))}}, "required": ["e"]},
    "huge anyOf": {"anyOf": [{"type": "integer", "minimum": i} for i in range(100_000)]},
    "many required": {"type": "object", "required": [f"p{i}" for i in range(100_000)]},
    "wide arrays of arrays": {"type": "array", "minItems": 32, "items": {"type": "array", "minItems": 32}},
    "catastrophic pattern": {"type": "string", "pattern": "^(a+)+$", "minLength": 40},
    "bad pattern": {"type": "string", "pattern": "([unclosed"},
    "contradiction": {"type": "string", "minLength": 5, "maxLength": 2},
    "type list junk": {"type": [1, None, "string", {}]},
    "allOf junk": {"allOf": [1, "x", None]},
    "not a schema": {"properties": "x", "required": "y", "items": 5},
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_schemas_are_bounded_and_never_crash(name: str):
    schema = HOSTILE[name]
    tracemalloc.start()
    started = time.process_time()
    args, why = valid_arguments({"name": "t", "inputSchema": schema})
    spent = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert isinstance(args, dict)
    assert why is None or (isinstance(why, str) and len(why) < 400)
    assert spent < 5, f"{name}: {spent:.1f} s of CPU"
    assert peak < 64 * 2**20, f"{name}: {peak / 2**20:.0f} MiB"
    assert len(repr(args)) < 2 * MAX_STRING * MAX_ITEMS


def test_unsatisfiable_is_reported_not_hidden():
    for name in ("minLength 1e9", "minItems 1e9", "contradiction", "many required"):
        schema = {"type": "object", "properties": {"v": HOSTILE[name]}, "required": ["v"]}
        assert valid_arguments({"inputSchema": schema})[1], name


def test_invalid_schema_is_reported():
    why = problem({"type": "integer", "minimum": "x"}, 1)
    assert why is not None and "not a valid JSON Schema" in why


# --- satisfiable schemas, generated: what samples.py produces must validate --------------------------

FORMATS = ["uri", "email", "date-time", "date", "time", "uuid", "ipv4", "ipv6", "hostname", None]
PATTERNS = ["^[a-z]+$", "^[0-9]+$", "^test", "[A-Z]", "^[a-z]+-[0-9]+$", None]


@st.composite
def strings(draw):
    schema: dict = {"type": "string"}
    fmt = draw(st.sampled_from(FORMATS))
    pattern = draw(st.sampled_from(PATTERNS)) if fmt is None else None
    if fmt:
        schema["format"] = fmt
    if pattern:
        schema["pattern"] = pattern
    if not fmt and not pattern:
        low = draw(st.integers(0, 50))
        schema["minLength"] = low
        if draw(st.booleans()):
            schema["maxLength"] = low + draw(st.integers(0, 10))
    return schema


@st.composite
def numbers(draw):
    kind = draw(st.sampled_from(["integer", "number"]))
    schema: dict = {"type": kind}
    low = draw(st.one_of(st.none(), st.integers(-1000, 1000)))
    high = None if low is None else low + draw(st.integers(2, 1000))
    if draw(st.booleans()) and low is None:
        high = draw(st.integers(-1000, 1000))
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    if kind == "integer" and low is None and high is None and draw(st.booleans()):
        schema["multipleOf"] = draw(st.integers(1, 50))
    return schema


leaves = st.one_of(
    strings(),
    numbers(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), min_size=1, max_size=5).map(lambda e: {"enum": e}),
    st.integers().map(lambda c: {"const": c}),
    st.just({}),
)


def composites(children):
    objects = st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), children, max_size=5).flatmap(
        lambda props: st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.just(props)},
            optional={
                "required": st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
                "additionalProperties": st.booleans(),
            },
        )
    )
    arrays = st.builds(
        lambda items, low, unique: {
            "type": "array",
            "items": items,
            "minItems": low,
            **({"uniqueItems": True} if unique and low <= 1 else {}),
        },
        children,
        st.integers(0, 4),
        st.booleans(),
    )
    nullable = children.map(lambda s: {"anyOf": [{"type": "null"}, s]})
    return st.one_of(objects, arrays, nullable)


satisfiable = st.recursive(leaves, composites, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(satisfiable)
def test_generated_values_validate(schema):
    value = sample_value(schema)
    assert problem(schema, value) is None, (schema, value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), satisfiable, max_size=6), st.data())
def test_generated_tool_arguments_validate_with_refs(props, data):
    """The same schemas reached through ``$defs``/``$ref`` as tools write them (pydantic, zod)."""
    names = sorted(props)
    required = data.draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    schema = {
        "type": "object",
        "$defs": {f"D{n}": s for n, s in props.items()},
        "properties": {n: {"$ref": f"#/$defs/D{n}"} for n in names},
        "required": required,
    }
    args, why = valid_arguments({"name": "t", "inputSchema": schema})
    assert why is None, (schema, args, why)
    assert set(required) <= set(args)


KEYWORDS = [
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "const",
    "minimum",
    "maxLength",
    "minItems",
    "$ref",
    "anyOf",
    "allOf",
    "oneOf",
    "pattern",
    "format",
    "default",
    "examples",
    "prefixItems",
    "exclusiveMinimum",
    "multipleOf",
    "additionalProperties",
    "minProperties",
    "$defs",
    "x",
]
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(KEYWORDS),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk)
def test_any_junk_schema_never_crashes(schema):
    args = sample_arguments({"inputSchema": schema})
    assert isinstance(args, dict)
    why = problem(schema, args)
    assert why is None or isinstance(why, str)
