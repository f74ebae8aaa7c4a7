"""Fuzzing the response parsers (issue 18 §3) with hypothesis: arbitrary bytes and structured-but-wrong
JSON-RPC. Property for each: it never raises anything but the documented outcome path (a ``CallFailure``
with an outcome kind, an error event, an ``Outcome``), it holds no more than its bound, and it ends.

Small ``max_examples`` keep the whole file to a few seconds; ``deadline=None`` because the machine is busy.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpload.mcp.jsonrpc import classify
from mcpload.mcp.session import Session
from mcpload.outcome import KINDS
from mcpload.transports.base import CallFailure, Reply, Transport
from mcpload.transports.correlated import BAD_ID, NO_ID, sniff_id
from mcpload.transports.exchange import STREAM_ENDED, EventStream, Exchange
from mcpload.transports.http1 import MAX_HEAD_BYTES, Connection
from mcpload.transports.sse import SSEParser
from mcpload.transports.stdio import Stdio

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# building blocks: SSE-ish and HTTP-ish bytes are far likelier to reach deep code than uniform noise
SSE_TOKENS = st.sampled_from(
    [
        b"data:",
        b"data: ",
        b"event: message",
        b"event: endpoint",
        b"id: 1",
        b"id:\x00",
        b"retry: 10",
        b"retry: x",
        b": c",
        b"\n",
        b"\r",
        b"\r\n",
        b"\n\n",
        b"{",
        b"}",
        b'"',
        b"\xff",
        b"\xc3",
        b"x" * 40,
        b'{"jsonrpc":"2.0","id":1,"result":{}}',
        b'{"jsonrpc":"2.0","method":"notifications/x"}',
    ]
)
sse_bytes = st.one_of(st.binary(max_size=300), st.lists(SSE_TOKENS, max_size=60).map(b"".join))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    parts, last = [], 0
    for p in points:
        parts.append(data[last:p])
        last = p
    parts.append(data[last:])
    return [p for p in parts if p]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# a JSON-RPC response that is nearly right: the right keys with any values
ids = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.floats(), st.booleans(), st.none(), json_values)


def some_of(**fields: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding any subset of ``fields`` (each with its strategy)."""
    return st.fixed_dictionaries({}, optional=fields)


call_results = some_of(
    content=json_values, isError=json_values, structuredContent=json_values, resultType=st.just("input_required")
)
errors = some_of(code=json_values, message=json_values, data=json_values)
rpc_messages = some_of(
    jsonrpc=st.sampled_from(["2.0", "1.0", 2]),
    id=ids,
    result=st.one_of(json_values, call_results),
    error=st.one_of(json_values, errors),
    method=json_values,
)


# the SSE parser


@FUZZ
@given(sse_bytes, st.lists(st.integers(0, 400), max_size=8))
def test_sse_parser_any_bytes_any_chunks(data, cuts):
    limit = 64
    p = SSEParser(limit)
    events = []
    for part in chunked(data, cuts):
        events += p.feed(part)
        # bounded: the unfinished line and the event's data never hold much more than the limit
        assert sum(len(b) for b in p._buf) <= limit + len(part)
        assert sum(len(d) + 1 for d in p._data) <= limit + 1
    for ev in events:
        assert isinstance(ev.data, str) and isinstance(ev.event, str)
        assert ev.error is None or ev.error.startswith(("SSE event over", "invalid UTF-8"))


@FUZZ
@given(sse_bytes, st.lists(st.integers(0, 400), max_size=8))
def test_sse_parser_same_events_however_the_bytes_are_cut(data, cuts):
    def run(parts: list[bytes]) -> list[tuple]:
        p = SSEParser(1 << 20)
        return [(e.event, e.data, e.id, e.error) for part in parts for e in p.feed(part)]

    assert run(chunked(data, cuts)) == run([data])


@FUZZ
@given(sse_bytes)
def test_sse_fast_path_agrees_with_the_parser(data):
    fast = SSEParser().whole_message(data)
    if fast is not None:
        events = SSEParser().feed(data)
        assert len(events) == 1 and events[0].data == fast.decode("utf-8", "replace")


# the HTTP response handler (Exchange) and the HTTP/1.1 connection


