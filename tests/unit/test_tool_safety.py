"""Which tools mcpload calls on its own: the spec's annotation defaults decide (no annotations = side effects)."""

import pytest

from mcpload.mcp.tool_safety import CallPolicy, is_safe, side_effect_reason


def tool(name: str = "t", **annotations) -> dict:
    return {"name": name, "inputSchema": {"type": "object"}, **({"annotations": annotations} if annotations else {})}


@pytest.mark.parametrize(
    ("annotations", "safe"),
    [
        ({}, False),  # no annotations: readOnlyHint defaults to false
        ({"readOnlyHint": True}, False),  # openWorldHint defaults to true
        ({"readOnlyHint": True, "openWorldHint": True}, False),
        ({"readOnlyHint": True, "openWorldHint": False}, True),
        ({"readOnlyHint": False, "openWorldHint": False}, False),
        ({"readOnlyHint": "true", "openWorldHint": False}, False),  # a string is not true
        ({"readOnlyHint": 1, "openWorldHint": 0}, False),
        ({"openWorldHint": False, "destructiveHint": False}, False),
        ({"readOnlyHint": True, "openWorldHint": None}, False),
    ],
)
def test_safe_only_when_read_only_and_closed_world(annotations, safe):
    assert is_safe(tool(**annotations)) is safe
    assert (side_effect_reason(tool(**annotations)) is None) is safe


@pytest.mark.parametrize("annotations", [None, [], "readOnly", 3])
def test_odd_annotations_are_no_annotations(annotations):
    assert not is_safe({"name": "t", "annotations": annotations})


def test_default_policy_calls_only_safe_tools():
    policy = CallPolicy.parse(None)
    safe, unsafe = tool("r", readOnlyHint=True, openWorldHint=False), tool("w")
    assert policy.skip_reason(safe) is None
    assert "not called" in policy.skip_reason(unsafe)
    assert policy.unsafe_to_call([safe, unsafe]) == []


def test_named_tools_are_called_without_confirmation_and_the_rest_stays_safe():
    policy = CallPolicy.parse(["read-only,w"])
    safe, named, other = tool("r", readOnlyHint=True, openWorldHint=False), tool("w"), tool("x")
    assert policy.skip_reason(safe) is None and policy.skip_reason(named) is None
    assert policy.skip_reason(other) is not None
    assert policy.unsafe_to_call([safe, named, other]) == []  # named explicitly: no question asked
    only = CallPolicy.parse(["w"])
    assert only.skip_reason(named) is None and only.skip_reason(safe) == "not named in --call-tools"


def test_all_names_the_unsafe_tools_it_is_about_to_call():
    policy = CallPolicy.parse(["all"])
    tools = [tool("r", readOnlyHint=True, openWorldHint=False), tool("w"), tool("x", readOnlyHint=True)]
    assert all(policy.skip_reason(t) is None for t in tools)
    assert policy.unsafe_to_call(tools) == ["w", "x"]
    assert policy.describe() == "all"


def test_none_calls_nothing():
    policy = CallPolicy.parse(["none"])
    assert policy.skip_reason(tool("r", readOnlyHint=True, openWorldHint=False)) is not None
    assert policy.describe() == "none"


@pytest.mark.parametrize("values", [["all", "x"], ["all,read-only"], ["none", "x"], [""], ["a,,b"]])
def test_bad_combinations(values):
    with pytest.raises(ValueError, match="--call-tools"):
        CallPolicy.parse(values)
