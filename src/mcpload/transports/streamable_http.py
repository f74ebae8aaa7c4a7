"""Streamable HTTP transport (MCP 2025-03-26 … 2025-11-25 sessions and the 2026-07-28 stateless era).

Every message is a POST to one endpoint. Request heads are pre-encoded once per session state and
only the per-request headers and the body are added per call. SSE responses are parsed while they
stream; a stream that ends before its response is resumed with GET + ``Last-Event-ID`` after the
server's ``retry:`` delay (2025-11-25 "SSE polling").
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from typing import Self

from mcpload.outcome import PROTOCOL, TIMEOUT
from mcpload.transports.base import CallFailure, Reply, Transport, TransportSettings, short
from mcpload.transports.exchange import STREAM_ENDED, EventStream, Exchange
from mcpload.transports.http1 import Origin, Pool

DEFAULT_RETRY_MS = 1000
MAX_RESUMES = 10
#: an Mcp-Session-Id or SSE event id longer than this is refused (it is sent back in every request)
MAX_ECHOED_CHARS = 1024


def echoable(value: str, space: bool = False) -> bool:
    """Whether a server's value may be sent back as a header value: visible ASCII (0x21–0x7E; with
    ``space``, also 0x20), at most MAX_ECHOED_CHARS. The spec asks this of Mcp-Session-Id; anything
    else could split or forge the headers of every later request."""
    return (
        0 < len(value) <= MAX_ECHOED_CHARS and value.isascii() and value.isprintable() and (space or " " not in value)
    )


def header_value(text: str) -> str:
    """An ``Mcp-Name`` value: plain when it is visible ASCII, else the spec's base64 sentinel."""
    if text.isascii() and text.isprintable() and text == text.strip():
        return text
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


