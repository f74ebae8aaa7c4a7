"""The lean client against @modelcontextprotocol/server-everything@2026.8.31 (npm, TypeScript SDK)."""

import asyncio
import urllib.request

import pytest

from mcpload import Session, Stdio, StreamableHTTP, Target, connect

pytestmark = pytest.mark.node


async def exercise(session: Session) -> None:
    tools = await session.list_tools()
    assert tools.ok, tools
    names = {t["name"] for t in tools.result["tools"]}
    assert {"echo", "get-sum"} <= names
    # we declare no sampling/elicitation/roots, so the tools needing them are not offered
    assert not any("sampling" in n or "elicitation" in n for n in names)
    echo = await session.call_tool("echo", {"message": "hello mcpload"})
    assert echo.ok and "hello mcpload" in echo.result["content"][0]["text"]
    total = await session.call_tool("get-sum", {"a": 2, "b": 40})
    assert total.ok and "42" in total.result["content"][0]["text"]
    resources = await session.list_resources()
    assert resources.ok and resources.result["resources"]
    uri = resources.result["resources"][0]["uri"]
    read = await session.read_resource(uri)
    assert read.ok and read.result["contents"][0]["uri"] == uri
    prompt = await session.get_prompt("args-prompt", {"city": "Lyon", "state": "ARA"})
    assert prompt.ok and "Lyon" in str(prompt.result["messages"])
    assert (await session.get_prompt("simple-prompt")).ok
    assert (await session.ping()).ok
    invalid = await session.call_tool("get-sum", {"a": "not a number"})
    assert invalid.kind in ("tool_error", "rpc_error")


async def test_streamable_http_picks_handshake_era(everything_url):
    session, opened = await connect(Target(url=everything_url))
    try:
        assert opened.ok, opened
        assert session.era == "handshake" and opened.method == "initialize"
        assert session.protocol_version == "2025-11-25"
        assert session.server_info["name"] == "mcp-servers/everything"
        await exercise(session)
    finally:
        await session.close()


async def test_legacy_sse(everything_sse_url):
    session, opened = await connect(Target(url=everything_sse_url))
    try:
        assert opened.ok and session.transport.name == "sse"
        assert "/message?sessionId=" in session.transport.endpoint
        await exercise(session)
    finally:
        await session.close()


async def test_stdio(everything_stdio_cmd):
    session = Session(Stdio(everything_stdio_cmd))
    try:
        opened = await session.open()
        assert opened.ok, opened
        assert session.era == "handshake"
        await exercise(session)
    finally:
        await session.close()


async def test_progress_notifications_before_response(everything_url):
    session, _ = await connect(Target(url=everything_url))
    try:
        out = await session.request(
            "tools/call",
            {
                "name": "trigger-long-running-operation",
                "arguments": {"duration": 0.5, "steps": 3},
                "_meta": {"progressToken": "p1"},
            },
            "trigger-long-running-operation",
        )
        assert out.ok, out
        assert session.server_notifications["notifications/progress"] >= 3
    finally:
        await session.close()


def _delete(url: str, sid: str) -> None:
    req = urllib.request.Request(url, method="DELETE", headers={"Mcp-Session-Id": sid})
    with urllib.request.urlopen(req, timeout=5):
        pass


async def test_session_expiry_reinitializes(everything_url):
    seen = []
    session = Session(StreamableHTTP(everything_url), on_outcome=seen.append)
    assert (await session.open()).ok
    old = session.transport.session_id
    await asyncio.to_thread(_delete, everything_url, old)
    try:
        out = await session.call_tool("echo", {"message": "again"})
        assert out.ok, out
        assert out.retry_of.kind == "session_expired"
        assert out.retry_of.http_status in (400, 404)
        assert session.transport.session_id != old
        assert [o.kind for o in seen][-3:] == ["session_expired", "ok", "ok"]
    finally:
        await session.close()


async def test_server_request_answered_with_canned_result(everything_url):
    """Declaring sampling (because a canned answer is configured) makes the server offer its sampling
    tool; the sampling request it sends mid-call arrives on the response stream and is answered."""
    canned = {
        "role": "assistant",
        "content": {"type": "text", "text": "canned reply"},
        "model": "mcpload",
        "stopReason": "endTurn",
    }
    session = Session(StreamableHTTP(everything_url), server_answers={"sampling/createMessage": canned})
    try:
        assert (await session.open()).ok
        tools = await session.list_tools()
        assert "trigger-sampling-request" in {t["name"] for t in tools.result["tools"]}
        out = await session.call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 10})
        assert out.ok, out
        assert session.server_requests["sampling/createMessage"] == 1
        assert "canned reply" in str(out.result)
    finally:
        await session.close()


@pytest.mark.slow
async def test_get_stream_receives_server_initiated_messages(everything_url):
    """With the optional GET stream open, log messages the server sends outside any request arrive."""
    session = Session(StreamableHTTP(everything_url, listen=True))
    try:
        assert (await session.open()).ok
        assert (await session.call_tool("toggle-simulated-logging")).ok
        for _ in range(80):
            if session.server_notifications["notifications/message"]:
                break
            await asyncio.sleep(0.1)
        assert session.server_notifications["notifications/message"] >= 1
    finally:
        await session.close()
