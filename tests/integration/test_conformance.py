"""`mcpload diagnose` as the client under the official MCP conformance suite (@modelcontextprotocol/conformance@0.1.16).

`conformance client --command CMD --scenario S` starts the scenario's test server, runs ``CMD <server url>``
and grades what the client did; with ``-o DIR`` it writes ``DIR/<scenario>-<timestamp>/checks.json`` (plus the
client's stdout.txt/stderr.txt). It exits 1 on any FAILURE or WARNING check, a client timeout, or a non-zero
client exit (diagnose exits 1 when one of its own checks FAILs).

A run that grades nothing also "passes" there, so the checks file is read back and the scenario's own checks
must be present, SUCCESS, and at least one of them graded.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.node, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NPM_BIN = ROOT / ".npm-ref" / "node_modules" / ".bin"
CONFORMANCE = NPM_BIN / "conformance"
MCPLOAD = Path(sys.executable).parent / "mcpload"
RUN_TIMEOUT_S = 120  # the whole conformance run
CLIENT_TIMEOUT_MS = 90_000  # conformance kills the client after this (its default is 30 s)

# scenario -> the checks it grades (ids in checks.json); each must be there and SUCCESS
SCENARIOS = {
    # initialize: the client's `initialize` request (protocolVersion = a version the scenario's spec
    # versions include, clientInfo.name/version present); the server answers 2025-11-25, no capabilities.
    "initialize": {"mcp-client-initialization"},
    # tools_call: an SDK server (Streamable HTTP at /mcp) exposing add_numbers(a: number, b: number);
    # the check is recorded only if the client actually calls it.
    "tools_call": {"tool-add-numbers"},
    # sse-retry (SEP-1699): the tools/call response is an SSE stream that sends only a priming event
    # (`id: event-1`, `retry: 500`) and is closed after 50 ms; the client must reconnect with GET,
    # wait the retry delay (450-700 ms, >1000 ms fails, 700-1000 warns) and send Last-Event-ID.
    "sse-retry": {"client-sse-graceful-reconnect", "client-sse-retry-timing", "client-sse-last-event-id"},
}


def need(condition: bool, reason: str) -> None:
    """Skip when a system prerequisite is missing — or fail when CI says it must be there."""
    if condition:
        return
    if os.environ.get("MCPLOAD_REQUIRE_SYSTEM_TESTS") == "1":
        pytest.fail(f"required for this run (MCPLOAD_REQUIRE_SYSTEM_TESTS=1): {reason}")
    pytest.skip(reason)


def run_conformance(scenario: str, out_dir: Path) -> tuple[int, str]:
    """Run one client scenario with `mcpload diagnose` as the client; returns (exit code, output)."""
    local_node = NPM_BIN / "node"
    node = str(local_node) if local_node.exists() else shutil.which("node")
    need(node is not None, "Node.js not found (run `make npm-ref`)")
    # the CLI splits the command on spaces and re-joins it for a shell (URL appended), so quoting survives
    # the conformance server's tools carry no annotations: diagnose calls them only when told to
    command = f"{shlex.quote(str(MCPLOAD))} diagnose --json --call-tools all --yes"
    argv = [node, str(CONFORMANCE), "client", "--command", command, "--scenario", scenario]
    argv += ["--timeout", str(CLIENT_TIMEOUT_MS), "-o", str(out_dir)]
    # the pinned Node first on PATH: the conformance CLI needs Node 22
    env = {**os.environ, "PATH": f"{NPM_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        argv, cwd=out_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and the mcpload it started
        output, _ = proc.communicate()
        pytest.fail(f"conformance {scenario} did not finish in {RUN_TIMEOUT_S} s:\n{output}")
    return proc.returncode, output


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_diagnose_passes_conformance_scenario(scenario: str, tmp_path: Path) -> None:
    need(CONFORMANCE.exists(), f"conformance CLI not installed at {CONFORMANCE} (run `make npm-ref`)")
    assert MCPLOAD.exists(), f"mcpload console script not found next to the interpreter: {MCPLOAD}"

    rc, output = run_conformance(scenario, tmp_path)

    results = sorted(tmp_path.glob(f"{scenario}-*/checks.json"))
    assert len(results) == 1, f"expected one results folder in {tmp_path}, found {results}\n{output}"
    result_dir = results[0].parent
    checks: list[dict[str, Any]] = json.loads(results[0].read_text())
    client_stdout = (result_dir / "stdout.txt").read_text()
    context = f"\n--- conformance output ---\n{output}\n--- mcpload diagnose stdout ---\n{client_stdout}"

    graded = [c for c in checks if c["status"] in ("SUCCESS", "FAILURE")]
    bad = [c for c in checks if c["status"] in ("FAILURE", "WARNING")]
    assert graded, f"{scenario}: no check was exercised{context}"
    assert not bad, f"{scenario}: {json.dumps(bad, indent=2)}{context}"
    statuses = {c["id"]: c["status"] for c in checks if c["status"] != "INFO"}
    assert statuses == dict.fromkeys(SCENARIOS[scenario], "SUCCESS"), f"{scenario}: {statuses}{context}"
    assert rc == 0, f"conformance exited {rc}{context}"
    assert "OVERALL: PASSED" in output, context

    # mcpload's own view of the same run (diagnose --json)
    diagnosis = json.loads(client_stdout)
    diag_checks = {c["name"]: c["status"] for c in diagnosis["checks"]}
    assert diagnosis["connected"] and diagnosis["era"] == "handshake", diagnosis
    assert "FAIL" not in diag_checks.values(), diagnosis
    details = {c["id"]: c.get("details") or {} for c in graded}
    if scenario == "initialize":
        init = details["mcp-client-initialization"]
        assert init["versionMatch"] and init["clientName"] == "mcpload", init
        assert diagnosis["protocol_version"] == "2025-11-25", diagnosis
    elif scenario == "tools_call":
        add = details["tool-add-numbers"]  # the check passes even on NaN: make sure real numbers went in
        assert all(isinstance(add[k], int | float) for k in ("a", "b")) and add["result"] == add["a"] + add["b"], add
        assert diag_checks["tools/call add_numbers"] == "PASS", diagnosis
    else:
        assert details["client-sse-last-event-id"]["lastEventIds"] == ["event-1"], details
        # the response only arrived on the resumed GET stream: the call passing means it was picked up there
        assert diag_checks["tools/call test_reconnection"] == "PASS", diagnosis
