"""Parts of `mcpload init`: literal values, comments, tool groups, the trace reader."""

import json
import random

import pytest
import yaml

from mcpload.init import trace as trace_mod
from mcpload.init.groups import MAX_GROUPS, OTHER, group_tools, nouns
from mcpload.init.trace import TraceError, read_trace
from mcpload.init.writer import Unwritable, comment, flow, literal
from mcpload.scenario import Scenario
from mcpload.scenario.context import RenderContext


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
