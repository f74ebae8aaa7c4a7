"""Progress, timeouts that follow progress, and cancellation (issue 14 §1 and §2.7), against
server-everything's ``trigger-long-running-operation`` (progress every duration/steps seconds)."""

from __future__ import annotations

import json
import subprocess

import pytest

from mcpload import Target, connect
from mcpload.mcp.progress import Progress
from tests.helpers import MCPLOAD

pytestmark = pytest.mark.node
LONG = "trigger-long-running-operation"


async def test_progress_is_counted_and_resets_the_timeout(everything_url):
    session, opened = await connect(Target(url=everything_url))
    assert opened.ok, opened
    try:
        seen = Progress()
        out = await session.call_tool(LONG, {"duration": 0.6, "steps": 3}, progress=seen)
        assert out.ok and seen.count == 3, (out, seen.count)
        assert out.started < seen.first <= seen.last <= out.started + out.latency
        # 2 s of work with progress every 0.4 s: a 1 s timeout that runs from the latest progress holds
        watched = Progress(reset_timeout=True, max_total=30)
        out = await session.call_tool(LONG, {"duration": 2, "steps": 5}, timeout=1.0, progress=watched)
        assert out.ok and watched.count == 5 and out.latency >= 2, out
        # … and a plain call with the same timeout times out, and the server is told (handshake era)
        out = await session.call_tool(LONG, {"duration": 2, "steps": 5}, timeout=1.0)
        assert out.kind == "timeout" and session.cancellations_sent == 1, out
        # the total still bounds a call that keeps reporting progress
        capped = Progress(reset_timeout=True, max_total=1.2)
        out = await session.call_tool(LONG, {"duration": 3, "steps": 15}, timeout=1.0, progress=capped)
        assert out.kind == "timeout" and "1.2 s" in out.error_message and capped.count >= 1, out
        assert (await session.call_tool("echo", {"message": "still fine"})).ok
    finally:
        await session.close()


@pytest.mark.slow
def test_diagnose_waits_for_a_long_tool_that_reports_progress(everything_url):
    """§2.7: diagnose's sample call of trigger-long-running-operation (10 s with its default arguments)
    no longer times out: the call timeout runs from the latest progress notification."""
    proc = subprocess.run(
        [MCPLOAD, "diagnose", everything_url, "--call-tools", LONG, "--call-timeout", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    call = checks[f"tools/call {LONG}"]
    assert call["status"] == "PASS" and call["ms"] > 3000, call
