"""`mcpload init` → `mcpload run`: the file written for a server runs as written, against three different
servers (the demo server over HTTP, server-everything and server-memory over stdio); short runs."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml

from mcpload.scenario import load_scenario
from mcpload.scenario.loader import read_yaml
from mcpload.scenario.schema import scenario_schema
from tests.conftest import ROOT, need, node_binary
from tests.helpers import mcpload

MEMORY = ROOT / ".npm-ref" / "node_modules" / "@modelcontextprotocol" / "server-memory" / "dist" / "index.js"


def init_then_run(tmp_path: Path, *target: str, init_args: tuple[str, ...] = ()) -> tuple[str, dict]:
    scenario = tmp_path / "scenario.yaml"
    made = mcpload("init", *target, "-o", str(scenario), "--call-timeout", "5", *init_args)
    assert made.returncode == 0, made.stderr
    text = scenario.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    load_scenario(scenario)  # valid as written
    schema = jsonschema.Draft202012Validator(scenario_schema())
    assert not [e.message for e in schema.iter_errors(read_yaml(text))]  # and for editors
    planned = mcpload("run", str(scenario), "--dry-run")  # the file exactly as written: preflight passes
    assert planned.returncode == 0 and "duration 3m ·" in " ".join(planned.stdout.split()), planned.stderr
    out = tmp_path / "r.json"
    ran = mcpload("run", str(scenario), "--agents", "2", "--duration", "3s", "-q", "--out", str(out), "--seed", "1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return text, json.loads(out.read_text())


def calls_by_tool(results: dict) -> dict[str, int]:
    ops = results.get("operations") or {}
    return {k.removeprefix("tools/call "): v["calls"] for k, v in ops.items() if k.startswith("tools/call ")}


def test_demo_server(demo_url, tmp_path):
    text, results = init_then_run(tmp_path, demo_url)
    data = yaml.safe_load(text)
    assert data["target"]["url"] == demo_url and data["target"]["transport"] == "http"
    assert "# - call: send_message" in text  # side effects: present, commented out
    workflow_calls = [s["call"] for a in data["agents"].values() for s in a["workflow"] if "call" in s]
    assert set(workflow_calls) == {"search_docs", "get_doc", "get_delivery_report"}
    assert data["thresholds"]["success_rate"] == ["rate >= 0.99"]
    assert data["thresholds"]["latency{op:tools/call search_docs}"] == ["p(95) <= 400ms"]
    assert set(calls_by_tool(results)) <= set(workflow_calls) and calls_by_tool(results)
    assert results["totals"]["calls"] > 0 and results["totals"]["ok"] == results["totals"]["calls"]


@pytest.mark.node
def test_server_everything_stdio(everything_stdio_cmd, tmp_path):
    text, results = init_then_run(tmp_path, "--stdio-cmd", shlex.join(everything_stdio_cmd))
    data = yaml.safe_load(text)
    assert data["target"]["transport"] == "stdio" and data["target"]["protocol"] == "2025-11-25"
    assert "# - call: gzip-file-as-resource" in text  # openWorldHint: true: commented out
    assert "# - call: toggle-simulated-logging" in text
    assert "echo" in calls_by_tool(results)


@pytest.mark.node
def test_third_party_memory_server(tmp_path):
    node = node_binary()
    need(node is not None and MEMORY.exists(), "server-memory not installed (run `make npm-ref`)")
    memory = tmp_path / "memory.jsonl"
    cmd = shlex.join(["env", f"MEMORY_FILE_PATH={memory}", node, str(MEMORY)])
    text, results = init_then_run(tmp_path, "--stdio-cmd", cmd)
    for writer in ("create_entities", "delete_entities", "add_observations", "delete_relations"):
        assert f"# - call: {writer}" in text
    assert "read_graph" in calls_by_tool(results)
    assert not memory.exists()  # neither init nor the run it wrote changed the server's data


def test_from_trace(demo_url, tmp_path):
    trace = tmp_path / "trace.jsonl"
    lines = [{"type": "call", "method": "tools/call", "tool": "search_docs", "arguments": {"query": "retries"}}] * 3
    lines += [{"type": "call", "method": "tools/call", "tool": "search_docs", "arguments": {"query": "x", "limit": 2}}]
    lines += [{"type": "call", "method": "tools/call", "tool": "search_docs", "arguments": {"limit": "many"}}]  # bad
    lines += [{"type": "call", "method": "tools/call", "tool": "get_doc", "arguments": {"doc_id": "doc-{{ x }}"}}]
    lines += [{"type": "call", "method": "tools/list"}, {"type": "note", "what": "skipped"}]
    lines += [{"type": "call", "method": "tools/call", "tool": "gone_tool", "arguments": {}}]
    trace.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    text, results = init_then_run(tmp_path, demo_url, init_args=("--from-trace", str(trace)))
    data = yaml.safe_load(text)
    steps = {name: agent["workflow"] for name, agent in data["agents"].items()}
    choice = next(s["choice"] for wf in steps.values() for s in wf if "choice" in s)
    assert [(b["weight"], b["steps"][0]["args"]) for b in choice] == [
        (3, {"query": "retries"}),
        (1, {"query": "x", "limit": 2}),
    ]
    get_doc = next(s for wf in steps.values() for s in wf if s.get("call") == "get_doc")
    assert get_doc["args"] == {"doc_id": "{% raw %}doc-{{ x }}{% endraw %}"}  # sent as recorded, not rendered
    assert "1 recorded argument sets left out" in text and "gone_tool" in text
    assert calls_by_tool(results)["search_docs"] > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "call"}\nnot json\n', "trace.jsonl: line 2: not a JSON object"),
        ("[1, 2]\n", "trace.jsonl: line 1: not a JSON object"),
        ('{"type": "call", "method": "tools/call", "tool": 3}\n', "trace.jsonl: line 1: tool: expected a tool name"),
        ('{"type": "call", "method": "tools/call", "tool": "t", "arguments": [1]}\n', "line 1: arguments: expected"),
    ],
)
def test_bad_trace_is_one_line_exit_2(tmp_path, content, message):
    trace = tmp_path / "trace.jsonl"
    trace.write_text(content)
    res = mcpload("init", "http://127.0.0.1:1/mcp", "--from-trace", str(trace), "-o", str(tmp_path / "s.yaml"))
    assert res.returncode == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_init_refuses_to_overwrite_and_bad_usage(tmp_path):
    existing = tmp_path / "scenario.yaml"
    existing.write_text("keep me\n")
    res = mcpload("init", "http://127.0.0.1:1/mcp", "-o", str(existing))
    assert res.returncode == 2 and "already exists" in res.stderr and existing.read_text() == "keep me\n"
    assert mcpload("init").returncode == 2
    res = mcpload("init", "http://127.0.0.1:1/mcp", "--persona", "pirate", "-o", str(tmp_path / "x.yaml"))
    assert res.returncode == 2 and "--persona 'pirate'" in res.stderr


def test_init_unreachable_is_exit_3(tmp_path):
    from mcpload.demo.launch import free_port

    out = tmp_path / "s.yaml"
    res = mcpload("init", f"http://127.0.0.1:{free_port()}/mcp", "--connect-timeout", "2", "-o", str(out))
    assert res.returncode == 3 and "not reachable" in res.stderr and not out.exists()


async def test_trial_calls_stop_when_their_budget_is_spent(demo_url, monkeypatch):
    from mcpload.init import discovery
    from mcpload.mcp.connect import Target

    monkeypatch.setattr(discovery, "TRIAL_BUDGET_S", 0.0)
    found = await discovery.discover(Target(url=demo_url), lambda tool: {"query": "x"}, try_calls=True)
    assert found.trials == {} and set(found.untried) == {"search_docs", "get_doc", "get_delivery_report"}


def test_from_a_trace_recorded_without_values(demo_url, tmp_path):
    """A trace recorded with --no-args holds shapes only: init says so and takes arguments from the schemas,
    never an empty object that the tools would refuse."""
    trace = tmp_path / "trace.jsonl"
    shape = {"type": "call", "method": "tools/call", "tool": "search_docs", "shape": {"query": "str"}}
    trace.write_text("\n".join(json.dumps(shape) for _ in range(4)) + "\n")
    text, results = init_then_run(tmp_path, demo_url, init_args=("--from-trace", str(trace)))
    assert "4 recorded calls hold no argument values" in text
    search = next(s for agent in yaml.safe_load(text)["agents"].values() for s in agent["workflow"] if "call" in s)
    assert search["args"], search  # generated from the inputSchema, not {}
    assert calls_by_tool(results)["search_docs"] > 0