class StreamableHTTP(Transport):
    """POST-per-message transport over a small keep-alive pool owned by this session, or over a pool
    shared with other sessions (``shared_pool``: called once started, it returns the pool to use; the
    ``Mcp-Session-Id`` travels in every request, so any connection serves any session)."""

    name = "http"

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        connect_timeout: float = 10.0,
        verify_tls: bool | str = True,
        max_body: int = 16 * 1024 * 1024,
        listen: bool = False,
        shared_pool: Callable[[], Pool] | None = None,
    ) -> None:
        self.url = url
        self.shared_pool = shared_pool
        self.origin = Origin(url, verify_tls)
        self.path = Origin.target(url)
        self.user_headers = dict(headers or {})
        self.connect_timeout = connect_timeout
        self.max_body = max_body
        self.listen = listen
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.modern = False
        self._pool: Pool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._build_prefix()

    @classmethod
    def from_target(cls, target: TransportSettings, headers: dict[str, str]) -> Self:
        return cls(
            target.url or "",
            headers,
            target.connect_timeout,
            target.tls,
            listen=target.listen,
            max_body=target.max_response_bytes,
            shared_pool=target.pool_source(),
        )

    # request heads
    def _head_lines(self) -> str:
        lines = [f"Host: {self.origin.host_header}", "User-Agent: mcpload"]
        lines += [f"{k}: {v}" for k, v in self.user_headers.items()]
        if self.session_id:
            lines.append(f"Mcp-Session-Id: {self.session_id}")
        if self.protocol_version:
            lines.append(f"MCP-Protocol-Version: {self.protocol_version}")
        return "".join(f"{line}\r\n" for line in lines)

    def _build_prefix(self) -> None:
        common = self._head_lines()
        self._post_prefix = (
            f"POST {self.path} HTTP/1.1\r\n{common}"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        ).encode()
        self._common = common

    def set_header(self, name: str, value: str) -> None:
        """Set a request header for the later requests (a refreshed OAuth token)."""
        if any(c in name + value for c in "\r\n"):
            raise ValueError("a header holds no line break")
        self.user_headers[name] = value
        self._build_prefix()

    def set_protocol(self, protocol_version: str | None, modern: bool) -> None:
        self.protocol_version = protocol_version
        self.modern = modern
        self._build_prefix()

    def _post(self, body: bytes, method: str | None, name: str | None) -> bytes:
        extra = b""
        if self.modern and method is not None:
            extra = b"Mcp-Method: " + method.encode() + b"\r\n"
            if name is not None:
                extra += b"Mcp-Name: " + header_value(name).encode() + b"\r\n"
        return b"%s%sContent-Length: %d\r\n\r\n%s" % (self._post_prefix, extra, len(body), body)

    def _get(self, last_event_id: str | None = None) -> bytes:
        head = f"GET {self.path} HTTP/1.1\r\n{self._common}Accept: text/event-stream\r\n"
        if last_event_id is not None:
            head += f"Last-Event-ID: {last_event_id}\r\n"
        return (head + "\r\n").encode()

    # Transport
    async def start(self) -> None:
        if self._pool is None:
            self._open_pool()

    def _open_pool(self) -> Pool:
        pool = self._pool = (
            self.shared_pool().retain() if self.shared_pool is not None else Pool(self.origin, self.connect_timeout)
        )
        return pool

    async def request(self, msg_id: int | str, body: bytes, method: str, name: str | None, timeout: float) -> Reply:
        pool = self._pool
        if pool is None:
            pool = self._open_pool()
        loop = pool.loop
        deadline = loop.time() + timeout
        data = self._post(body, method, name)
        sent = len(data)
        received = 0
        conn = await pool.acquire(timeout)
        fut = loop.create_future()
        ex = Exchange(fut, msg_id, self.dispatch_server_message, self.session_id is not None, self.max_body)
        start_rx = conn.received
        conn.send(data, ex, max(deadline - loop.time(), 0.001))
        try:
            msg = await fut
            received += conn.received - start_rx
            if method == "initialize" and ex.mcp_session_id:
                if not echoable(ex.mcp_session_id):
                    raise CallFailure(
                        PROTOCOL,
                        f"Mcp-Session-Id {short(ex.mcp_session_id)} is not 1 to {MAX_ECHOED_CHARS} visible ASCII "
                        "characters",
                    )
                self.session_id = ex.mcp_session_id  # echoed once the session calls set_protocol
            resumes = 0
            while msg is STREAM_ENDED:
                sse = ex.sse
                if sse is None or sse.last_event_id is None or resumes >= MAX_RESUMES:
                    raise CallFailure(PROTOCOL, "response stream ended without a response")
                if not echoable(sse.last_event_id, space=True):
                    raise CallFailure(PROTOCOL, f"SSE event id {short(sse.last_event_id)} cannot be sent back")
                resumes += 1
                delay = (sse.retry_ms if sse.retry_ms is not None else DEFAULT_RETRY_MS) / 1000
                await asyncio.sleep(min(delay, max(deadline - loop.time(), 0.0)))  # never past the call's timeout
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise CallFailure(TIMEOUT, "timed out waiting to resume the response stream")
                data = self._get(sse.last_event_id)
                sent += len(data)
                conn = await pool.acquire(remaining)
                fut = loop.create_future()
                known = self.session_id is not None
                ex = Exchange(fut, msg_id, self.dispatch_server_message, known, self.max_body, sse)
                start_rx = conn.received
                conn.send(data, ex, remaining)
                msg = await fut
                received += conn.received - start_rx
        except CallFailure as exc:
            exc.bytes_sent = sent
            exc.bytes_received = received + conn.received - start_rx
            raise
        except asyncio.CancelledError:
            if not fut.done():  # abandoned while its response is coming: closing the stream cancels it
                conn.abandon()
            raise
        return Reply(msg, sent, received)

    async def notify(self, body: bytes, method: str) -> None:
        pool = self._pool
        if pool is None:
            pool = self._open_pool()
        conn = await pool.acquire(self.connect_timeout)
        fut = pool.loop.create_future()
        conn.send(
            self._post(body, method, None),
            Exchange(fut, None, self.dispatch_server_message, self.session_id is not None, self.max_body),
            self.connect_timeout,
        )
        await fut

    async def reset(self) -> None:
        self._stop_listener()
        self.session_id = None
        self.set_protocol(None, False)

    async def close(self) -> None:
        self._stop_listener()
        self.cancel_answers()
        pool = self._pool
        if pool is not None and self.session_id and not self.modern:
            with contextlib.suppress(CallFailure, OSError):
                conn = await pool.acquire(2.0)
                fut = pool.loop.create_future()
                head = f"DELETE {self.path} HTTP/1.1\r\n{self._common}Content-Length: 0\r\n\r\n".encode()
                conn.send(head, Exchange(fut, None, lambda m: None, True, self.max_body), 2.0)
                await fut  # 200/204, or 405 when the server does not allow it: both fine
        if self._pool is not None:
            if self.shared_pool is not None:
                self._pool.leave()
            else:
                self._pool.close()
            self._pool = None

    def open_listener(self) -> asyncio.Future[int | None] | None:
        """Open the optional GET stream for server-initiated messages (a 405 just ends it). Returns a
        future done once the server answered the GET (or the stream ended), None when not listening."""
        if self.listen and self._listener is None and not self.modern:
            ready = asyncio.get_running_loop().create_future()
            self._listener = asyncio.ensure_future(self._listen(ready))
            return ready
        return None

    async def _listen(self, ready: asyncio.Future[int | None]) -> None:
        # A stream holds its connection for its whole life: with a shared pool it gets its own.
        own = Pool(self.origin, self.connect_timeout) if self.shared_pool is not None else None
        try:
            with contextlib.suppress(CallFailure, OSError):
                pool = own or self._pool
                if pool is None:
                    return  # the transport was closed before its stream opened
                conn = await pool.acquire()
                stream = _ListenStream(lambda msg, _size: self.dispatch_server_message(msg), None, self.max_body)
                stream.ready = ready
                conn.send(self._get(), stream, None)
                try:
                    await stream.closed
                finally:
                    conn.abandon()
        finally:
            if not ready.done():
                ready.set_result(None)
            if own is not None:
                own.close()

    def _stop_listener(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None


class _ListenStream(EventStream):
    """The standalone GET stream: says when the server has answered it (``ready``)."""

    __slots__ = ("ready",)
    ready: asyncio.Future[int | None]

    def head(self, status: int, headers: dict[str, str]) -> None:
        super().head(status, headers)
        if not self.ready.done():
            self.ready.set_result(status)
