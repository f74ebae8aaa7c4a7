"""Parts of `mcpload init`: literal values, comments, tool groups, the trace reader."""

import json
import random

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mcpload.init import InitOptions, compose
from mcpload.init import trace as trace_mod
from mcpload.init.discovery import Discovery
from mcpload.init.groups import MAX_GROUPS, OTHER, group_tools, nouns
from mcpload.init.personas import PERSONAS
from mcpload.init.trace import TraceError, read_trace
from mcpload.init.writer import Unwritable, comment, flow, literal
from mcpload.mcp.connect import Target
from mcpload.mcp.samples import problem
from mcpload.scenario import Scenario
from mcpload.scenario.context import RenderContext
from mcpload.scenario.loader import read_yaml
from tests.unit.test_samples_bounded import satisfiable


@pytest.mark.parametrize(
    "value",
    ["${HOME}", "{{ 7 * 7 }}", "{% for x in y %}", "a: b, {c}", "'\"", "- x", "# not a comment", "ü\u2028x", "yes", ""],
)
def test_literal_values_reach_the_server_unchanged(value):
    """Whatever a server or a trace gives, the loaded scenario sends exactly that."""
    args = {"v": value, "nested": [value, {"k": value}]}
    text = f"agents: {{a: {{workflow: [{{call: t, args: {flow(literal(args))}}}]}}}}\n"
    text += "profiles: [{type: constant-agents, agents: 1, duration: 1s}]\n"
    scenario = Scenario.from_dict(yaml.safe_load(text), env={"HOME": "/root"})
    call = scenario.agents["a"].workflow[0]
    rendered = call.args.render(RenderContext(random.Random(1)))  # as the engine does, raw blocks included
    assert rendered == args


def test_a_value_holding_endraw_cannot_be_written():
    with pytest.raises(Unwritable):
        literal("{{ x }}{% endraw %}")


def test_comment_is_one_printable_line():
    assert comment("a\nb\r\x00c\u2028d") == "a b c d"
    assert len(comment("x" * 1000)) == 160


def test_groups():
    assert nouns("get_delivery_report") == ["delivery", "report"]
    assert nouns("listDirectories") == ["directory"]
    groups = group_tools(["search_docs", "get_doc", "send_message", "get_delivery_report"])
    assert groups == {"doc_agent": ["search_docs", "get_doc"], OTHER: ["send_message", "get_delivery_report"]}
    many = [f"{verb}_{noun}" for noun in "abcdefg" for verb in ("get", "list")]
    groups = group_tools([n.replace("_", "_thing") for n in many])
    assert len(groups) <= MAX_GROUPS and sum(len(v) for v in groups.values()) == len(many)
    assert group_tools([]) == {}


def test_trace_keeps_top_argument_sets(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [{"a": 1}] * 2 + [{"a": 2}] * 5 + [{"a": 3}]
    path.write_text("\n".join(json.dumps({"type": "call", "method": "tools/call", "tool": "t", "arguments": r})
                              for r in rows))  # fmt: skip
    recorded = read_trace(path)
    assert recorded.calls == 8 and recorded.top("t", 2) == [({"a": 2}, 5), ({"a": 1}, 2)]


def test_trace_bounds(tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    path.write_text('{"type": "x", "pad": "' + "y" * 2000 + '"}\n')
    monkeypatch.setattr(trace_mod, "MAX_LINE_BYTES", 1000)
    with pytest.raises(TraceError, match="line 1: longer than 1000 bytes"):
        read_trace(path)
    with pytest.raises(TraceError, match="cannot read the trace"):
        read_trace(tmp_path / "missing.jsonl")
    path.write_bytes(b"\xff\xfe\n")
    with pytest.raises(TraceError, match="line 1"):
        read_trace(path)


# --- the whole file, for generated tool lists: it loads, validates, and sends what it says ----------------

NASTY = ["${HOME}", "{{ x }}", "{% raw %}", "a: b", "#x", "- y", "'\"", "é\u2028", "\x85", "yes", "", " ", "}{,"]
names = st.one_of(st.from_regex(r"[a-z][a-z_-]{0,12}", fullmatch=True), st.sampled_from(NASTY), st.text(max_size=12))
annotations = st.sampled_from(
    [None, {}, {"readOnlyHint": True, "openWorldHint": False}, {"readOnlyHint": True}, {"readOnlyHint": False}]
)
tools = st.lists(
    st.fixed_dictionaries(
        {
            "name": names.filter(bool),
            "inputSchema": st.dictionaries(st.sampled_from(["q", "n", "x-y", "${k}"]), satisfiable, max_size=3).map(
                lambda props: {"type": "object", "properties": props, "required": sorted(props)}
            ),
        },
        optional={"annotations": annotations, "description": st.sampled_from(NASTY)},
    ),
    max_size=8,
    unique_by=lambda t: t["name"],
)


# no shrinking: a failure is reported as drawn, so the test stays bounded in time even when it fails
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(tools, st.sampled_from([*NASTY, "demo"]), st.sampled_from(sorted(PERSONAS)))
def test_init_file_loads_validates_and_sends_what_it_says(tool_list, server_name, persona):
    from mcpload.scenario.schema import scenario_schema

    found = Discovery("http", "handshake", "2025-11-25", {"name": server_name}, tool_list, trials={})
    target = Target(url="http://127.0.0.1:1/mcp")
    result = compose(found, target, InitOptions(persona=persona, try_calls=False), PERSONAS[persona])
    data = read_yaml(result.text)
    assert not list(jsonschema.Draft202012Validator(scenario_schema()).iter_errors(data))
    scenario = Scenario.from_dict(data, env={})
    by_name = {t["name"]: t for t in tool_list}
    sent = {}
    for agent in scenario.agents.values():
        for step in agent.workflow:
            if hasattr(step, "tool"):
                sent[step.tool] = step.args.render(RenderContext(random.Random(1)))
    assert set(sent) == set(result.called) or (not result.called and not sent)
    for name, args in sent.items():
        tool = by_name[name]
        assert tool.get("annotations") == {"readOnlyHint": True, "openWorldHint": False}
        assert problem(tool["inputSchema"], args) is None, (name, args)
