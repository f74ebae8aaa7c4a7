"""The lean client against the demo server (official SDK) in each of its modes and transports."""

import asyncio
import urllib.request

import pytest

from mcpload import LegacySSE, Session, Stdio, StreamableHTTP, Target, connect


def delete_session(url: str, session_id: str) -> None:
    req = urllib.request.Request(url, method="DELETE", headers={"Mcp-Session-Id": session_id})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status in (200, 204)


async def exercise(session: Session) -> None:
    tools = await session.list_tools()
    assert tools.ok, tools
    assert {t["name"] for t in tools.result["tools"]} >= {"search_docs", "get_doc", "send_message"}
    out = await session.call_tool("search_docs", {"query": "retries", "limit": 3})
    assert out.ok, out
    assert out.bytes_sent > 0 and out.bytes_received > 0
    hits = out.result["structuredContent"]["results"]
    assert len(hits) == 3
    doc = await session.call_tool("get_doc", {"doc_id": hits[0]["id"]})
    assert doc.ok and hits[0]["id"] in doc.result["content"][0]["text"]
    res = await session.read_resource("docs://index")
    assert res.ok and "latency" in res.result["contents"][0]["text"]
    prompt = await session.get_prompt("summarize", {"doc_id": "d1"})
    assert prompt.ok and "d1" in str(prompt.result["messages"])
    bad = await session.call_tool("no_such_tool", {})
    assert bad.kind in ("tool_error", "rpc_error"), bad


async def test_stateful_http_auto_picks_modern_era(demo_url):
    session, opened = await connect(Target(url=demo_url))
    try:
        assert opened.ok, opened
        assert session.era == "modern" and session.protocol_version == "2026-07-28"
        assert opened.method == "server/discover"
        await exercise(session)
    finally:
        await session.close()


@pytest.mark.parametrize("protocol", ["2025-11-25", "2025-06-18", "2025-03-26"])
async def test_handshake_era_when_asked(demo_url, protocol):
    session = Session(StreamableHTTP(demo_url), protocol=protocol)
    opened = await session.open()
    try:
        assert opened.ok and opened.method == "initialize"
        assert session.era == "handshake" and session.protocol_version == protocol
        assert session.transport.session_id
        await exercise(session)
        assert (await session.ping()).ok
    finally:
        await session.close()


async def test_stateless_server(demo_stateless_url):
    session, opened = await connect(Target(url=demo_stateless_url))
    try:
        assert opened.ok and session.era == "modern"
        await exercise(session)
    finally:
        await session.close()


async def test_stateless_server_handshake_era(demo_stateless_url):
    session = Session(StreamableHTTP(demo_stateless_url), protocol="2025-11-25")
    try:
        assert (await session.open()).ok
        await exercise(session)
    finally:
        await session.close()


async def test_json_response_mode(demo_json_url):
    for protocol in ("auto", "2025-11-25"):
        session = Session(StreamableHTTP(demo_json_url), protocol=protocol)
        try:
            assert (await session.open()).ok
            await exercise(session)
        finally:
            await session.close()


async def test_legacy_sse(demo_sse_url):
    session, opened = await connect(Target(url=demo_sse_url))
    try:
        assert opened.ok and session.transport.name == "sse"
        assert "/messages/?session_id=" in session.transport.endpoint
        await exercise(session)
    finally:
        await session.close()


async def test_stdio(demo_stdio_cmd):
    session = Session(Stdio(demo_stdio_cmd), protocol="2025-11-25")
    try:
        assert (await session.open()).ok
        await exercise(session)
    finally:
        await session.close()
    assert session.transport.proc is None


async def test_stdio_auto_detects_modern(demo_stdio_cmd):
    session = Session(Stdio(demo_stdio_cmd))
    try:
        assert (await session.open()).ok
        assert session.era == "modern"
        assert (await session.call_tool("search_docs", {"query": "x"})).ok
    finally:
        await session.close()


async def test_modern_requests_carry_meta_and_headers(demo_url):
    """The SDK server rejects a modern request whose headers disagree with its body, so passing
    calls prove the Mcp-Method / Mcp-Name / MCP-Protocol-Version headers are right."""
    session = Session(StreamableHTTP(demo_url), protocol="2026-07-28")
    try:
        assert (await session.open()).ok
        out = await session.call_tool("send_message", {"to": "ops", "text": "héllo"})
        assert out.ok, out
        assert (await session.read_resource("docs://index")).ok
    finally:
        await session.close()


async def test_session_expiry_reinitializes_transparently(demo_url):
    seen = []
    session = Session(StreamableHTTP(demo_url), protocol="2025-11-25", on_outcome=seen.append)
    assert (await session.open()).ok
    old_id = session.transport.session_id
    # forget the session server-side, as a restart or an idle timeout would
    await asyncio.to_thread(delete_session, demo_url, old_id)
    out = await session.call_tool("search_docs", {"query": "after expiry"})
    try:
        assert out.ok, out
        assert out.retry_of is not None and out.retry_of.kind == "session_expired"
        assert out.retry_of.http_status == 404
        assert session.reinitializations == 1
        assert session.transport.session_id not in (None, old_id)
        assert [o.kind for o in seen] == ["ok", "session_expired", "ok", "ok"]
        assert [o.method for o in seen] == ["initialize", "tools/call", "initialize", "tools/call"]
    finally:
        await session.close()


async def test_failure_injection_is_a_tool_error():
    from mcpload.demo.launch import demo_server

    with demo_server(extra_args=("--latency", "0", "--failure-rate", "search_docs=1")) as url:
        session, _opened = await connect(Target(url=url))
        try:
            out = await session.call_tool("search_docs", {"query": "x"})
            assert out.kind == "tool_error" and "simulated backend failure" in out.error_message
            assert (await session.call_tool("get_doc", {"doc_id": "a"})).ok
        finally:
            await session.close()


async def test_matches_official_sdk_client(demo_url):
    """Reference check: the official SDK client and mcpload see the same tool result."""
    from mcp import Client

    async with Client(demo_url) as client:
        ref = await client.call_tool("search_docs", {"query": "parity", "limit": 2})
    session, _ = await connect(Target(url=demo_url))
    try:
        out = await session.call_tool("search_docs", {"query": "parity", "limit": 2})
    finally:
        await session.close()
    assert out.result["structuredContent"] == ref.structured_content


async def test_close_sends_delete_and_server_forgets(demo_url):
    session = Session(StreamableHTTP(demo_url), protocol="2025-11-25")
    await session.open()
    sid = session.transport.session_id
    await session.close()
    probe = StreamableHTTP(demo_url)
    probe.session_id = sid
    probe.set_protocol("2025-11-25", False)
    from mcpload.transports.base import CallFailure

    with pytest.raises(CallFailure) as info:
        await probe.request(1, b'{"jsonrpc":"2.0","id":1,"method":"ping"}', "ping", None, 5)
    await probe.close()
    assert info.value.kind == "session_expired"


def test_sse_transport_class_exported():
    assert LegacySSE.name == "sse"
