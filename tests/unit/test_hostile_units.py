"""The bounds and shape checks behind the hostile-server tests, one unit at a time (issue 18 §2, §3)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import orjson
import pytest

from mcpload.mcp import shapes
from mcpload.mcp.jsonrpc import classify
from mcpload.mcp.session import Session
from mcpload.transports.base import MAX_ANSWERS, CallFailure, Reply, Transport
from mcpload.transports.correlated import BAD_ID, NO_ID, Correlated, sniff_id
from mcpload.transports.exchange import Exchange, is_event_stream, retry_after_seconds
from mcpload.transports.legacy_sse import endpoint_url
from mcpload.transports.streamable_http import echoable

# per-session state fed by the server


def test_notification_names_are_capped_and_every_one_counted():
    session = Session(_Canned([]))
    for i in range(10_000):
        session._server_message({"jsonrpc": "2.0", "method": f"notifications/n{i % 500}"})
    for method in (["a"], {"b": 1}, 3, None, "x" * 10_000):
        session._server_message({"jsonrpc": "2.0", "method": method})
    counts = session.server_notifications
    assert len(counts) == shapes.MAX_NAMES
    assert sum(counts.values()) == 10_005
    assert counts[shapes.OTHER] > 0 and all(len(k) <= shapes.MAX_NAME_CHARS for k in counts)


def test_server_requests_are_capped_and_odd_ids_not_answered():
    session = Session(_Canned([]), server_answers={"roots/list": {"roots": []}})
    for i in range(1000):
        session._server_message({"jsonrpc": "2.0", "id": i, "method": f"x/{i}"})
    assert len(session.server_requests) == shapes.MAX_NAMES and sum(session.server_requests.values()) == 1000
    for rid in ([1], {"a": 1}, 1.5, True):
        assert session._server_message({"jsonrpc": "2.0", "id": rid, "method": "ping"}) is None
    assert session._server_message({"id": 7, "method": "ping"}) == {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert session._server_message({"id": "r", "method": "roots/list"})["result"] == {"roots": []}
    assert session._server_message({"id": 8, "method": ["roots/list"]})["error"]["code"] == -32601


async def test_answers_to_server_requests_in_flight_are_capped():
    gate = asyncio.Event()

    class Slow(_Canned):
        async def notify(self, body: bytes, method: str) -> None:
            await gate.wait()

    t = Slow([])
    Session(t)
    for i in range(100):
        t.dispatch_server_message({"jsonrpc": "2.0", "id": i, "method": "ping"})
    assert len(t._answer_tasks) == MAX_ANSWERS and t.answers_dropped == 100 - MAX_ANSWERS
    gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not t._answer_tasks


def test_server_info_kept_is_bounded():
    info = {"name": "n" * 10_000, "version": "1", "icons": [{"src": "x"}] * 1000, **{f"k{i}": i for i in range(100)}}
    kept = shapes.kept_server_info(info)
    assert len(kept) == shapes.MAX_INFO_FIELDS and "icons" not in kept
    assert len(kept["name"]) == shapes.MAX_INFO_CHARS


def test_capabilities_and_instructions_kept_are_bounded():
    caps = {f"c{i}": {"listChanged": True, "deep": {"x": [1] * 1000}} for i in range(100)}
    kept = shapes.kept_capabilities({"tools": {"listChanged": True}, "odd": [1], **caps})
    assert len(kept) == shapes.MAX_INFO_FIELDS and kept["tools"] == {"listChanged": True} and kept["odd"] == {}
    assert kept["c0"] == {"listChanged": True}
    assert len(shapes.kept_instructions("i" * 10**6)) == shapes.MAX_INSTRUCTIONS_CHARS


# shapes


@pytest.mark.parametrize(
    ("caps", "info", "instructions", "problem"),
    [
        ({}, {"name": "a", "version": "1"}, None, None),
        (None, None, "hi", None),
        ("x", None, None, "capabilities"),
        ([], None, None, "capabilities"),
        (None, "x", None, "serverInfo"),
        (None, [1], None, "serverInfo"),
        (None, {"name": 1}, None, "serverInfo.name"),
        (None, {"version": ["1"]}, None, "serverInfo.version"),
        (None, None, 5, "instructions"),
    ],
)
def test_open_problem(caps, info, instructions, problem):
    got = shapes.open_problem(caps, info, instructions)
    assert (got is None) if problem is None else (got is not None and got.startswith(problem)), got


@pytest.mark.parametrize(
    ("key", "page", "ok"),
    [
        ("tools", [{"name": "a", "inputSchema": {}}], True),
        ("tools", [{"name": "a", "annotations": None}], True),
        ("tools", "a", False),
        ("tools", {"a": 1}, False),
        ("tools", [["a"]], False),
        ("tools", [{"name": ["a"]}], False),
        ("tools", [{"name": 3}], False),
        ("tools", [{"name": "a", "inputSchema": "x"}], False),
        ("tools", [{"name": "a", "annotations": [1]}], False),
        ("resources", [{"uri": "file:///a"}], True),
        ("resources", [{"uri": 1}], False),
        ("prompts", [{"name": "p"}], True),
        ("prompts", [{"title": "p"}], False),
    ],
)
def test_page_problem(key, page, ok):
    assert (shapes.page_problem(key, page) is None) == ok


# classify: the error object and the result object


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        ({"error": {"code": -1, "message": "m"}}, "rpc_error"),
        ({"error": {"code": "-1", "message": "m"}}, "protocol"),
        ({"error": {"code": -1.5, "message": "m"}}, "protocol"),
        ({"error": {"code": True, "message": "m"}}, "protocol"),
        ({"error": {"code": 1e25, "message": "m"}}, "protocol"),
        ({"error": {"code": -1, "message": ["m"]}}, "protocol"),
        ({"error": {"code": -1}}, "protocol"),
        ({"error": []}, "protocol"),
        ({"result": None}, "protocol"),
        ({"result": "x"}, "protocol"),
        ({"result": {"content": "x"}}, "protocol"),
        ({"result": {"content": {}}}, "protocol"),
        ({"result": {"content": "x", "isError": True}}, "tool_error"),
        ({"result": {"structuredContent": {}}}, "ok"),
    ],
)
def test_classify_shapes(msg, kind):
    assert classify("tools/call", msg)[0] == kind


# the HTTP response handler


def _exchange(msg_id: Any, body: bytes, ctype: str = "application/json", max_body: int = 1 << 20):
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()
        ex = Exchange(fut, msg_id, lambda m: None, True, max_body)
        ex.head(200, {"content-type": ctype})
        ex.body(body)
        ex.complete()
        return fut.exception() or fut.result()
    finally:
        loop.close()


@pytest.mark.parametrize("rid", ["true", "1.0", '"1"', "[1]", '{"id":1}', "1e0", "null"])
def test_an_id_that_only_python_thinks_equal_is_protocol(rid):
    got = _exchange(1, b'{"jsonrpc":"2.0","id":' + rid.encode() + b',"result":{}}')
    assert isinstance(got, CallFailure) and got.kind == "protocol", got


def test_the_sse_body_as_a_whole_is_bounded():
    events = b'data: {"jsonrpc":"2.0","method":"notifications/x"}\n\n' * 1000
    got = _exchange(1, events, "text/event-stream", max_body=10_000)
    assert isinstance(got, CallFailure) and "over 10000 bytes" in got.message


@pytest.mark.parametrize(
    ("ctype", "sse"),
    [
        ("text/event-stream", True),
        ("text/event-stream; charset=utf-8", True),
        ("TEXT/EVENT-STREAM", True),
        (" text/event-stream ;x=1", True),
        ("text/event-streams", False),
        ("application/json; profile=text/event-stream", False),
        ("application/json, text/event-stream", False),
        ("", False),
    ],
)
def test_is_event_stream(ctype, sse):
    assert is_event_stream(ctype) == sse


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1", 1.0), ("nan", None), ("-5", 0.0), ("inf", 300.0), ("1e999", 300.0), ("x", None), ("1" * 100, None)],
)
def test_retry_after_is_finite_and_clamped(value, seconds):
    assert retry_after_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "ok"),
    [("abc-123_~!", True), ("a b", False), ("a\tb", False), ("caf\xe9", False), ("a\x01", False), ("", False)],
)
def test_echoable_session_id(value, ok):
    assert echoable(value) == ok
    assert not echoable("s" * 2000)


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ("/messages?session_id=1", True),
        ("http://h:1/m", True),
        ("/m\nX: 1", False),
        ("/m x", False),
        ("/m\u00e9", False),
        ("http://other/m", False),
        ("http://[::1/m", False),
        ("/" + "m" * 5000, False),
    ],
)
def test_endpoint_url(data, ok):
    _, problem = endpoint_url("http://h:1/sse", data)
    assert (problem is None) == ok, problem


# the shared-channel transports: which call a bad message is blamed on


@pytest.mark.parametrize(
    ("head", "tail", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":5,"result":{"x":"', b"", 5),
        (b'{"id":"a-1","jsonrpc":"2.0","result":', b"", "a-1"),
        (b"", b'"pad"},"id":7}', 7),
        (b"", b'"pad"},"id":7,"jsonrpc":"2.0"}\n', 7),
        (b'{"jsonrpc":"2.0","result":{"id":3', b'"}}', NO_ID),  # nested ids never count
        (b"", b'{"id":3}}', NO_ID),
        (b'{"jsonrpc":"2.0","id":1e400,"result":{}}', b"", BAD_ID),
        (b"INFO starting", b"", NO_ID),
    ],
)
def test_sniff_id(head, tail, rid):
    assert sniff_id(head, tail) == rid if rid not in (NO_ID, BAD_ID) else sniff_id(head, tail) is rid


class _Shared(Correlated):
    name = "fake"

    def __init__(self) -> None:
        self._pending = {}

    async def _send_message(self, body: bytes, timeout: float) -> int:
        return len(body)

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("message", "pending", "blamed"),
    [
        ({"id": [1], "result": {}}, [1], 1),  # the only call in flight
        ({"id": [1], "result": {}}, [1, 2], None),  # two: nobody can tell
        ({"id": 1.0, "result": {}}, [1, 2], 1),  # equal in value: that one
        ({"id": True, "result": {}}, [1, 2], 1),
        ({"level": "info", "msg": "a log line"}, [1], None),  # not JSON-RPC: not blamed
    ],
)
async def test_a_response_with_a_bad_id_is_blamed_on_the_right_call(message, pending, blamed):
    t = _Shared()
    loop = asyncio.get_running_loop()
    futs = {i: loop.create_future() for i in pending}
    t._pending.update(futs)
    t._incoming(message, 10)
    for i, fut in futs.items():
        if i == blamed:
            assert isinstance(fut.exception(), CallFailure) and fut.exception().kind == "protocol"
        else:
            assert not fut.done()
    assert t.unmatched == (blamed is None)


async def test_a_cancelled_call_leaves_no_pending_entry():
    t = _Shared()
    task = asyncio.ensure_future(t.request(1, b"{}", "ping", None, 5))
    await asyncio.sleep(0)
    assert 1 in t._pending
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert t._pending == {}


# session open and listing with hostile results, through a canned transport


class _Canned(Transport):
    """Answers each request with the next canned message (``id`` filled in)."""

    name = "canned"

    def __init__(self, replies: list[Any]) -> None:
        self.replies = list(replies)
        self.sent: list[str] = []

    async def request(self, msg_id, body, method, name, timeout) -> Reply:
        self.sent.append(method)
        reply = self.replies.pop(0)
        return Reply({"jsonrpc": "2.0", "id": msg_id, **reply}, len(body), len(orjson.dumps(reply)))

    async def notify(self, body: bytes, method: str) -> None:
        pass

    async def close(self) -> None:
        pass


async def test_discover_renegotiates_once_only(monkeypatch):
    """A server that names the other modern version each time is not followed round and round."""
    from mcpload.mcp import eras

    monkeypatch.setattr(eras, "MODERN_VERSIONS", ("2026-07-28", "2099-01-01"))
    flip = {"result": {"supportedVersions": ["2099-01-01"]}}
    flop = {"result": {"supportedVersions": ["2026-07-28"]}}
    t = _Canned([flip, flop] * 20)
    out = await Session(t, protocol="2026-07-28").open()
    assert out.kind == "protocol" and t.sent == ["server/discover", "server/discover"], (out, t.sent)


async def test_listing_cursor_must_be_a_new_string():
    page = {"tools": [{"name": "a"}]}
    for cursor in ({"p": 1}, ["x"], 5):
        out = await Session(_Canned([{"result": {**page, "nextCursor": cursor}}])).list_tools()
        assert out.kind == "protocol" and "nextCursor" in out.error_message, out
    t = _Canned([{"result": {**page, "nextCursor": "same"}}] * 5)
    out = await Session(t).list_tools()
    assert out.kind == "protocol" and len(t.sent) == 2


async def test_listing_pages_together_are_bounded():
    t = _Canned([{"result": {"tools": [{"name": "a" * 1000}], "nextCursor": f"c{i}"}} for i in range(100)])
    t.max_body = 20_000
    out = await Session(t).list_tools()
    assert out.kind == "protocol" and "over 20000 bytes" in out.error_message and len(t.sent) < 30


async def test_rpc_error_data_of_any_shape_does_not_break_detection():
    for data in ([1], "x", 3, {"supported": "2026-07-28"}, {"supported": [["2026-07-28"]]}):
        err = {"error": {"code": -32022, "message": "unsupported", "data": data}}
        init = {"result": {"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "s"}}}
        out = await Session(_Canned([err, init])).open()
        assert out.ok and out.method == "initialize", (data, out)


def test_counter_helper_keeps_existing_names_counting():
    counter: Counter[str] = Counter()
    for i in range(shapes.MAX_NAMES * 2):
        shapes.count_name(counter, f"n{i}")
    shapes.count_name(counter, "n0")
    assert counter["n0"] == 2 and len(counter) == shapes.MAX_NAMES
