"""The recording proxy: streams as it comes, passes headers untouched, writes no secret, keeps the trace."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.demo.launch import free_port
from mcpload.traffic.observer import Observer
from mcpload.traffic.proxy_http import RecordingProxy, Upstream
from mcpload.traffic.proxy_stdio import record_stdio
from mcpload.traffic.redact import Redactor, shape
from mcpload.traffic.trace import FORMAT, TraceWriter, read_trace

SECRET = "s3cr3t-bearer-value"
ARGS = {"query": "cats", "api_key": SECRET, "email": "bob@example.com"}
CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "search", "arguments": ARGS}}


class FakeUpstream:
    """A tiny HTTP server: answers POST with an SSE stream in two parts, the second only once the test
    says the client saw the first (a proxy that buffers would never get there)."""

    def __init__(self) -> None:
        self.first_seen = asyncio.Event()
        self.seen_headers: list[bytes] = []
        self.port = free_port()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.seen_headers.append(head)
        lines = head.lower().split(b"\r\n")
        length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
        body = orjson.loads(await reader.readexactly(length))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nmcp-session-id: SID-123\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")  # fmt: skip
        progress = b'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n'
        writer.write(b"%x\r\n%s\r\n" % (len(progress), progress))
        await writer.drain()
        await asyncio.wait_for(self.first_seen.wait(), 5)
        answer = orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "result": {"content": [], "echo": SECRET}})
        event = b"data: " + answer + b"\n\n"
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event))
        await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def recording_proxy(
    tmp_path: Path,
    upstream: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] | None = None,
    *,
    upstream_port: int | None = None,
    redactor: Redactor | None = None,
    header: dict | None = None,
) -> AsyncIterator[int]:
    """A recording proxy writing ``t.jsonl`` in ``tmp_path``, in front of ``upstream`` (a connection handler
    served on ``upstream_port`` or a free one; None: nothing listens there). Yields the proxy's port;
    everything is stopped and the trace closed on the way out."""
    up_port = upstream_port or free_port()
    server = await asyncio.start_server(upstream, "127.0.0.1", up_port) if upstream is not None else None
    writer = TraceWriter(tmp_path / "t.jsonl", header or {})
    observer = Observer(writer, redactor or Redactor())
    proxy = RecordingProxy(Upstream(f"http://127.0.0.1:{up_port}/mcp"), observer)
    port, ready = free_port(), asyncio.Event()
    serving = asyncio.create_task(proxy.serve("127.0.0.1", port, ready))
    await asyncio.wait_for(ready.wait(), 5)
    try:
        yield port
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        if server is not None:
            server.close()
        observer.close()
        writer.close()


async def test_sse_streams_through_and_the_trace_keeps_no_secret(tmp_path):
    upstream = FakeUpstream()
    email = Redactor([r"[^@\s]+@[^@\s]+"])
    async with recording_proxy(
        tmp_path, upstream.handle, upstream_port=upstream.port, redactor=email, header={"source": "http"}
    ) as port:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        body = orjson.dumps(CALL)
        client.write(b"POST /mcp HTTP/1.1\r\nhost: x\r\nauthorization: Bearer " + SECRET.encode() +
                     b"\r\nmcp-session-id: SID-123\r\ncontent-length: %d\r\n\r\n" % len(body) + body)  # fmt: skip
        received = b""
        while b"notifications/progress" not in received:  # the first event arrives before the upstream goes on
            received += await asyncio.wait_for(reader.read(4096), 5)
        upstream.first_seen.set()
        while b"0\r\n\r\n" not in received:
            received += await asyncio.wait_for(reader.read(4096), 5)
        assert b"mcp-session-id: SID-123" in received
        client.close()
    assert b"authorization: Bearer " + SECRET.encode() in upstream.seen_headers[0]  # untouched upstream
    assert b"mcp-session-id: SID-123" in upstream.seen_headers[0]
    text = (tmp_path / "t.jsonl").read_text()
    assert SECRET not in text and "SID-123" not in text and "bob@example.com" not in text
    trace = read_trace(tmp_path / "t.jsonl")
    assert trace.header["format"] == FORMAT
    (call,) = trace.tool_calls()
    assert call["tool"] == "search" and call["outcome"] == "ok" and call["arguments"]["query"] == "cats"
    assert call["arguments"]["api_key"].startswith("redacted:") and call["arguments"]["email"].startswith("redacted:")
    assert call["shape"] == {"query": "str", "api_key": "str", "email": "str"}
    assert [n["method"] for n in trace.notifications] == ["notifications/progress"]


async def test_unreachable_upstream_is_a_502_and_a_transport_outcome(tmp_path):
    async with recording_proxy(tmp_path) as port:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        body = orjson.dumps(CALL)
        client.write(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 502")
        client.close()
    (call,) = read_trace(tmp_path / "t.jsonl").tool_calls()
    assert call["outcome"] == "transport"


STDIO_SERVER = """
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" in msg:
        err = msg["params"]["name"] == "bad"
        print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"content": [], "isError": err}}), flush=True)
