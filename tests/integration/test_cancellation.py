"""A call mcpload gives up on stops loading the server (issue 14 §1, cancellation), checked on the
server's side: ``tests/cancel_server.py`` runs on the official Python SDK, which cancels a handler on
``notifications/cancelled`` (handshake era, and stdio) or when its response stream is closed
(Streamable HTTP, 2026-07-28), and counts the handlers cancelled."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpload import Session, Stdio, Target, connect
from mcpload.demo.launch import free_port, stop_process, wait_for_port

SERVER = str(Path(__file__).resolve().parents[1] / "cancel_server.py")


@pytest.fixture(scope="module")
def cancel_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop_process(proc)


async def counts(session: Session) -> dict[str, int]:
    for _ in range(50):  # the server's handler ends a moment after the cancellation reached it
        out = await session.call_tool("cancelled", {})
        assert out.ok, out
        if out.result["structuredContent"]["cancelled"]:
            break
        await asyncio.sleep(0.05)
    return out.result["structuredContent"]


async def timed_out_and_abandoned(session: Session) -> None:
    out = await session.call_tool("slow", {"seconds": 30}, timeout=0.3)
    assert out.kind == "timeout", out
    before = (await counts(session))["cancelled"]
    assert before == 1
    call = asyncio.ensure_future(session.call_tool("slow", {"seconds": 30}))  # an agent abandoning it
    await asyncio.sleep(0.3)
    call.cancel()
    await asyncio.wait((call,))
    for _ in range(50):
        now = (await session.call_tool("cancelled", {})).result["structuredContent"]
        if now["cancelled"] == before + 1:
            break
        await asyncio.sleep(0.05)
    assert now == {"cancelled": 2, "finished": 0}, now


@pytest.mark.parametrize("protocol", ["auto", "2025-11-25"])
async def test_stdio_calls_given_up_are_cancelled_on_the_server(protocol):
    session = Session(Stdio([sys.executable, SERVER]), protocol=protocol, timeout=15)
    try:
        assert (await session.open()).ok
        await timed_out_and_abandoned(session)
    finally:
        await session.close()


@pytest.mark.parametrize("protocol", ["auto", "2025-11-25"])
async def test_http_calls_given_up_are_cancelled_on_the_server(cancel_url, protocol):
    """2026-07-28 (auto): the response stream is closed; 2025-11-25: notifications/cancelled. A fresh
    server count per era: each era's sessions see the whole server's count, so it is read as a delta."""
    session, opened = await connect(Target(url=cancel_url, protocol=protocol, timeout=15))
    try:
        assert opened.ok, opened
        start = (await session.call_tool("cancelled", {})).result["structuredContent"]["cancelled"]
        out = await session.call_tool("slow", {"seconds": 30}, timeout=0.3)
        assert out.kind == "timeout"
        for _ in range(50):
            now = (await session.call_tool("cancelled", {})).result["structuredContent"]
            if now["cancelled"] > start:
                break
            await asyncio.sleep(0.05)
        assert now["cancelled"] == start + 1 and now["finished"] == 0, now
        assert session.cancellations_sent == (1 if protocol == "2025-11-25" else 0)
    finally:
        await session.close()
