"""Faults survived by whole runs (issue 7 §1): the run goes on, each fault is counted in the right outcome
category, sessions recover where the protocol allows, and the results are written. Real loopback
servers only: the demo server (killed and restarted), ``tests/badserver.py`` and a stdio server that dies.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from mcpload.demo.launch import free_port, stop_process, wait_for_port
from mcpload.engine.execute import run_scenario
from mcpload.metrics import read_intervals
from mcpload.scenario import Scenario
from tests.badserver import STATE, bad_server
from tests.helpers import call_echo, mcpload

ROOT = Path(__file__).resolve().parents[2]
DYING = str(ROOT / "tests" / "stdio_dying.py")
ECHO = "tools/call echo"
SEARCH = "tools/call search_docs"


def make(target: dict[str, Any], workflow: list[Any], profile: dict[str, Any], **agent: Any) -> Scenario:
    data = {"target": target, "agents": {"a": {"workflow": workflow, **agent}}, "profiles": profile}
    return Scenario.from_dict(data, source="<test>")


def errors(results: dict[str, Any]) -> dict[str, int]:
    """Failed calls by outcome kind, over every operation."""
    total: dict[str, int] = {}
    for op in results["operations"].values():
        for kind, n in op["errors"].items():
            total[kind] = total.get(kind, 0) + n
    return total


def start_demo(port: int, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), "--latency", "1", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port, 30, proc)
    return proc


# (a) + (d): the server process killed mid-run, then restarted on the same port


async def test_server_killed_and_restarted_mid_run(tmp_path):
    """While the server is down calls fail as ``transport``; the restarted (stateful) server has forgotten
    every session at once, so each agent's next call is ``session_expired`` and it re-initializes; calls
    succeed again; the results and intervals are written."""
    port = free_port()
    proc = start_demo(port)
    url = f"http://127.0.0.1:{port}/mcp"
    workflow = [{"call": "search_docs", "args": {"query": "x"}}, {"think": "50ms"}]
    # 10 s: the restarted server (a Python process importing the SDK) may take seconds to come back on a
    # busy machine, and agents that failed in a row back off up to 2 s: the last seconds must be clean
    profile = {"type": "constant-agents", "agents": 4, "duration": "10s"}
    # idle: a failed conversation skips its think; without a pause the agents would spin on the refused port
    target = {"url": url, "protocol": "2025-11-25", "timeout": 2, "connect_timeout": 1}  # a classic, stateful session
    scenario = make(target, workflow, profile, idle="50ms")
    out, intervals = tmp_path / "r.json", tmp_path / "r.ndjson"

    async def fault() -> subprocess.Popen:
        await asyncio.sleep(1.5)
        proc.kill()
        proc.wait()
        down_at = time.monotonic()
        await asyncio.sleep(1.0)
        restarted = await asyncio.to_thread(start_demo, port)
        return restarted, time.monotonic() - down_at

    task = asyncio.create_task(fault())
    try:
        report = await run_scenario(scenario, seed=1, out=out, intervals=intervals)
    finally:
        restarted, downtime = await task
        stop_process(restarted)
    res = report.results
    errs = errors(res)
    assert errs.get("transport", 0) > 0, errs
    assert errs.get("session_expired", 0) >= 1, errs  # the storm: every old session id is unknown
    assert res["operations"]["initialize"]["calls"] >= 4 + errs["session_expired"]  # each re-initialized
    assert set(errs) <= {"transport", "session_expired"}, errs
    assert res["operations"][SEARCH]["ok"] > 20
    written = json.loads(out.read_text())
    assert written["totals"]["calls"] == res["totals"]["calls"]
    _, rows, _ = read_intervals(intervals)
    # calls succeed before the kill and again at the end, after the restart
    last = [r for r in rows if r["calls"]][-1]
    assert rows[0]["ok"] > 0 and last["ok"] > 0 and last["failed"] == 0, last
    assert any(r["errors"].get("transport") for r in rows)
    assert downtime < 4


async def test_session_expiry_storm_on_a_running_server():
    """The server keeps running but drops every session at once (at its 20th tools/call): each agent's
    next call is ``session_expired``, it re-initializes and goes on; nothing else fails."""
    workflow = [{"call": "echo", "args": {}}, {"think": "20ms"}]
    profile = {"type": "constant-agents", "agents": 4, "duration": "1.5s"}
    async with bad_server() as base:
        target = {"url": base + "/storm", "protocol": "2025-11-25", "transport": "http"}
        res = (await run_scenario(make(target, workflow, profile), seed=1)).results
        inits = STATE["inits"]
    errs = errors(res)
    assert errs == {"session_expired": 4}, errs  # one per agent: every session was dropped
    assert res["operations"]["initialize"]["calls"] == 4 + 4  # the agents, then their re-initializations
    assert inits == 1 + 8  # and the preflight session
    assert res["operations"][ECHO]["ok"] > 40


# (b) connection reset mid-response; slow drip past the call timeout


async def test_connection_reset_mid_body_is_transport():
    async with bad_server() as base:
        out = await call_echo(base + "/reset-mid-body")
        after = await call_echo(base + "/ok")  # the client moves on
    assert out.kind == "transport", out
    assert after.ok


async def test_slow_drip_past_the_timeout_is_timeout():
    async with bad_server() as base:
        started = time.monotonic()
        out = await call_echo(base + "/drip", timeout=0.5)
        elapsed = time.monotonic() - started
        after = await call_echo(base + "/ok")
    assert out.kind == "timeout", out
    assert elapsed < 1.5  # the drip would take 2 s: the timeout cut it
    assert after.ok


# (c) HTTP 500 / 503 / 429 with Retry-After


@pytest.mark.parametrize(("path", "status"), [("/http500", 500), ("/http503", 503)])
async def test_http_5xx_is_http_error_with_status(path, status):
    async with bad_server() as base:
        out = await call_echo(base + path)
    assert out.kind == "http_error" and out.http_status == status, out


async def test_429_retry_after_is_honoured_by_a_policy_that_asks(tmp_path):
    retry = {"attempts": 3, "backoff": "10ms", "on": ["http_error"], "respect_retry_after": True}
    workflow = [{"call": "echo", "args": {}, "retry": retry}]
    profile = {"type": "agent-arrival-rate", "rate": 1, "duration": "1s", "distribution": "even"}
    async with bad_server() as base:
        target = {"url": base + "/flaky429", "protocol": "2025-11-25", "transport": "http"}
        res = (await run_scenario(make(target, workflow, profile), seed=1)).results
        times = list(STATE["flaky429"])
    assert len(times) == 2, times  # 429, then (after the Retry-After) ok
    assert times[1] - times[0] >= 1.0, times
    op = res["operations"][ECHO]
    assert op["errors"] == {"http_error": 1} and op["ok"] == 1 and op["retries"] == 1
    assert res["conversations"]["ok"] == 1


async def test_429_retry_after_is_ignored_unless_asked():
    retry = {"attempts": 3, "backoff": "10ms", "on": ["http_error"]}
    workflow = [{"call": "echo", "args": {}, "retry": retry}]
    profile = {"type": "agent-arrival-rate", "rate": 1, "duration": "1s", "distribution": "even"}
    async with bad_server() as base:
        target = {"url": base + "/flaky429", "protocol": "2025-11-25", "transport": "http"}
        await run_scenario(make(target, workflow, profile), seed=1)
        times = list(STATE["flaky429"])
    assert len(times) == 2 and times[1] - times[0] < 0.5, times


async def test_429_outcome_carries_retry_after():
    async with bad_server() as base:
        STATE["flaky429"].clear()
        out = await call_echo(base + "/flaky429")
    assert out.kind == "http_error" and out.http_status == 429 and out.retry_after == 1.0, out


# (e) stdio server processes exiting mid-run


async def test_stdio_server_exiting_mid_run(tmp_path):
    workflow = [{"call": "echo", "args": {}}, {"think": "20ms"}]
    profile = {"type": "constant-agents", "agents": 2, "duration": "2s"}
    target = {"command": [sys.executable, DYING, "3"], "protocol": "2025-11-25", "timeout": 2}
    out = tmp_path / "r.json"
    report = await run_scenario(make(target, workflow, profile), seed=1, out=out)
    res = report.results
    errs = errors(res)
    op = res["operations"][ECHO]
    # every 4th call kills its process: counted as transport; the session is re-created and goes on
    assert errs.get("transport", 0) >= 4, errs
    assert op["ok"] >= 3 * errs["transport"] - 6, op
    assert json.loads(out.read_text())["totals"]["calls"] == res["totals"]["calls"]


# (f) the target never reachable


def test_unreachable_target_preflight_fails_fast(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/mcp"
    (tmp_path / "s.yaml").write_text(
        f"target: {{url: '{url}'}}\n"
        "agents: {a: {workflow: [{call: search_docs}]}}\n"
        "profiles: {type: constant-agents, agents: 1, duration: 1s}\n"
    )
    started = time.monotonic()
    res = mcpload("run", "s.yaml", "-q", cwd=tmp_path, timeout=30)
    assert time.monotonic() - started < 10
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "Traceback" not in res.stderr, res.stderr


# (g) a 10 MB response beyond the configured maximum


async def test_huge_response_is_protocol_with_bounded_memory():
    async with bad_server() as base:
        tracemalloc.start()
        try:
            out = await call_echo(base + "/huge", max_body=1024 * 1024)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        after = await call_echo(base + "/ok")
    assert out.kind == "protocol" and "over 1048576 bytes" in out.error_message, out
    assert peak < 4 * 1024 * 1024, peak  # never the whole 10 MiB
    assert after.ok


def test_max_response_bytes_reaches_the_transports():
    workflow = [{"call": "echo"}]
    profile = {"type": "constant-agents", "agents": 1, "duration": "1s"}
    target = make({"url": "http://127.0.0.1:1/mcp", "max_response_bytes": 2048}, workflow, profile).to_target()
    assert target.max_response_bytes == 2048
    assert target.make_transport("http").max_body == 2048
    assert target.make_transport("sse").max_body == 2048
    default = make({"url": "http://127.0.0.1:1/mcp"}, workflow, profile).to_target()
    assert default.make_transport("http").max_body == 16 * 1024 * 1024
