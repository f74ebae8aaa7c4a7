"""Regressions for the bugs real servers exposed (issue 14 §2), each against a real server:
@modelcontextprotocol/server-everything (npm, pinned in the Makefile) or the demo server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpload import Session, Stdio, StreamableHTTP, Target
from mcpload.engine.execute import run_scenario
from mcpload.engine.preflight import PreflightError, preflight
from mcpload.scenario import Scenario
from tests.conftest import ROOT, everything_cmd, need, node_binary
from tests.helpers import MCPLOAD

RUN_4S_2_AGENTS = ("--agents", "2", "--duration", "4s", "--quiet", "--out", "r.json")


def make(target: dict[str, Any], workflow: list[Any], profile: dict[str, Any], **agent: Any) -> Scenario:
    data = {"target": target, "agents": {"a": {"workflow": workflow, **agent}}, "profiles": profile}
    return Scenario.from_dict(data, source="<test>")


@pytest.mark.node
async def test_templated_read_resource_is_one_operation(everything_url):
    """§2.1: a read_resource step whose URI is a template renders many URIs; they are one operation,
    named after the URI as written, not one operation (and histogram) per rendered URI."""
    uri = "demo://resource/dynamic/text/{{ random_int(1, 50) }}"
    workflow = [{"read_resource": uri}, {"read_resource": "demo://resource/dynamic/text/7"}]
    scenario = make({"url": everything_url}, workflow, {"type": "constant-agents", "agents": 2, "duration": "1.5s"})
    res = (await run_scenario(scenario, seed=3)).results
    reads = {op: v for op, v in res["operations"].items() if op.startswith("resources/read")}
    assert set(reads) == {
        "resources/read demo://resource/dynamic/text/{random_int(1, 50)}",
        "resources/read demo://resource/dynamic/text/7",
    }, set(reads)
    templated = reads["resources/read demo://resource/dynamic/text/{random_int(1, 50)}"]
    assert templated["calls"] == templated["ok"] > 2


@pytest.mark.node
@pytest.mark.parametrize("mode", ["bogus", "--no-such-flag"])
async def test_stdio_server_exiting_early_shows_its_stderr(mode):
    """§2.2: server-everything started with a bad argument prints why on stderr and exits 1; the
    session's error carries the exit code and the last stderr lines, on one line."""
    cmd = [*everything_cmd("stdio")[:-1], mode]
    session = Session(Stdio(cmd), timeout=20)
    try:
        opened = await session.open()
    finally:
        await session.close()
    assert not opened.ok and opened.kind == "transport", opened
    message = opened.error_message
    assert "exited with code 1" in message and f"Unknown transport: {mode}" in message, message
    assert "\n" not in message and len(message) < 500


@pytest.mark.node
def test_stdio_startup_is_kept_apart_from_the_steady_state(tmp_path):
    """§2.3: each stdio session spawns a Node process (server-everything); that start-up is reported
    apart (seconds, sessions, CPU) and the per-call CPU and extrapolation are the steady state's."""
    cmd = " ".join(everything_cmd("stdio"))
    proc = subprocess.run(
        [MCPLOAD, "run", "--stdio-cmd", cmd, "--tool", "echo", "--args", '{"message": "x"}', *RUN_4S_2_AGENTS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "r.json").read_text())
    derived = res["resources"]["derived"]
    startup = derived["startup"]
    assert startup is not None, derived
    assert startup["sessions"] == 2 and startup["cpu_seconds"] > 0 and startup["seconds"] > 0
    steady_calls = res["totals"]["calls"] - startup["calls"]
    assert steady_calls > 0 and derived["steady_state_s"] > 0
    # the per-call figure counts only the steady state's CPU and calls
    total_cpu = derived["cpu_seconds"] + startup["cpu_seconds"]
    expected = derived["cpu_seconds"] / steady_calls * 1000  # (cpu_seconds is rounded to ms: a tolerance)
    assert derived["cpu_seconds_per_1k_calls"] == pytest.approx(expected, rel=0.05, abs=0.0011 / steady_calls * 1000)
    assert total_cpu >= derived["cpu_seconds"]


def memory_cmd(tmp_path: Path) -> list[str]:
    server = ROOT / ".npm-ref" / "node_modules" / ".bin" / "mcp-server-memory"
    node = node_binary()
    need(server.exists() and node is not None, "server-memory not installed (run `make npm-ref`)")
    return [str(server)]