def _settled(fut: asyncio.Future) -> None:
    """The exchange ended the documented way: a response dict, a stream end, or a CallFailure."""
    if not fut.done():
        return
    exc = fut.exception()
    if exc is not None:
        assert isinstance(exc, CallFailure) and exc.kind in KINDS, exc
    else:
        res = fut.result()
        assert res is STREAM_ENDED or res is None or type(res) is dict
        assert type(res) is not dict or type(res.get("id")) in (int, type(None))


@FUZZ
@given(
    st.integers(100, 599),
    st.sampled_from(["application/json", "text/event-stream", "TEXT/Event-Stream; x=1", "", "text/html"]),
    st.one_of(sse_bytes, rpc_messages.map(orjson.dumps), st.lists(rpc_messages, max_size=3).map(orjson.dumps)),
    st.lists(st.integers(0, 400), max_size=6),
    st.sampled_from([1, "1"]),
)
def test_exchange_any_body(status, ctype, body, cuts, msg_id):
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()
        ex = Exchange(fut, msg_id, lambda m: None, True, 256)
        ex.head(status, {"content-type": ctype, "mcp-session-id": "x"})
        for part in chunked(body, cuts):
            ex.body(part)
        ex.complete()
        assert fut.done()
        _settled(fut)
    finally:
        loop.close()


class _Pool:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def discard(self, conn: Any) -> None:
        pass

    def release(self, conn: Any) -> None:
        pass


class _Transport:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


HTTP_TOKENS = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 404 X\r\n",
        b"HTTP/1.0 200 OK\r\n",
        b"HTTP/1.1 101 Switching\r\n",
        b"Content-Type: application/json\r\n",
        b"Content-Type: text/event-stream\r\n",
        b"Content-Length: 5\r\n",
        b"Content-Length: -1\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Connection: close\r\n",
        b"Mcp-Session-Id: a\x01\r\n",
        b"X: " + b"v" * 50 + b"\r\n",
        b"\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
        b"ffffffffffffffffffff\r\n",
        b'{"jsonrpc":"2.0","id":1,"result":{}}',
        b"data: x\n\n",
        b"\x00",
        b"\xff",
    ]
)
http_bytes = st.one_of(st.binary(max_size=300), st.lists(HTTP_TOKENS, max_size=40).map(b"".join))


@FUZZ
@given(http_bytes, st.lists(st.integers(0, 400), max_size=8))
def test_http_connection_any_bytes(data, cuts):
    loop = asyncio.new_event_loop()
    try:
        conn = Connection(_Pool(loop))
        conn.connection_made(_Transport())  # type: ignore[arg-type]
        fut = loop.create_future()
        conn.send(b"POST / HTTP/1.1\r\n\r\n", Exchange(fut, 1, lambda m: None, False, 1024), None)
        for part in chunked(data, cuts):
            if conn.closed:
                break
            conn.data_received(part)
            assert conn._stall <= MAX_HEAD_BYTES + len(part)
        conn.connection_lost(None)
        assert fut.done()  # a response, or a failure: never left hanging
        _settled(fut)
    finally:
        loop.close()


@FUZZ
@given(sse_bytes, st.lists(st.integers(0, 400), max_size=6))
def test_event_stream_any_bytes(data, cuts):
    loop = asyncio.new_event_loop()

    async def run() -> None:
        got, bad = [], []
        stream = EventStream(lambda m, n: got.append(m), lambda e: None, 128, lambda r, t: bad.append((r, t)))
        stream.head(200, {"content-type": "text/event-stream"})
        for part in chunked(data, cuts):
            stream.body(part)
        stream.complete()
        assert all(isinstance(m, dict) for m in got)
        assert all(isinstance(r, str) and isinstance(t, str) for r, t in bad)

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


# JSON-RPC classification, and the session turning any reply into an outcome


@FUZZ
@given(st.sampled_from(["tools/call", "tools/list", "ping", "initialize"]), rpc_messages)
def test_classify_any_message(method, msg):
    kind, code, message = classify(method, msg)
    assert kind in KINDS
    assert code is None or type(code) is int
    assert message is None or isinstance(message, str)


