"""Hostile servers (issue 18 §2, §3): every wrong shape, id, encoding or size a server sends is a
``protocol`` outcome of the call (or the session open) it hit — never an exception, never a dead reader —
and what the client holds stays bounded. Real loopback servers: ``tests/badserver.py`` (HTTP, legacy
SSE) and ``tests/stdio_hostile.py``; the hostile messages are in ``tests/hostile.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from mcpload import Session, StreamableHTTP
from mcpload.engine.preflight import PreflightError, preflight
from mcpload.mcp.connect import Target, connect
from mcpload.mcp.shapes import MAX_NAMES
from mcpload.transports.base import CallFailure
from mcpload.transports.legacy_sse import LegacySSE
from mcpload.transports.stdio import Stdio
from tests import hostile
from tests.badserver import ENDPOINTS, bad_server
from tests.helpers import call_echo

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_STDIO = str(ROOT / "tests" / "stdio_hostile.py")
MIB = 1024 * 1024


# tools/call answered with every hostile shape, as JSON and as an SSE event


@pytest.mark.parametrize("framing", ["evil", "evil-sse"])
async def test_hostile_call_responses_are_protocol(framing):
    async with bad_server() as base:
        for variant in hostile.CALLS:
            out = await call_echo(f"{base}/{framing}/call/{variant}")
            assert out.kind == "protocol", (variant, out)
            assert out.result is None or isinstance(out.result, dict), variant
        assert (await call_echo(base + "/ok")).ok


# session open with hostile initialize results: a failed open with a protocol outcome


@pytest.mark.parametrize("protocol", ["2025-11-25", "auto"])
async def test_hostile_initialize_fails_the_open_as_protocol(protocol):
    async with bad_server() as base:
        for variant in hostile.INIT:
            target = Target(url=f"{base}/evil/init/{variant}", protocol=protocol, transport="http")
            session, out = await connect(target)
            assert out.kind == "protocol", (variant, out)
            assert session.era is None and session.server_info == {}, variant


async def test_hostile_initialize_with_transport_auto_reports_the_protocol_failure():
    """The next transport tried (legacy SSE) fails too, differently: the server's wrong answer is reported."""
    async with bad_server() as base:
        _, out = await connect(Target(url=f"{base}/evil/init/serverinfo-string", protocol="2025-11-25"))
    assert out.kind == "protocol" and "serverInfo" in out.error_message, out


@pytest.mark.parametrize("variant", ["serverinfo-string", "capabilities-list", "version-list", "id-list", "deep"])
async def test_hostile_initialize_over_stdio_and_legacy_sse(variant):
    async with bad_server() as base:
        targets = [
            Target(url=f"{base}/legacy/init/{variant}/sse", transport="sse", protocol="2025-11-25", timeout=3),
            Target.stdio([sys.executable, HOSTILE_STDIO, "init", variant], protocol="2025-11-25", timeout=3),
        ]
        for target in targets:
            _, out = await connect(target)
            assert out.kind == "protocol", (target.transport, variant, out)


# tools/list: shape-checked, so that preflight and diagnose never see a bad tool entry


async def test_hostile_tools_list_is_protocol():
    async with bad_server() as base:
        for variant in hostile.LISTS:
            session, opened = await connect(Target(url=f"{base}/evil/list/{variant}", protocol="2025-11-25"))
            assert opened.ok, opened
            try:
                out = await session.list_tools()
            finally:
                await session.close()
            assert out.kind == "protocol" and out.result is None, (variant, out)


@pytest.mark.parametrize("variant", ["tools-string", "tool-name-list", "tool-name-number", "tool-schema-string"])
async def test_hostile_tools_list_fails_preflight_cleanly(variant):
    async with bad_server() as base:
        target = Target(url=f"{base}/evil/list/{variant}", protocol="2025-11-25")
        with pytest.raises(PreflightError) as err:
            await preflight(target, {"echo": "agents.a.workflow[0]"}, [], "s.yaml")
    assert err.value.code == 3 and "protocol" in str(err.value), err.value


# the channel-shared transports: a bad message fails its call, the reader keeps going


@pytest.mark.parametrize("variant", ["id-list", "id-object", "id-float", "id-bool", "id-huge", "invalid-utf8", "deep"])
@pytest.mark.parametrize("transport", ["stdio", "sse"])
async def test_bad_response_on_a_shared_channel_fails_one_call_only(transport, variant):
    async with bad_server() as base:
        if transport == "stdio":
            t = Stdio([sys.executable, HOSTILE_STDIO, "call", variant])
        else:
            t = LegacySSE(f"{base}/legacy/call/{variant}/sse")
        session = Session(t, protocol="2025-11-25", timeout=5)
        try:
            assert (await session.open()).ok
            first = await session.call_tool("echo")
            second = await session.call_tool("echo")
        finally:
            await session.close()
    assert first.kind == "protocol", first
    assert first.latency < 4, first  # at once, not when the call times out
    assert second.ok, second


async def two_calls(session: Session) -> tuple[Any, Any, int]:
    """Open ``session``, call ``echo`` twice (the hostile answer, then a good one) and close it: both
    outcomes and the peak of memory traced meanwhile (a bounded reader never holds the oversize part)."""
    tracemalloc.start()
    try:
        assert (await session.open()).ok
        first = await session.call_tool("echo")
        second = await session.call_tool("echo")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await session.close()
    return first, second, peak


