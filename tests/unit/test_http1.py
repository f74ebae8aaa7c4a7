"""The HTTP/1.1 connection and its pool (``transports/http1.py``) against a raw asyncio server on loopback.

The server writes exactly the bytes each test gives it, so every way a response can arrive is in
reach: keep-alive or not, content-length, chunked or read-to-close bodies, a response cut into any
number of reads (the server waits until the client has taken in each piece before it writes the next:
no reliance on TCP timing), a connection closed mid-body, heads over the limits, garbage. One exchange
runs per connection at a time (no pipelining): exchanges at once open connections of their own.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.outcome import PROTOCOL, TIMEOUT, TRANSPORT
from mcpload.transports.base import CallFailure
from mcpload.transports.http1 import MAX_HEAD_BYTES, MAX_HEADERS, Connection, Origin, Pool

REQUEST = b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
BOUND_S = 10  # each test's whole budget: a hang fails, it never waits on timing


class Collect:
    """A ``Handler`` that keeps what it is given; ``done`` resolves on complete or failed."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.failure: CallFailure | None = None
        self.events: list[str] = []
        self.done = asyncio.get_running_loop().create_future()

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.events.append("head")
        self.status, self.headers = status, headers

    def body(self, chunk: bytes) -> None:
        self.events.append("body")
        self.chunks.append(chunk)

    def complete(self) -> None:
        self.events.append("complete")
        self.done.set_result(True)

    def failed(self, exc: CallFailure) -> None:
        self.events.append("failed")
        self.failure = exc
        self.done.set_result(False)

    @property
    def body_bytes(self) -> bytes:
        return b"".join(self.chunks)


Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]
"""How the server answers request ``n`` of a connection; False: close the connection afterwards."""


