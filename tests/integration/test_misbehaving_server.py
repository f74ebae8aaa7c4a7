"""Every misbehaviour of a server is measured as an outcome, never raised (real sockets, no mocks)."""

import pytest

from mcpload import Session, StreamableHTTP
from tests.badserver import bad_server


async def call(base: str, path: str, timeout: float = 5.0, **transport_kw):
    session = Session(StreamableHTTP(base + path, **transport_kw), protocol="2025-11-25", timeout=timeout)
    try:
        return await session.call_tool("echo", {"message": "hi"})
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("path", "kind", "detail"),
    [
        ("/ok", "ok", None),
        ("/malformed", "protocol", "malformed JSON"),
        ("/wrong-id", "protocol", "999"),
        ("/no-result", "protocol", "neither result nor error"),
        ("/http500", "http_error", "internal trouble"),
        ("/rpc-error", "rpc_error", "Unknown tool"),
        ("/tool-error", "tool_error", "boom"),
        ("/close", "transport", "closed"),
        ("/html", "protocol", "malformed JSON"),
        ("/garbage", "protocol", "malformed HTTP"),
        ("/sse-truncated", "protocol", "malformed JSON in SSE"),
        ("/sse-ends", "protocol", "ended without a response"),
        ("/sse-notify-then-response", "ok", None),
    ],
)
async def test_outcome_kinds(path, kind, detail):
    async with bad_server() as base:
        out = await call(base, path)
    assert out.kind == kind, out
    if detail:
        assert detail in (out.error_message or ""), out.error_message


async def test_timeout_is_an_outcome():
    async with bad_server() as base:
        out = await call(base, "/slow", timeout=0.3)
    assert out.kind == "timeout"
    assert 0.25 < out.latency < 2


async def test_oversize_body_is_protocol():
    async with bad_server() as base:
        out = await call(base, "/oversize", max_body=1024 * 1024)
    assert out.kind == "protocol" and "over" in out.error_message


async def test_refused_connection_is_transport():
    from mcpload.demo.launch import free_port

    out = await call(f"http://127.0.0.1:{free_port()}", "/mcp")
    assert out.kind == "transport" and "cannot connect" in out.error_message


async def test_keep_alive_reuses_one_connection():
    async with bad_server() as base:
        t = StreamableHTTP(base + "/ok")
        session = Session(t, protocol="2025-11-25")
        for _ in range(5):
            assert (await session.call_tool("echo")).ok
        assert len(t._pool._all) == 1
        await session.close()


async def test_bytes_are_counted():
    async with bad_server() as base:
        out = await call(base, "/ok")
    assert out.bytes_sent > 100 and out.bytes_received > 50
