"""The traffic commands: bad input is one clear line and exit 2; legacy SSE and server→client requests are recorded."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mcpload.cli import app
from mcpload.demo.launch import demo_server, free_port, stop_process, wait_for_port
from mcpload.traffic.observer import Observer
from mcpload.traffic.redact import Redactor
from mcpload.traffic.trace import TraceWriter, read_trace
from tests.helpers import ENV


@pytest.fixture
def not_a_trace(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("hello\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record"], "record needs --upstream URL or --stdio-cmd CMD"),
        (["record", "--upstream", "ftp://x", "-o", "{tmp}/t.jsonl"], "expected an http(s):// URL"),
        (["record", "--upstream", "http://127.0.0.1:9/mcp", "--listen", "nope", "-o", "{tmp}/t.jsonl"], "HOST:PORT"),
        (["record", "--upstream", "http://127.0.0.1:9/mcp", "--redact", "(", "-o", "{tmp}/t.jsonl"], "--redact '('"),
        (["analyze", "{tmp}/missing.jsonl"], "cannot read the trace"),
        (["analyze", "{bad}"], "not an mcpload trace"),
        (["analyze", "{bad}", "--idle-threshold", "soon"], "--idle-threshold 'soon'"),
        (["fit", "{bad}"], "not an mcpload trace"),
        (["replay", "{bad}"], "replay needs --url URL or --stdio-cmd CMD"),
        (["import", "otlp", "{bad}", "-o", "{tmp}/t.jsonl"], "is not JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, not_a_trace, args, message):
    args = [a.format(tmp=tmp_path, bad=not_a_trace) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_fit_refuses_a_bad_scale(tmp_path):
    from tests.traffic.synth import synth_trace

    trace = synth_trace(tmp_path / "t.jsonl", sessions=10)
    result = CliRunner().invoke(app, ["fit", str(trace), "--scale", "0", "-o", str(tmp_path / "f.yaml")])
    assert result.exit_code == 2 and "--scale must be greater than 0" in result.output


def test_server_to_client_requests_are_paired_with_the_clients_answer(tmp_path):
    writer = TraceWriter(tmp_path / "t.jsonl", {})
    observer = Observer(writer, Redactor())
    observer.client("s", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask"}}, 1.0)
    observer.server("s", {"jsonrpc": "2.0", "id": "e1", "method": "elicitation/create", "params": {}}, 1.1)
    observer.client("s", {"jsonrpc": "2.0", "id": "e1", "result": {"action": "decline"}}, 1.6)
    observer.server("s", {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "secret echo"}}, 1.7)
    observer.close()
    writer.close()
    trace = read_trace(tmp_path / "t.jsonl")
    by_method = {c["method"]: c for c in trace.calls}
    assert by_method["elicitation/create"]["direction"] == "server"
    assert by_method["elicitation/create"]["latency"] == pytest.approx(0.5)
    assert by_method["tools/call"]["outcome"] == "rpc_error" and by_method["tools/call"]["error_code"] == -32000
    assert "secret echo" not in (tmp_path / "t.jsonl").read_text()


@pytest.mark.slow
def test_legacy_sse_traffic_is_recorded_per_session(tmp_path):
    trace = tmp_path / "t.jsonl"
    with demo_server(transport="sse", extra_args=("--latency", "1")) as upstream:
        port = free_port()
        recorder = subprocess.Popen(
            [sys.executable, "-m", "mcpload.cli", "record", "--upstream", upstream, "--listen", f"127.0.0.1:{port}",
             "-o", str(trace)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for_port("127.0.0.1", port, 30, recorder)
            done = subprocess.run(
                [sys.executable, "-m", "mcpload.cli", "diagnose", f"http://127.0.0.1:{port}/sse"],
                env=ENV, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(15)
            stop_process(recorder)
    recorded = read_trace(trace)
    tools = recorded.tool_calls()
    assert {c["tool"] for c in tools} >= {"search_docs", "get_doc"}
    assert all(c["outcome"] == "ok" and c["session"].startswith("s-") for c in tools)
    assert len({c["session"] for c in tools}) == 1


def test_record_on_a_taken_port_is_one_line_and_exit_2(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "mcpload.cli", "record", "--upstream", "http://127.0.0.1:9/mcp",
             "--listen", f"127.0.0.1:{port}", "-o", str(tmp_path / "t.jsonl")],
            env=ENV, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2 and f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