class Server:
    """A loopback server that reads whole requests and answers each with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self._tasks:  # (Python 3.11 has no Server.close_clients)
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next((int(line[15:]) for line in lines if line.startswith(b"content-length:")), 0)
                self.requests.append(head + await reader.readexactly(length))
                keep = await self.reply(reader, writer, n)
                n += 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def respond(data: bytes, keep: bool = True) -> Reply:
    async def reply(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> bool:
        writer.write(data)
        await writer.drain()
        return keep

    return reply


def ok(body: bytes, extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def exchange(pool: Pool, timeout: float | None = 5.0) -> tuple[Collect, Connection]:
    conn = await pool.acquire()
    handler = Collect()
    conn.send(REQUEST, handler, timeout)
    async with asyncio.timeout(BOUND_S):
        await handler.done
    return handler, conn


async def test_keep_alive_reuses_one_connection():
    async with Server(respond(ok(b'{"a":1}'))) as server:
        pool = Pool(Origin(server.url))
        try:
            first, conn1 = await exchange(pool)
            second, conn2 = await exchange(pool)
            third, conn3 = await exchange(pool)
        finally:
            pool.close()
    assert [h.body_bytes for h in (first, second, third)] == [b'{"a":1}'] * 3
    assert first.events == ["head", "body", "complete"] and first.status == 200
    assert conn1 is conn2 is conn3 and pool.opened == 1 and server.connections == 1
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",  # HTTP/1.0 without keep-alive
        b"HTTP/1.1 200 OK\r\n\r\nhi",  # a body delimited by the close (RFC 9112 6.3)
    ],
    ids=["connection-close", "http-1.0", "read-to-close"],
)
async def test_a_connection_the_server_will_close_is_not_reused(response):
    async with Server(respond(response, keep=False)) as server:
        pool = Pool(Origin(server.url))
        try:
            first, conn1 = await exchange(pool)
            second, conn2 = await exchange(pool)
        finally:
            pool.close()
    assert first.body_bytes == second.body_bytes == b"hi"
    assert first.failure is None and second.failure is None
    assert conn1 is not conn2 and conn1.closed and pool.opened == 2 and server.connections == 2


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, rest = [], body
    for size in sizes:
        piece, rest = rest[:size], rest[size:]
        if piece:
            out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    if rest:
        out.append(b"%x\r\n%s\r\n" % (len(rest), rest))
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(out) + b"0\r\n\r\n"


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


def in_pieces(pieces_of: Callable[[int], list[bytes]], conns: list[Connection]) -> Reply:
    """Write the response piece by piece, each only once the client has read everything before it, so
    every cut is a separate ``data_received`` (whatever TCP would have merged)."""

    async def reply(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        sent = conns[0].received
        for piece in pieces_of(n):
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
            while conns[0].received < sent:
                if conns[0].closed:  # the client gave up on this response (a refused head)
                    return False
                await asyncio.sleep(0.001)  # waits for a condition, bounded by the test's timeout
        return True

    return reply


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(max_size=300),
    chunk_sizes=st.lists(st.integers(1, 64), max_size=8),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
    is_chunked=st.booleans(),
    trailer=st.booleans(),
)
def test_any_body_cut_into_any_reads_arrives_whole(body, chunk_sizes, cuts, is_chunked, trailer):
    """Content-length and chunked bodies (with or without a trailer), cut anywhere, twice on one
    connection: the handler sees one head, the body bytes in order, one completion."""
    if is_chunked:
        response = chunked(body, chunk_sizes)
        if trailer:
            response = response[: -len(b"\r\n")] + b"X-Trailer: 1\r\n\r\n"
    else:
        response = ok(body)

    async def main() -> list[Collect]:
        conns: list[Connection] = []
        async with Server(in_pieces(lambda _n: split_at(response, cuts), conns)) as server:
            pool = Pool(Origin(server.url))
            try:
                got = []
                for _ in range(2):
                    conn = await pool.acquire()
                    conns[:] = [conn]
                    handler = Collect()
                    conn.send(REQUEST, handler, 5.0)
                    async with asyncio.timeout(BOUND_S):
                        await handler.done
                    got.append(handler)
                assert pool.opened == 1
                return got
            finally:
                pool.close()

    for handler in asyncio.run(main()):
        assert handler.failure is None, handler.failure
        assert handler.body_bytes == body
        assert handler.events[0] == "head" and handler.events[-1] == "complete"
        assert handler.events.count("head") == handler.events.count("complete") == 1


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Len",  # mid-head
        b"",  # closed before any byte of the response
    ],
    ids=["content-length", "chunked", "mid-head", "nothing"],
)
async def test_a_connection_closed_mid_response_is_a_transport_failure(response):
    async with Server(respond(response, keep=False)) as server:
        pool = Pool(Origin(server.url))
        try:
            handler, conn = await exchange(pool)
        finally:
            pool.close()
    assert handler.failure is not None and handler.failure.kind == TRANSPORT, handler.failure
    assert "complete" not in handler.events and conn.closed


HUGE = 1024 * 1024  # more than one read (asyncio reads at most 256 KiB at a time)


@pytest.mark.parametrize(
    ("response", "says", "piece"),
    [
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * HUGE + b"\r\n\r\n", "over", None),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 3 * 4096) + b"\r\n\r\n", "over", 4096),
        (
            b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n",
            "header lines",
            None,
        ),
        (chunked(b"hi", [2])[:-2] + b"X-T: " + b"t" * HUGE + b"\r\n\r\n", "over", None),
        (chunked(b"hi", [2])[:-2] + b"X-T: " + b"t" * (MAX_HEAD_BYTES + 3 * 4096) + b"\r\n\r\n", "over", 4096),
        (b"NOT HTTP AT ALL\r\n\r\n", "malformed", None),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed", None),
    ],
    ids=[
        "huge-header",
        "long-header-in-reads",
        "many-headers",
        "huge-trailer",
        "long-trailer-in-reads",
        "garbage",
        "bad-chunk-size",
    ],
)
async def test_oversize_or_malformed_heads_are_protocol_failures(response, says, piece):
    """A head (or trailer section) that grows past ``MAX_HEAD_BYTES`` across reads, or has too many
    lines, or is not HTTP: ``protocol``. The limit is checked between reads (what the parser holds
    pending), so a head may pass it by the size of the read that completes it; one read is at most
    256 KiB, which bounds that too. The cases exceed it by several reads."""
    conns: list[Connection] = []
    if piece is None:
        reply = respond(response)
    else:
        reply = in_pieces(lambda _n: [response[i : i + piece] for i in range(0, len(response), piece)], conns)
    async with Server(reply) as server:
        pool = Pool(Origin(server.url))
        try:
            conn = await pool.acquire()
            conns.append(conn)
            handler = Collect()
            conn.send(REQUEST, handler, 5.0)
            async with asyncio.timeout(BOUND_S):
                await handler.done
        finally:
            pool.close()
    assert handler.failure is not None and handler.failure.kind == PROTOCOL, handler.failure
    assert says in handler.failure.message
    assert conn.closed  # a connection in an unknown state is never handed out again


async def test_a_response_that_never_comes_times_out_and_the_connection_is_dropped():
    hold = asyncio.Event()

    async def never(_r, _w, _n):
        await hold.wait()
        return False

    async with Server(never) as server:
        pool = Pool(Origin(server.url))
        try:
            handler, conn = await exchange(pool, timeout=0.05)
            hold.set()
        finally:
            pool.close()
    assert handler.failure is not None and handler.failure.kind == TIMEOUT
    assert conn.closed and pool.opened == 1


async def test_exchanges_at_once_get_connections_of_their_own_and_their_own_responses():
    """No pipelining: two exchanges in flight use two connections; each response reaches its own handler
    even when the second is answered first."""
    gates = [asyncio.Event(), asyncio.Event()]
    order: list[int] = []

    async def by_request(reader, writer, _n):
        which = int(server.requests[-1].rsplit(b"\r\n\r\n", 1)[1])
        order.append(which)
        await gates[which].wait()
        body = str(which).encode()
        writer.write(ok(body))
        await writer.drain()
        return True

    async with Server(by_request) as server:
        pool = Pool(Origin(server.url))
        try:
            conns = [await pool.acquire(), await pool.acquire()]
            handlers = [Collect(), Collect()]
            for i, (conn, handler) in enumerate(zip(conns, handlers, strict=True)):
                conn.send(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d" % i, handler, 5.0)
            async with asyncio.timeout(BOUND_S):
                while len(order) < 2:
                    await asyncio.sleep(0.001)
                gates[1].set()
                await handlers[1].done
                assert not handlers[0].done.done()
                gates[0].set()
                await handlers[0].done
        finally:
            pool.close()
    assert conns[0] is not conns[1] and server.connections == 2 and pool.peak == 2
    assert [h.body_bytes for h in handlers] == [b"0", b"1"]


async def test_a_bounded_pool_hands_a_released_connection_to_the_first_waiter():
    async with Server(respond(ok(b"x"))) as server:
        pool = Pool(Origin(server.url), limit=1)
        try:
            conn = await pool.acquire()
            waiters = [asyncio.ensure_future(pool.acquire(timeout=5)) for _ in range(2)]
            await asyncio.sleep(0)
            assert not any(w.done() for w in waiters)
            handler = Collect()
            conn.send(REQUEST, handler, 5.0)
            async with asyncio.timeout(BOUND_S):
                await handler.done
                first = await waiters[0]
            assert first is conn and not waiters[1].done()
            waiters[1].cancel()
            with pytest.raises(CallFailure) as refused:
                await pool.acquire(timeout=0)
            assert refused.value.kind == TIMEOUT
        finally:
            pool.close()
    assert pool.opened == 1 and server.connections == 1


async def test_connect_refused_is_a_transport_failure():
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    pool = Pool(Origin(f"http://127.0.0.1:{port}/mcp"))
    with pytest.raises(CallFailure) as failed:
        await pool.acquire()
    assert failed.value.kind == TRANSPORT and f"127.0.0.1:{port}" in failed.value.message
    assert pool.opened == 0
