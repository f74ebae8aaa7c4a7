"""``--dashboard``: the live page in headless Chromium while a run goes (the report's charts filled
from the events, findings as they are drawn, the stop button ending the run as Ctrl-C does), and
the server's guards (Host, token, size, clients, slow readers) over raw HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from mcpload.demo.launch import demo_server, free_port
from mcpload.outputs import dashboard as dash
from tests.conftest import need

pytest.importorskip("plotly", reason="the dashboard needs the `report` extra (plotly)")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.mark.slow
def test_the_page_while_a_run_goes_and_its_stop_button(tmp_path):
    need(CHROMIUM is not None, "chromium is not installed (apt-get install chromium)")
    from tests.cdp import Browser

    port = free_port()
    out = tmp_path / "r.json"
    with demo_server(extra_args=("--latency", "3", "--failure-rate", "search_docs=0.15", "--seed", "3")) as url:
        cmd = [sys.executable, "-m", "mcpload.cli", "run", "--url", url, "--tool", "search_docs", "--args",
               '{"query": "q"}', "--agents", "3", "--duration", "40s", "--quiet", "--out", str(out),
               "--dashboard", f"127.0.0.1:{port}"]  # fmt: skip
        run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        browser = None
        try:
            deadline = time.monotonic() + 60
            while "dashboard: http://" not in (line := run.stderr.readline()) and time.monotonic() < deadline:
                assert line or run.poll() is None, "mcpload exited before serving the dashboard"
            browser = Browser(CHROMIUM, tmp_path / "profile")
            browser.open(f"http://127.0.0.1:{port}/")
            # the report's charts, filled live: every chart of the page drawn, the tiles counting
            drawn = "document.querySelectorAll('figure:not([hidden]) .main-svg').length"
            browser.wait_for(f"{drawn} >= 8 && document.getElementById('calls').textContent !== '–'", 40)
            first = int(browser.evaluate("document.getElementById('calls').textContent"))
            browser.wait_for(f"parseInt(document.getElementById('calls').textContent) > {first}", 20)
            captions = browser.evaluate("[...document.querySelectorAll('figcaption')].map(c => c.textContent)")
            assert "Calls and failures per second" in captions and "Errors over time by kind" in captions
            names = browser.evaluate(
                "document.getElementById('chart-op_rate').data.map(t => t.name).concat("
                "document.getElementById('chart-errors_time').data.map(t => t.name))"
            )
            assert names == ["server/discover", "tools/call search_docs", "tool_error"]
            # a finding, drawn while the run goes (15 % of calls fail from the start)
            found = browser.wait_for("document.querySelector('#findings li.sev-warning')?.textContent", 30)
            assert "baseline-error-rate" in found
            # nothing from the network: every script inline, no src/href
            assert browser.evaluate("document.querySelectorAll('[src],[href]').length") == 0
            assert run.poll() is None, "the run ended before the stop button was pressed"
            browser.evaluate("document.getElementById('stop').click()")
            status = browser.wait_for(
                "document.body.className === 'ended' && document.getElementById('status').textContent", 30
            )
            assert status == "Run stopped."
        finally:
            if browser is not None:
                browser.close()
            try:
                run.wait(60)
            finally:
                if run.poll() is None:
                    run.kill()
                    run.wait()
    assert run.returncode == 130  # as Ctrl-C: interrupted, results written
    results = json.loads(out.read_text())
    assert results["stopped_by_user"] is True and results["duration_s"] < 35


# --- the server, over raw HTTP -----------------------------------------------------------------------


async def _request(port: int, head: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return int(data.split(b" ", 2)[1]), data


async def _running(output: dash.DashboardOutput) -> None:
    output.start({"scenario": "t", "target": {"url": "http://127.0.0.1:1/mcp"}}, None)
    await output._starting


@pytest.fixture
def stops():
    return []


@pytest.fixture
async def output(stops):
    out = dash.DashboardOutput(f"127.0.0.1:{free_port()}", on_stop=lambda: stops.append(1))
    out.listen()
    await _running(out)
    yield out
    out.stop({})
    await asyncio.sleep(0.05)  # the handlers see their streams end


def _head(method: str, path: str, port: int, host: str | None = None, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{extra}\r\n".encode()


async def test_page_stop_and_guards(output, stops):
    port = output.port
    status, page = await _request(port, _head("GET", "/", port))
    assert status == 200 and b"Content-Security-Policy" in page and b"connect-src 'self'" in page
    token = re.search(rb'"token":"([^"]+)"', page).group(1).decode()
    assert (await _request(port, _head("GET", "/", port, host=f"evil.example:{port}")))[0] == 403  # DNS rebinding
    assert (await _request(port, _head("POST", "/stop", port)))[0] == 403  # no token: another page cannot stop it
    assert (await _request(port, _head("POST", "/stop", port, extra="X-Mcpload-Token: nope\r\n")))[0] == 403
    assert stops == []
    assert (await _request(port, _head("POST", "/stop", port, extra=f"X-Mcpload-Token: {token}\r\n")))[0] == 202
    assert (await _request(port, _head("POST", "/stop", port, extra=f"X-Mcpload-Token: {token}\r\n")))[0] == 202
    await asyncio.sleep(0.05)
    assert stops == [1]  # once
    assert (await _request(port, _head("GET", "/nope", port)))[0] == 404
    # a head too big, or one that never ends, is dropped
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nX: " + b"a" * (dash.MAX_HEAD_BYTES * 2))
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()


async def _events(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_head("GET", "/events", port))
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    return reader, writer


async def _next_event(reader: asyncio.StreamReader) -> tuple[str, object]:
    raw = await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)
    name, data = raw.decode().strip().split("\n")
    return name.removeprefix("event: "), json.loads(data.removeprefix("data: "))


async def test_events_backlog_intervals_and_done(output):
    iv = {"t": 1.0, "calls": 5, "ops": {"x": {"calls": 5}}, "state": {"big": 1}}
    snapshot = {"totals": {"calls": 5, "calls_per_s": 5.0, "success_rate": 1.0}, "latency_ms": {"p95": 2.0}}
    output.interval(iv, snapshot)
    reader, writer = await _events(output.port)
    assert await _next_event(reader) == ("backlog", [{"t": 1.0, "calls": 5, "ops": {"x": {"calls": 5}}}])
    output.interval({**iv, "t": 2.0}, snapshot)
    assert (await _next_event(reader))[0] == "interval"
    name, totals = await _next_event(reader)
    assert name == "totals" and totals["calls"] == 5 and totals["p95_ms"] == 2.0
    output.stop({"findings": [{"id": "f", "severity": "info", "title": "t"}], "thresholds": [{"passed": False}]})
    name, done = await _next_event(reader)
    assert name == "done" and done["passed"] is False and done["findings"][0]["id"] == "f"
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the stream ends with the run
    writer.close()


async def test_clients_are_bounded_and_slow_readers_dropped(output, monkeypatch):
    streams = [await _events(output.port) for _ in range(dash.MAX_CLIENTS)]
    assert (await _request(output.port, _head("GET", "/events", output.port)))[0] == 503
    for _, writer in streams[1:]:
        writer.close()
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(output._clients) == 1:
            break
    assert len(output._clients) == 1  # the closed ones are gone
    monkeypatch.setattr(dash, "MAX_BUFFERED", 1000)
    monkeypatch.setattr(dash, "MAX_INTERVALS", 5)
    for i in range(200):  # the one left reads nothing: once the socket buffers fill, it is dropped
        output.interval({"t": float(i), "pad": "x" * 100_000}, {})
        await asyncio.sleep(0)
        if not output._clients:
            break
    assert not output._clients and len(output._intervals) == 5
    streams[0][1].close()


def test_addresses():
    assert dash.is_loopback("127.0.0.1") and dash.is_loopback("::1") and dash.is_loopback("localhost")
    assert not dash.is_loopback("0.0.0.0") and not dash.is_loopback("192.168.1.4")
    with pytest.raises(ValueError):
        dash.DashboardOutput("nonsense")


def test_a_busy_or_bad_address_exits_2_before_the_run(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        for address, text in ((f"127.0.0.1:{port}", "cannot listen"), ("nope", "expected HOST:PORT")):
            cmd = [sys.executable, "-m", "mcpload.cli", "run", "--url", "http://127.0.0.1:9/mcp", "--tool", "t",
                   "--dashboard", address]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert proc.returncode == 2 and text in proc.stderr and "Traceback" not in proc.stderr


def test_the_page_uses_the_reports_charts():
    from mcpload.outputs.dashboard_page import FIXED, ORDER, chart_specs

    template, specs = chart_specs()
    assert template and [s["id"] for s in specs] == [f"chart-{k}" for k in ORDER]
    for spec in specs:
        if spec.get("traces"):
            assert [t["key"] for t in spec["traces"]] == [k for k, _ in FIXED[spec["id"][6:]][1]]
            assert all("x" not in t and "y" not in t for t in spec["traces"])