def run_file(tmp_path: Path, scenario: dict[str, Any], *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    return subprocess.run(
        [MCPLOAD, "run", "s.yaml", "--quiet", "--out", "r.json", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MEMORY_FILE_PATH": str(tmp_path / "memory.json")},
    )


def one_agent(target: dict[str, Any], workflow: list[Any], duration: str = "1s") -> dict[str, Any]:
    return {
        "target": target,
        "agents": {"a": {"workflow": workflow}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": duration},
    }


@pytest.mark.node
@pytest.mark.parametrize(
    ("step", "capability"),
    [("list_prompts", "prompts"), ({"get_prompt": "anything"}, "prompts"), ("list_tools", None)],
)
def test_preflight_refuses_steps_on_undeclared_capabilities(tmp_path, step, capability):
    """§2.4: server-memory declares tools and resources but no prompts: a prompts step is refused before
    any load (exit 2, one stderr line naming the step); a tools step is accepted."""
    proc = run_file(tmp_path, one_agent({"command": memory_cmd(tmp_path), "env": {}}, [step], "0.5s"))
    if capability is None:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "workflow[0]" in lines[0] and f"'{capability}' capability" in lines[0] and "resources, tools" in lines[0]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.node
def test_preflight_refuses_unknown_prompts_and_warns_about_unknown_resources(tmp_path, everything_url):
    """§2.4: a prompt server-everything does not list is refused; a literal resource URI it neither lists
    nor matches with a template is warned about (every read is bound to fail), and the run goes on."""
    proc = run_file(tmp_path, one_agent({"url": everything_url}, [{"get_prompt": "simple-promt"}]))
    assert proc.returncode == 2 and "did you mean 'simple-prompt'" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    workflow = [{"read_resource": "demo://nowhere/1"}, {"read_resource": "demo://resource/dynamic/text/3"}]
    proc = run_file(tmp_path, one_agent({"url": everything_url}, workflow, "0.5s"))
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "demo://nowhere/1" in warnings[0] and "workflow[0]" in warnings[0], proc.stderr


@pytest.mark.node
async def test_error_text_from_real_servers(everything_url):
    """§2.5: server-everything (Express) answers a wrong path with an HTML page: the error is its one
    line of text with the status once; its JSON-RPC error bodies keep their message; preflight hints
    at /mcp and /sse on a 404."""
    base = everything_url.rsplit("/", 1)[0]
    session = Session(StreamableHTTP(base + "/wrong"), protocol="2025-11-25")
    try:
        opened = await session.open()
    finally:
        await session.close()
    assert opened.describe() == "http_error: HTTP 404 Cannot POST /wrong", opened.describe()
    stale = Session(StreamableHTTP(everything_url), protocol="2025-11-25")
    try:
        out = await stale.call_tool("echo", {"message": "x"})  # no initialize: the server refuses in JSON
    finally:
        await stale.close()
    assert out.http_status == 400 and out.error_code == -32000 and "Server not initialized" in out.error_message
    assert "{" not in out.error_message
    with pytest.raises(PreflightError) as refused:
        await preflight(Target(url=base + "/wrong"), {}, [], "s.yaml")
    message = str(refused.value)
    assert refused.value.code == 3 and "HTTP 404 Not Found" in message and "HTTP 404 HTTP 404" not in message
    assert "/mcp" in message and "/sse" in message and "<" not in message


async def test_demo_server_404_hint(demo_url):
    """§2.5 on the Python SDK demo server (Starlette's plain-text 404)."""
    with pytest.raises(PreflightError) as refused:
        await preflight(Target(url=demo_url.rsplit("/", 1)[0] + "/api", transport="http"), {}, [], "s.yaml")
    message = str(refused.value)
    assert message.count("404") == 1 and "nothing answers at /api" in message and "/mcp" in message, message


def test_run_file_with_agents_keeps_its_duration_and_reports_tool_calls_apart(tmp_path, demo_url):
    """§2.6 against the demo server: ``run s.yaml --agents 2`` runs the scenario's duration; threshold
    values are printed with their units; the tools' own success (here: every call fails) is a row of its
    own, apart from the session openings that succeed."""
    scenario = one_agent({"url": demo_url}, [{"call": "search_docs", "args": {"query": "{{ 1 }}"}}], "1.5s")
    scenario["thresholds"] = {
        "success_rate": ["rate > 0.9"],
        "latency": ["p(95) < 10s"],
        "calls_per_s": ["value > 0"],
    }
    proc = run_file(tmp_path, scenario, "--agents", "2")
    assert proc.returncode == 99, proc.stderr  # the success threshold fails
    res = json.loads((tmp_path / "r.json").read_text())
    assert [(p["type"], p["duration_s"]) for p in res["profiles"]] == [("constant-agents", 1.5)]
    assert 1.4 <= res["duration_s"] <= 3.0 and res["sessions"]["started"] == 2
    totals = res["totals"]
    assert totals["tool_success_rate"] == 0.0 and totals["tool_calls"] > 0 and totals["success_rate"] > 0, totals
    tool_row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("tool calls"))
    assert "0.00%" in tool_row and "tool_error=" in tool_row, proc.stdout
    units = {th["metric"]: th["unit"] for th in res["thresholds"]}
    assert units == {"success_rate": "ratio", "latency": "ms", "calls_per_s": "calls/s"}
    shown = [line for line in proc.stdout.splitlines() if "(value " in line]
    assert any(line.strip().endswith("ms)") for line in shown) and any("calls/s)" in line for line in shown)
    assert any("%)" in line for line in shown), shown
    # a tool's multi-line error message is one line in the summary
    assert all("validation error" not in line or "Input should be" in line for line in proc.stdout.splitlines())


@pytest.mark.node
def test_preflight_refuses_subscribe_on_a_server_without_resources(tmp_path):
    """server-filesystem declares tools only: a subscribe step is refused before any load."""
    server = ROOT / ".npm-ref" / "node_modules" / ".bin" / "mcp-server-filesystem"
    need(server.exists(), "server-filesystem not installed (run `make npm-ref`)")
    target = {"command": [str(server), str(tmp_path)]}
    proc = run_file(tmp_path, one_agent(target, [{"subscribe": "file:///x"}], "0.5s"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "workflow[0]: resources/subscribe needs the 'resources' capability" in lines[0]


def test_subscribe_needs_the_subscribe_flag():
    from mcpload.engine.preflight import _check_capabilities
    from mcpload.scenario.workflow import parse_step

    step = parse_step({"subscribe": "docs://x"}, "w[0]")
    _check_capabilities({"resources": {"subscribe": True}}, [step], {}, "s.yaml")
    for caps in ({"resources": {}}, {"resources": {"subscribe": "yes"}}):
        with pytest.raises(PreflightError) as refused:
            _check_capabilities(caps, [step], {}, "s.yaml")
        assert str(refused.value) == "s.yaml: w[0]: the server does not declare resources.subscribe"