"""


async def test_stdio_passes_bytes_both_ways_and_records_each_call(tmp_path):
    script = tmp_path / "srv.py"
    script.write_text(STDIO_SERVER)
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    lines = [dict(CALL, id=i, params={"name": "bad" if i == 2 else "ok", "arguments": {"n": i}}) for i in range(3)]
    os.write(w_in, b"".join(orjson.dumps(m) + b"\n" for m in lines))
    os.close(w_in)
    writer = TraceWriter(tmp_path / "t.jsonl", {"source": "stdio"})
    with open(r_in, "rb", buffering=0) as stdin, open(w_out, "wb", buffering=0) as stdout:
        code = await asyncio.wait_for(record_stdio([sys.executable, str(script)], Observer(writer, Redactor()),
                                                   stdin, stdout), 20)  # fmt: skip
    writer.close()
    with open(r_out, "rb") as out:
        answers = [orjson.loads(line) for line in out.read().splitlines()]
    assert code == 0 and [a["id"] for a in answers] == [0, 1, 2]
    trace = read_trace(tmp_path / "t.jsonl")
    assert [c["outcome"] for c in trace.tool_calls()] == ["ok", "ok", "tool_error"]
    assert trace.sessions["s1"]["reason"] == "eof"


def test_a_trace_cut_by_a_crash_reads_up_to_the_cut(tmp_path):
    path = tmp_path / "t.jsonl"
    writer = TraceWriter(path, {})
    observer = Observer(writer, Redactor())
    observer.client("s", CALL, 1.0)
    observer.server("s", {"jsonrpc": "2.0", "id": 7, "result": {}}, 1.5)
    writer.close()
    with open(path, "ab") as f:
        f.write(b'{"type":"call","t":2.0,"sess')  # the line being written when the process died
    trace = read_trace(path)
    assert len(trace.tool_calls()) == 1 and trace.skipped == 1
    assert trace.tool_calls()[0]["latency"] == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=20))  # fmt: skip
def test_redaction_never_lets_a_sensitive_value_through(value):
    redactor = Redactor(key=b"k")
    wrapped = {"token": value, "nested": {"Password": value, "x": [{"api_key": value}]}}
    out = redactor.arguments(wrapped)
    for got in (out["token"], out["nested"]["Password"], out["nested"]["x"][0]["api_key"]):
        assert got is None if value is None else got == redactor.hash(value)
    assert orjson.dumps(shape(wrapped))  # shapes are always plain JSON
    assert Redactor(key=b"k").hash("a") == redactor.hash("a") != Redactor(key=b"other").hash("a")


def test_no_args_keeps_only_shapes():
    assert Redactor(keep_args=False).arguments({"q": "x"}) is None
    got = shape({"q": "x", "n": 1, "l": [1, "a"], "b": True})
    assert got == {"q": "str", "n": "int", "l": ["int", "str"], "b": "bool"}


def test_bad_redact_pattern_is_named():
    with pytest.raises(ValueError, match=r"--redact '\('"):
        Redactor(["("])


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "protocol"),
        (b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial', "transport"),  # cut mid-body
        (b"", "transport"),  # closed without a response
    ],
)
async def test_a_broken_upstream_answer_is_classified_and_the_proxy_keeps_serving(tmp_path, answer, kind):
    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with recording_proxy(tmp_path, upstream) as port:
        for _ in range(2):  # the proxy keeps serving after a broken exchange
            reader, client = await asyncio.open_connection("127.0.0.1", port)
            body = orjson.dumps(CALL)
            client.write(b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            got = await asyncio.wait_for(reader.read(), 5)  # ends: the proxy never hangs the client
            if kind != "transport" or not answer:
                assert got.startswith(b"HTTP/1.1 502")
            client.close()
    assert [c["outcome"] for c in read_trace(tmp_path / "t.jsonl").tool_calls()] == [kind, kind]


async def test_a_kept_alive_upstream_connection_closed_while_idle_is_replaced(tmp_path):
    """Servers close idle keep-alive connections (uvicorn after 5 s): an agent's next call, after its
    think time, must go out on a fresh connection, not fail."""
    answered = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        msg = orjson.loads(await reader.readexactly(length))
        body = orjson.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"content": []}})
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        answered.set()
        writer.close()  # the idle timeout, at once

    async with recording_proxy(tmp_path, upstream) as port:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        for i in range(3):  # one client connection, kept alive; each call after the upstream closed the last
            answered.clear()
            body = orjson.dumps(dict(CALL, id=i))
            client.write(b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await asyncio.wait_for(reader.readexactly(length), 5)
            await asyncio.wait_for(answered.wait(), 5)
            await asyncio.sleep(0.05)  # the upstream's FIN reaches the proxy while the agent thinks
        client.close()
    assert [c["outcome"] for c in read_trace(tmp_path / "t.jsonl").tool_calls()] == ["ok", "ok", "ok"]


async def test_a_client_leaving_a_get_stream_closes_it_upstream(tmp_path):
    """An agent that hangs up its GET stream must not leave the proxy holding the server's stream open."""
    upstream_closed = asyncio.Event()

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        event = b'data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n\n'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n" % (len(event), event))
        await writer.drain()
        if await reader.read() == b"":  # then idle: only the proxy closing ends this
            upstream_closed.set()

    async with recording_proxy(tmp_path, upstream) as port:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        client.write(b"GET /mcp HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nmcp-session-id: S\r\n\r\n")
        received = b""
        while b"list_changed" not in received:
            received += await asyncio.wait_for(reader.read(4096), 5)
        client.close()
        await asyncio.wait_for(upstream_closed.wait(), 5)
    assert [n["method"] for n in read_trace(tmp_path / "t.jsonl").notifications] == ["notifications/tools/list_changed"]


async def test_a_request_body_over_the_limit_is_refused_and_not_forwarded(tmp_path):
    from mcpload.traffic.proxy_requests import MAX_REQUEST

    forwarded = []

    async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        forwarded.append(await reader.read(100))
        writer.close()

    async with recording_proxy(tmp_path, upstream) as port:
        reader, client = await asyncio.open_connection("127.0.0.1", port)
        size = MAX_REQUEST + 1024 * 1024
        client.write(b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % size)
        with contextlib.suppress(ConnectionError):
            for _ in range(size // 65536):
                client.write(b"x" * 65536)
                await client.drain()
        assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 413")
        client.close()
    assert forwarded == []
