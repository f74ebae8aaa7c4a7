"""The session state machine (``mcp/session.py``) over the real stdio transport, against a tiny strict
in-repo server (``tests/stdio_session.py``): no mock of the transport.

The states: not open (no era), open (``initialize`` answered), ready (``notifications/initialized``
sent: requests are served), closed (the process stopped; a later request starts over). Every request
ends as an ``Outcome`` (never an exception, except the caller's own cancellation), each with its own
increasing id, and every outcome also reaches ``on_outcome``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.mcp import eras
from mcpload.mcp.session import Session
from mcpload.outcome import INTERRUPTED, OK, PROTOCOL, RPC_ERROR, SESSION_EXPIRED, TIMEOUT, TRANSPORT, Outcome
from mcpload.transports.stdio import Stdio

SERVER = [sys.executable, str(Path(__file__).resolve().parents[1] / "stdio_session.py")]
HANDSHAKE = "2025-11-25"
BOUND_S = 20  # a whole test's budget on a busy machine: a hang fails, nothing waits on timing


def new_session(protocol: str = HANDSHAKE, **kw: Any) -> tuple[Session, list[Outcome]]:
    seen: list[Outcome] = []
    return Session(Stdio(SERVER, shutdown_timeout=2.0), protocol, timeout=10.0, on_outcome=seen.append, **kw), seen


async def messages(session: Session) -> list[dict[str, Any]]:
    """What the server process received so far (the ``seen`` call itself last)."""
    out = await session.call_tool("seen")
    assert out.kind == OK, out.error_message
    return out.result["structuredContent"]["messages"]


async def test_handshake_lifecycle_initialize_then_initialized_then_requests():
    session, outcomes = new_session()
    assert session.era is None and session.protocol_version is None
    try:
        async with asyncio.timeout(BOUND_S):
            opened = await session.open()
            assert opened.kind == OK and opened.method == "initialize"
            assert session.era == eras.HANDSHAKE and session.protocol_version == HANDSHAKE
            assert session.server_info["name"] == "session"
            echo = await session.call_tool("echo", {"n": 1})
            got = await messages(session)
    finally:
        await session.close()
    assert echo.kind == OK and echo.result["structuredContent"] == {"n": 1}
    assert [m["method"] for m in got] == ["initialize", "notifications/initialized", "tools/call", "tools/call"]
    assert "id" not in got[1]  # a notification
    assert got[0]["params"]["protocolVersion"] == HANDSHAKE and got[0]["params"]["clientInfo"]["name"] == "mcpload"
    assert [o.method for o in outcomes] == ["initialize", "tools/call", "tools/call"]


async def test_auto_falls_back_to_initialize_on_a_fresh_process_and_reports_no_probe():
    """``auto`` probes ``server/discover``; a handshake server refuses it: the transport is reset and the
    session initializes. The refused probe is an era verdict, not an outcome."""
    session, outcomes = new_session("auto")
    try:
        async with asyncio.timeout(BOUND_S):
            opened = await session.open()
            got = await messages(session)
    finally:
        await session.close()
    assert opened.kind == OK and session.era == eras.HANDSHAKE
    assert [m["method"] for m in got][:2] == ["initialize", "notifications/initialized"]  # a new process
    assert "server/discover" not in [m["method"] for m in got]
    assert [o.method for o in outcomes] == ["initialize", "tools/call"]


async def test_a_request_before_the_session_is_open_is_an_outcome_not_an_exception():
    """Nothing guards a request sent before ``open``: it goes out, and the server's refusal is measured."""
    session, outcomes = new_session()
    try:
        async with asyncio.timeout(BOUND_S):
            early = await session.call_tool("echo")
            assert early.kind == RPC_ERROR and early.error_code == -32002, early.error_message
            assert session.era is None
            assert (await session.open()).kind == OK
            assert (await session.call_tool("echo")).kind == OK
    finally:
        await session.close()
    assert [o.kind for o in outcomes] == [RPC_ERROR, OK, OK]


CALLS = st.lists(st.sampled_from(["echo", "fail", "malformed", "hang", "ping", "tools/list"]), min_size=1, max_size=8)
EXPECTED = {"echo": OK, "fail": RPC_ERROR, "malformed": PROTOCOL, "hang": TIMEOUT, "ping": OK, "tools/list": OK}