class _Canned(Transport):
    name = "canned"

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = replies

    async def request(self, msg_id, body, method, name, timeout) -> Reply:
        reply = dict(self.replies.pop(0)) if self.replies else {"result": {}}
        reply.setdefault("id", msg_id)
        return Reply(reply, len(body), 10)

    async def notify(self, body: bytes, method: str) -> None:
        pass

    async def close(self) -> None:
        pass


tools = st.lists(some_of(name=json_values, inputSchema=json_values, annotations=json_values), max_size=3)
results = st.one_of(
    json_values,
    some_of(
        protocolVersion=st.one_of(st.sampled_from(["2025-11-25", "2024-11-05"]), json_values),
        supportedVersions=st.one_of(st.just(["2026-07-28"]), json_values),
        capabilities=json_values,
        serverInfo=json_values,
        instructions=json_values,
        _meta=json_values,
        tools=st.one_of(json_values, tools),
        nextCursor=json_values,
    ),
)
replies = st.lists(st.one_of(results.map(lambda r: {"result": r}), rpc_messages), min_size=1, max_size=4)


@FUZZ
@given(st.sampled_from(["auto", "2025-11-25", "2026-07-28"]), replies)
def test_session_open_and_list_any_results(protocol, replies):
    async def run() -> None:
        session = Session(_Canned(list(replies)), protocol=protocol)
        opened = await session.open()
        assert opened.kind in KINDS
        assert isinstance(session.server_info, dict) and isinstance(session.server_capabilities, dict)
        assert session.instructions is None or isinstance(session.instructions, str)
        listed = await session.list_tools()
        assert listed.kind in KINDS
        if listed.ok:
            assert all(isinstance(t, dict) and isinstance(t["name"], str) for t in listed.result["tools"])
        call = await session.call_tool("x")
        assert call.kind in KINDS and (call.result is None or isinstance(call.result, dict) or call.kind == "rpc_error")

    asyncio.run(run())


# the stdio line reader


class _Proc:
    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.stdout = reader
        self.pid = 0
        self.returncode = 0

    async def wait(self) -> int:
        return 0


responses = st.builds(lambda rid, res: orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": res}), ids, json_values)
stdio_lines = st.lists(
    st.one_of(
        st.binary(max_size=80),
        rpc_messages.map(orjson.dumps),
        responses,
        st.sampled_from([b"x" * 300, b'{"jsonrpc":"2.0","id":1,"result":{"pad":"' + b"p" * 300 + b'"}}', b"\xff\xfe"]),
    ),
    max_size=12,
).map(lambda lines: b"\n".join(lines))


@FUZZ
@given(stdio_lines, st.booleans())
def test_stdio_reader_any_output(data, final_newline):
    async def run() -> None:
        reader = asyncio.StreamReader(limit=128)
        t = Stdio(["unused"], max_line=128)
        t.proc = _Proc(reader)  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        futs = {i: loop.create_future() for i in (1, 2, "a")}
        t._pending.update(futs)
        reader.feed_data(data + (b"\n" if final_newline else b""))
        reader.feed_eof()
        await asyncio.wait_for(t._read_stdout(reader), 5)  # it ends: at EOF, whatever came before
        for fut in futs.values():
            assert fut.done()
            exc = fut.exception()
            if exc is not None:
                assert isinstance(exc, CallFailure) and exc.kind in KINDS
            else:
                msg, size = fut.result()
                assert isinstance(msg, dict) and size <= 129

    asyncio.run(run())


@FUZZ
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_sniff_id_any_bytes(head, tail):
    rid = sniff_id(head, tail)
    assert rid is NO_ID or rid is BAD_ID or type(rid) in (int, float, str)


def test_a_fuzzed_reply_never_grows_memory_past_its_bound():
    """A sample of the worst inputs above, measured: 2 MiB fed in 1 KiB pieces to a 64 KiB parser."""
    p = SSEParser(64 * 1024)
    tracemalloc.start()
    try:
        for line in (b"data: " + b"y" * 1018 + b"\n", b"y" * 1024):  # many data: lines, then one endless line
            for _ in range(2048):
                p.feed(line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 512 * 1024, peak
