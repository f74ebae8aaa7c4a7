"""Security (issue 7 §4): listeners bind 127.0.0.1 by default; stdio servers run without a shell and
with an explicit environment. Real processes and sockets only: the demo server, the Prometheus
endpoint and ``tests/stdio_env.py`` (a stdio server that answers with its own environment and argv).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from mcpload import connect
from mcpload.demo.launch import free_port, stop_process, wait_for_port
from mcpload.outputs.prometheus import DEFAULT_ADDRESS, PrometheusOutput
from mcpload.scenario import Scenario
from mcpload.transports.stdio import INHERITED_ENV_VARS, server_environment

ROOT = Path(__file__).resolve().parents[2]
ENV_SERVER = str(ROOT / "tests" / "stdio_env.py")
MCPLOAD = str(Path(sys.executable).parent / "mcpload")
SECRET = "s3cr3t-of-the-load-tester"
# Python itself may add LC_CTYPE to its own environment when it coerces the C locale (PEP 538).
ADDED_BY_PYTHON = {"LC_CTYPE"}


def listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every listening inet socket of the process and its children."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    found = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            found += [c.laddr[:2] for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    return found


# --------------------------------------------------------------------------- listeners


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_demo_server_listens_on_loopback_only_by_default(transport):
    port = free_port()
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), "--transport", transport]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # no --host
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        sockets = listening(proc.pid)
    finally:
        stop_process(proc)
    assert ("127.0.0.1", port) in sockets, sockets
    assert all(host == "127.0.0.1" for host, _ in sockets), sockets  # never 0.0.0.0 or ::


def test_prometheus_endpoint_listens_on_loopback_by_default():
    assert DEFAULT_ADDRESS.startswith("127.0.0.1:")
    assert PrometheusOutput().host == "127.0.0.1"
    port = free_port()
    out = PrometheusOutput(str(port))  # a bare port, as `--prometheus 9464`
    out.listen()
    try:
        bound = out._server.socket.getsockname()[:2]
        sockets = listening(os.getpid())
    finally:
        out.close()
    assert bound == ("127.0.0.1", port)
    assert [s for s in sockets if s[1] == port] == [("127.0.0.1", port)], sockets


# --------------------------------------------------------------------------- stdio: environment and shell


async def server_view(target: dict[str, Any]) -> dict[str, Any]:
    """Connect to the stdio target of a scenario, call ``env`` once, return what the server saw."""
    scenario = Scenario.from_dict(
        {
            "target": {"protocol": "2025-11-25", "timeout": 10, **target},
            "agents": {"a": {"workflow": [{"call": "env"}]}},
            "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        },
        source="<test>",
    )
    session, opened = await connect(scenario.to_target())
    assert opened.ok, opened
    try:
        out = await session.call_tool("env", {})
    finally:
        await session.close()
    assert out.ok, out
    return out.result["structuredContent"]


async def test_stdio_server_gets_only_the_safe_variables_and_target_env(monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    monkeypatch.setenv("MCPLOAD_TEST_GIVEN", "from-the-parent")
    seen = await server_view(
        {"command": [sys.executable, ENV_SERVER], "env": {"MCPLOAD_TEST_GIVEN": "given", "OTHER": "x"}}
    )
    env = seen["env"]
    assert "MCPLOAD_TEST_SECRET" not in env and SECRET not in json.dumps(seen)
    assert env["MCPLOAD_TEST_GIVEN"] == "given" and env["OTHER"] == "x"  # target.env reaches it, and wins
    assert env["PATH"] == os.environ["PATH"]
    assert set(env) <= {*INHERITED_ENV_VARS, "MCPLOAD_TEST_GIVEN", "OTHER", *ADDED_BY_PYTHON}, sorted(env)


async def test_stdio_server_inherits_everything_only_when_asked(monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    monkeypatch.setenv("MCPLOAD_TEST_GIVEN", "from-the-parent")
    seen = await server_view(
        {"command": [sys.executable, ENV_SERVER], "inherit_env": True, "env": {"MCPLOAD_TEST_GIVEN": "given"}}
    )
    assert seen["env"]["MCPLOAD_TEST_SECRET"] == SECRET
    assert seen["env"]["MCPLOAD_TEST_GIVEN"] == "given"


async def test_stdio_command_string_is_not_run_through_a_shell(tmp_path, monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    command = f"{sys.executable} {ENV_SERVER} ; touch {a} && touch {b} | '$(touch {c})' `id` $MCPLOAD_TEST_SECRET"
    seen = await server_view({"command": command})
    words = [";", "touch", str(a), "&&", "touch", str(b), "|", f"$(touch {c})", "`id`", "$MCPLOAD_TEST_SECRET"]
    assert seen["argv"] == words  # split into words, nothing interpreted
    assert not a.exists() and not b.exists() and not c.exists()


def test_stdio_command_from_the_command_line_is_not_run_through_a_shell(tmp_path):
    marker = tmp_path / "marker"
    cmd = f"{sys.executable} {ENV_SERVER} ; touch {marker}"
    res = subprocess.run(
        [MCPLOAD, "diagnose", "--stdio-cmd", cmd, "--protocol", "2025-11-25", "--json", "--call-tools", "env"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MCPLOAD_TEST_SECRET": SECRET},
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["transport"] == "stdio"
    assert SECRET not in res.stdout  # the env tool's answer (shown in the diagnosis) holds no secret
    assert not marker.exists()


def test_server_environment_follows_the_sdk():
    parent = {"PATH": "/bin", "HOME": "/h", "AWS_SECRET_ACCESS_KEY": "k", "SHELL": "() { :; }; echo pwned"}
    env = server_environment({"X": "1"}, parent=parent)
    assert env == {"PATH": "/bin", "HOME": "/h", "X": "1"}  # exported shell functions are skipped too
    assert server_environment({"PATH": "/mine"}, parent=parent)["PATH"] == "/mine"
    assert server_environment(None, inherit_env=True, parent=parent) == parent
    assert server_environment(None, parent={}) == {}