@pytest.mark.parametrize(
    ("variant", "kind"),
    [
        ("oversize-id-first", "protocol"),
        ("oversize-id-last", "protocol"),
        ("oversize-no-id", "protocol"),
        ("oversize-no-newline-then-ok", "protocol"),
        ("invalid-utf8", "protocol"),
        ("stray-log", "ok"),
        ("crlf", "ok"),
        ("batch", "ok"),
    ],
)
async def test_stdio_line_over_the_limit_fails_its_call_and_reading_goes_on(variant, kind):
    session = Session(Stdio([sys.executable, HOSTILE_STDIO, "stream", variant], max_line=64 * 1024), timeout=5)
    first, second, peak = await two_calls(session)
    assert first.kind == kind, first
    assert first.latency < 4, first
    assert second.ok, second  # today's reader is still reading
    assert peak < MIB, peak  # the 2 MiB line was never held


@pytest.mark.parametrize("variant", ["oversize-event", "oversize-line", "invalid-utf8", "malformed"])
async def test_legacy_stream_survives_a_bad_event(variant):
    async with bad_server() as base:
        t = LegacySSE(f"{base}/legacy/stream/{variant}/sse", max_body=MIB)
        first, second, peak = await two_calls(Session(t, protocol="2024-11-05", timeout=5))
    assert first.kind == "protocol" and first.latency < 4, first
    assert second.ok, second
    assert peak < 3 * MIB, peak


@pytest.mark.parametrize("variant", list(ENDPOINTS))
async def test_hostile_endpoint_event_fails_the_open(variant):
    async with bad_server() as base:
        _, out = await connect(Target(url=f"{base}/legacy/endpoint/{variant}/sse", transport="sse", timeout=3))
    assert out.kind == "protocol", out
    assert out.latency < 2.5, out


# limits on every path: max_response_bytes (1 MiB here) and the response head


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("sse-many-lines", "over 1048576 bytes"),
        ("sse-short-lines", "over 1048576 bytes"),
        ("sse-many-events", "over 1048576 bytes"),
        ("sse-long-line", "over 1048576 bytes"),
        ("chunked", "over 1048576 bytes"),
        ("many-headers", "header lines"),
        ("huge-header", "over 65536 bytes"),
        ("huge-status", "over 65536 bytes"),
        ("huge-trailer", "over 65536 bytes"),
        ("chunk-extension", ""),
    ],
)
async def test_floods_are_protocol_with_bounded_memory(path, detail):
    async with bad_server() as base:
        tracemalloc.start()
        try:
            # The outcome is decided by bytes (the 1 MiB bound), never by time: under tracemalloc 1 MiB of
            # 8-byte SSE lines is ~130,000 traced lines, a second of CPU, several on a busy machine. A
            # generous deadline, so that a slow machine is not mistaken for a hung flood.
            out = await call_echo(f"{base}/flood/{path}", timeout=60, max_body=MIB)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        after = await call_echo(base + "/ok")
    assert out.kind == "protocol" and detail in (out.error_message or ""), out
    assert peak < 4 * MIB, peak  # never the 8 MiB the server sends
    assert after.ok


async def test_notification_names_are_bounded_per_session():
    async with bad_server() as base:
        session = Session(StreamableHTTP(f"{base}/flood/notification-names"), protocol="2025-11-25")
        try:
            out = await session.call_tool("echo")
        finally:
            await session.close()
    assert out.ok, out
    assert len(session.server_notifications) == MAX_NAMES
    assert sum(session.server_notifications.values()) == 5000


# Mcp-Session-Id: never echoed unless visible ASCII of a sane length


@pytest.mark.parametrize("variant", list(hostile.SESSION_IDS))
async def test_hostile_session_id_fails_the_open(variant):
    async with bad_server() as base:
        session, out = await connect(Target(url=f"{base}/sid/{variant}", protocol="2025-11-25", transport="http"))
    assert out.kind == "protocol", out
    assert session.transport.session_id is None


@pytest.mark.parametrize(
    ("variant", "kind"),
    [
        ("upper-sse", "ok"),
        ("json-param-sse", "ok"),
        ("missing", "ok"),
        ("empty", "ok"),
        ("two", "ok"),
        ("sse-body-as-json", "protocol"),
        ("json-body-as-sse", "protocol"),
    ],
)
async def test_odd_content_types(variant, kind):
    async with bad_server() as base:
        out = await call_echo(f"{base}/ctype/{variant}")
    assert out.kind == kind, out


# time bounds a server cannot stretch


async def test_sse_retry_never_waits_past_the_call_timeout():
    async with bad_server() as base:
        started = time.monotonic()
        out = await call_echo(base + "/sse-long-retry", timeout=0.5)
    assert out.kind == "timeout" and time.monotonic() - started < 2, out


async def test_a_stdio_server_that_does_not_read_stdin_times_out_the_call():
    t = Stdio([sys.executable, "-c", "import time; time.sleep(30)"], shutdown_timeout=0.5)
    await t.start()
    try:
        big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"p" * 300_000 + b'"}}'
        with pytest.raises(CallFailure) as err:  # not asyncio's TimeoutError: the call itself gave up
            await asyncio.wait_for(t.request(1, big, "ping", None, 0.5), 5)
    finally:
        await t.close()
    assert err.value.kind == "timeout", err.value