@settings(max_examples=8, deadline=None)
@given(calls=CALLS)
def test_every_request_has_a_new_id_and_ends_as_its_own_outcome(calls):
    """Any mix of answered, refused, malformed and unanswered requests: ids go 1, 2, 3 … in the order sent
    (errors and timeouts included), each outcome is the answer to its own request, each is reported once,
    and a request the client gave up on is cancelled with its id (``notifications/cancelled``)."""

    async def main() -> tuple[list[Outcome], list[Outcome], list[dict[str, Any]]]:
        session, reported = new_session()
        try:
            async with asyncio.timeout(BOUND_S):
                assert (await session.open()).kind == OK
                outs = []
                for i, call in enumerate(calls):
                    if call == "ping":
                        outs.append(await session.ping())
                    elif call == "tools/list":
                        outs.append(await session.list_tools())
                    else:
                        timeout = 0.2 if call == "hang" else None
                        outs.append(await session.call_tool(call, {"i": i}, timeout))
                while True:  # the cancellations go out in the background: wait until the server has them
                    got = await messages(session)
                    if sum(m["method"] == "notifications/cancelled" for m in got) == calls.count("hang"):
                        return outs, reported, got
        finally:
            await session.close()

    outs, reported, got = asyncio.run(main())
    assert [o.kind for o in outs] == [EXPECTED[c] for c in calls]
    for i, (call, out) in enumerate(zip(calls, outs, strict=True)):
        if call == "echo":
            assert out.result["structuredContent"] == {"i": i}  # its own answer, not a neighbour's
        if call == "fail":
            assert out.error_code == -32000 and out.result == {"why": "asked to"}
    requests = [m for m in got if "id" in m]
    assert [m["id"] for m in requests] == list(range(1, len(requests) + 1))
    hung = [m["id"] for m in requests if m["method"] == "tools/call" and m["params"]["name"] == "hang"]
    cancelled = [m["params"]["requestId"] for m in got if m["method"] == "notifications/cancelled"]
    assert sorted(cancelled) == hung
    assert reported[1 : 1 + len(outs)] == outs  # after the initialize, each once and in order


async def test_a_caller_cancelling_a_request_gets_interrupted_and_the_server_is_told():
    session, outcomes = new_session()
    try:
        async with asyncio.timeout(BOUND_S):
            assert (await session.open()).kind == OK
            pending = asyncio.ensure_future(session.call_tool("hang"))
            while not any(m.get("params", {}).get("name") == "hang" for m in await messages(session)):
                pass  # until the server has the hanging call
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
            while True:
                got = await messages(session)
                if any(m["method"] == "notifications/cancelled" for m in got):
                    break
    finally:
        await session.close()
    hang_id = next(m["id"] for m in got if m.get("params", {}).get("name") == "hang")
    notice = next(m for m in got if m["method"] == "notifications/cancelled")
    assert notice["params"] == {"requestId": hang_id, "reason": "abandoned by the client"}
    interrupted = [o for o in outcomes if o.kind == INTERRUPTED]
    assert len(interrupted) == 1 and interrupted[0].name == "hang"
    assert session.cancellations_sent == 1


async def test_a_server_that_exits_is_transport_then_expired_then_reinitialized_once():
    """The call in flight when the process exits fails as ``transport``; the next request finds the session
    gone (``session_expired``), the session re-initializes on a new process and retries it once."""
    session, outcomes = new_session()
    try:
        async with asyncio.timeout(BOUND_S):
            assert (await session.open()).kind == OK
            died = await session.call_tool("exit")
            retried = await session.call_tool("echo", {"after": True})
            got = await messages(session)
    finally:
        await session.close()
    assert died.kind == TRANSPORT
    assert retried.kind == OK and retried.result["structuredContent"] == {"after": True}
    assert retried.retry_of is not None and retried.retry_of.kind == SESSION_EXPIRED
    assert session.reinitializations == 1
    assert [o.kind for o in outcomes] == [OK, TRANSPORT, SESSION_EXPIRED, OK, OK, OK]
    assert [o.method for o in outcomes][3] == "initialize"
    assert [m["method"] for m in got][:2] == ["initialize", "notifications/initialized"]  # the new process


@pytest.mark.parametrize(
    ("method", "answers", "reply"),
    [
        ("ping", None, {"result": {}}),
        ("roots/list", {"roots/list": {"roots": []}}, {"result": {"roots": []}}),
        ("sampling/createMessage", None, {"error": {"code": -32601}}),
    ],
)
async def test_server_requests_are_answered_or_declined(method, answers, reply):
    session, _ = new_session(server_answers=answers)
    try:
        async with asyncio.timeout(BOUND_S):
            assert (await session.open()).kind == OK
            out = await session.call_tool("ask", {"method": method})
    finally:
        await session.close()
    assert out.kind == OK, out.error_message
    got = out.result["structuredContent"]
    assert got["id"] == "s-1"
    for key, value in reply.items():
        assert key in got and all(got[key][k] == v for k, v in value.items()), got
    assert session.server_requests[method] == 1


async def test_close_is_idempotent_never_raises_and_a_later_request_starts_over():
    session, outcomes = new_session()
    await session.close()  # before open: nothing to stop
    try:
        async with asyncio.timeout(BOUND_S):
            assert (await session.open()).kind == OK
            await session.close()
            await session.close()
            assert session.transport.on_server_message is None  # the transport let go of the session
            after = await session.call_tool("echo")  # a new process, not initialized: refused, measured
            assert after.kind == RPC_ERROR and after.error_code == -32002
            assert (await session.open()).kind == OK  # and it can be opened again
            assert (await session.call_tool("echo")).kind == OK
    finally:
        await session.close()
    assert [o.kind for o in outcomes] == [OK, RPC_ERROR, OK, OK]


async def test_a_server_that_cannot_start_makes_open_an_outcome():
    session = Session(Stdio(["/nonexistent/mcp-server"]), HANDSHAKE, timeout=5.0)
    opened = await session.open()
    await session.close()
    assert opened.kind == TRANSPORT and opened.method == "initialize" and session.era is None
