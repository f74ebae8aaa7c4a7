"""A lean HTTP/1.1 client: one asyncio Protocol per keep-alive connection, httptools to parse.

Why not aiohttp: the per-call CPU of a load generator is the budget of the whole tool, and a bare
Protocol with pre-encoded request heads costs a fraction of a full client. Each exchange hands
the response head and body chunks to a *handler* as they arrive, so SSE bodies are parsed while
they stream and a response can be used before its stream ends.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import ssl
from typing import Protocol
from urllib.parse import urlsplit

import httptools

from mcpload.outcome import PROTOCOL, TIMEOUT, TRANSPORT
from mcpload.transports.failure import CallFailure

#: a response head (status line and headers) or trailer section longer than this is a `protocol` error
MAX_HEAD_BYTES = 64 * 1024
#: and so is one with more header (or trailer) lines than this
MAX_HEADERS = 128


class _HeadTooBig(Exception):
    """Raised from a parser callback to stop parsing a response whose head is over the limits."""


class Handler(Protocol):
    """Receives one response. ``failed`` ends it early (reset, parse error, timeout)."""

    def head(self, status: int, headers: dict[str, str]) -> None: ...
    def body(self, chunk: bytes) -> None: ...
    def complete(self) -> None: ...
    def failed(self, exc: CallFailure) -> None: ...


@functools.lru_cache(maxsize=8)
def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """One TLS context per setting, shared by every session (loading the CA store costs milliseconds).

    Raises:
        ValueError: ``verify`` names a file that is not a readable PEM bundle of CA certificates.
    """
    try:
        ctx = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"--ca-file {verify}: not a readable PEM file of CA certificates ({exc})") from None
    if verify is False:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_failure(exc: ssl.SSLError, host: str, port: int) -> str:
    """A TLS error as one line that says what failed and which option helps."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or "certificate verification failed"
        return (
            f"TLS certificate of {host}:{port} not accepted ({why}): give its CA with --ca-file PEM "
            "(target.ca_file), or --insecure (target.insecure) to skip verification"
        )
    return f"TLS error with {host}:{port}: {exc.reason or exc} (is it an https server? --insecure, --ca-file)"


class Origin:
    """Where requests go: scheme, host, port, TLS context, and the Host header value."""

    __slots__ = ("host", "host_header", "port", "server_hostname", "ssl")

    def __init__(self, url: str, verify_tls: bool | str = True) -> None:
        """``verify_tls``: True (the system's CAs), False (no verification: ``--insecure``) or the path of
        a PEM file of CA certificates to trust (``--ca-file``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc.rpartition("@")[2]
        self.ssl: ssl.SSLContext | None = None
        self.server_hostname: str | None = None
        if parts.scheme == "https":
            self.ssl = tls_context(verify_tls)
            self.server_hostname = self.host

    @staticmethod
    def target(url: str) -> str:
        """The request-target (path and query) of ``url``."""
        parts = urlsplit(url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Connection(asyncio.Protocol):
    """One keep-alive connection running one exchange at a time (no pipelining)."""

    __slots__ = (
        "_handler",
        "_header_count",
        "_headers",
        "_parser",
        "_pool",
        "_stall",
        "_timer",
        "_to_close",
        "closed",
        "keep_alive",
        "received",
        "transport",
    )

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self._handler: Handler | None = None
        self._headers: dict[str, str] = {}
        self._header_count = 0
        # bytes fed since the parser last produced anything (a head, body bytes, a message end): what
        # httptools may be holding in a header or trailer value under way; bounded by MAX_HEAD_BYTES
        self._stall = 0
        self._timer: asyncio.TimerHandle | None = None
        # the body under way ends when the server closes (no Content-Length, not chunked: RFC 9112 6.3)
        self._to_close = False
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.keep_alive = True
        self.received = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self._stall += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(CallFailure(PROTOCOL, "unexpected protocol upgrade"))
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            message = str(cause) if isinstance(cause, _HeadTooBig) else f"malformed HTTP response: {exc}"
            self._fail(CallFailure(PROTOCOL, message))
        except httptools.HttpParserError as exc:
            self._fail(CallFailure(PROTOCOL, f"malformed HTTP response: {exc}"))
        else:
            if self._stall > MAX_HEAD_BYTES:
                self._fail(CallFailure(PROTOCOL, f"response head or trailers over {MAX_HEAD_BYTES} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.discard(self)
        if self._handler is not None and self._to_close and exc is None:
            self.on_message_complete()  # the close is this body's end, not a failure
        elif self._handler is not None:
            reason = f"connection lost: {exc}" if exc else "server closed the connection"
            self._fail(CallFailure(TRANSPORT, reason))
        # The parser calls back into this object and the transport holds it: drop both so that a
        # closed connection is freed at once, not at the next full garbage collection.
        self._parser = None  # type: ignore[assignment]
        self.transport = None

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._to_close = False
        self._headers = {}
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            raise _HeadTooBig(f"response with more than {MAX_HEADERS} header lines")
        key = name.decode("latin-1").lower()
        prev = self._headers.get(key)
        text = value.decode("latin-1")
        self._headers[key] = f"{prev}, {text}" if prev is not None else text

    def on_headers_complete(self) -> None:
        self._stall = 0
        self.keep_alive = self._parser.should_keep_alive()
        headers = self._headers
        self._to_close = "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "")
        if self._handler is not None:
            self._handler.head(self._parser.get_status_code(), self._headers)

    def on_body(self, body: bytes) -> None:
        self._stall = 0
        if self._handler is not None:
            self._handler.body(body)

    def on_message_complete(self) -> None:
        self._stall = 0
        self._to_close = False
        handler = self._handler
        self._finish()
        if handler is not None:
            handler.complete()

    # exchanges
    def send(self, data: bytes, handler: Handler, timeout: float | None) -> None:
        """Write a request and route its response to ``handler``."""
        if self.transport is None:  # lost between the pool handing it out and this write
            handler.failed(CallFailure(TRANSPORT, "connection closed before the request was sent"))
            return
        self._handler = handler
        self._stall = 0
        if timeout is not None:
            self._timer = self._pool.loop.call_later(timeout, self._on_timeout)
        self.transport.write(data)

    def abandon(self) -> None:
        """Stop listening to the current response (e.g. a stream no longer wanted)."""
        self._handler = None
        self._finish(reuse=False)

    def _on_timeout(self) -> None:
        self._timer = None
        self._fail(CallFailure(TIMEOUT, "timed out waiting for the response"))

    def _fail(self, exc: CallFailure) -> None:
        handler = self._handler
        self._finish(reuse=False)
        if handler is not None:
            handler.failed(exc)

    def _finish(self, reuse: bool = True) -> None:
        self._handler = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if reuse and self.keep_alive and not self.closed:
            self._pool.release(self)
        else:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._pool.discard(self)
            if self.transport is not None:
                self.transport.close()


#: the waiters of every unbounded pool: none ever wait there, and maxlen=0 keeps it so
_NO_WAITERS: collections.deque[asyncio.Future[Connection | None]] = collections.deque(maxlen=0)


class Pool:
    """Keep-alive connections to one origin. Opens more when several exchanges run at once.

    ``limit`` bounds the connections open at once: an ``acquire`` beyond it waits (first come, first
    served) for one to be released. A pool shared by many sessions (``--connections shared``) has a
    limit and counts its ``users``: when the last one leaves, its idle connections are closed.
    """

    def __init__(
        self, origin: Origin, connect_timeout: float = 10.0, max_idle: int = 8, limit: int | None = None
    ) -> None:
        self.origin = origin
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle if limit is None else max(max_idle, limit)
        self.limit = limit
        self.loop = asyncio.get_running_loop()
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        # only a bounded (shared) pool ever has waiters: an agent's own pool saves the deque (~600 B)
        self._waiters: collections.deque[asyncio.Future[Connection | None]] = (
            collections.deque() if limit is not None else _NO_WAITERS
        )
        self._connecting = 0
        self.users = 0
        self._drain = False  # no user left: connections close as they are released
        self.opened = 0  # connections ever opened (tests, diagnostics)
        self.peak = 0  # most connections open at once

    async def acquire(self, timeout: float | None = None) -> Connection:
        """An idle connection, or a new one; raises ``CallFailure`` if it cannot connect (or, with a
        ``limit``, when none is free within ``timeout`` seconds)."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        if self.limit is not None and len(self._all) + self._connecting >= self.limit:
            return await self._wait(timeout)
        o = self.origin
        self._connecting += 1
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await self.loop.create_connection(
                    lambda: Connection(self), o.host, o.port, ssl=o.ssl, server_hostname=o.server_hostname
                )
        except TimeoutError:
            raise CallFailure(TIMEOUT, f"connect to {o.host}:{o.port} timed out") from None
        except ssl.SSLError as exc:
            raise CallFailure(TRANSPORT, tls_failure(exc, o.host, o.port)) from None
        except OSError as exc:
            raise CallFailure(TRANSPORT, f"cannot connect to {o.host}:{o.port}: {exc.strerror or exc}") from None
        finally:
            self._connecting -= 1
            if self._waiters and self.limit is not None and len(self._all) + self._connecting < self.limit:
                self._wake(None)  # a failed connect frees its slot for a waiter
        self._all.add(conn)
        self.opened += 1
        self.peak = max(self.peak, len(self._all))
        return conn

    async def _wait(self, timeout: float | None) -> Connection:
        fut: asyncio.Future[Connection | None] = self.loop.create_future()
        self._waiters.append(fut)
        try:
            if timeout is None:
                conn = await fut
            else:
                async with asyncio.timeout(max(timeout, 0.0)):
                    conn = await fut
        except BaseException as exc:
            if fut.done() and not fut.cancelled():  # handed over just as this waiter gave up: pass it on
                given = fut.result()
                if given is not None:
                    self.release(given)
                elif self._waiters:
                    self._wake(None)
            else:
                fut.cancel()
            if isinstance(exc, TimeoutError):
                raise CallFailure(TIMEOUT, "timed out waiting for a free connection of the shared pool") from None
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)
        if conn is None:  # a slot opened up: connect (or wait again)
            return await self.acquire(timeout)
        return conn

    def _wake(self, conn: Connection | None) -> bool:
        """Hand ``conn`` (or, with None, a free slot) to the first live waiter; False when none."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return True
        return False

    def release(self, conn: Connection) -> None:
        if self._waiters and self._wake(conn):
            return
        if self._drain:
            conn.close()
        elif len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            conn.close()

    def discard(self, conn: Connection) -> None:
        self._all.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)
        if self._waiters:
            self._wake(None)

    def retain(self) -> Pool:
        """One more session uses this (shared) pool."""
        self.users += 1
        self._drain = False
        return self

    def leave(self) -> None:
        """A session is done with this (shared) pool; the last one closes the idle connections (the
        busy ones close when their exchange ends, see ``Connection._finish``)."""
        self.users = max(self.users - 1, 0)
        if self.users == 0:
            self._drain = True
            for conn in list(self._idle):
                conn.close()
            self._idle.clear()

    def close(self) -> None:
        for conn in list(self._all):
            conn.abandon()
        self._idle.clear()
        self._all.clear()
        for fut in self._waiters:
            if not fut.done():
                fut.cancel()
        if self._waiters:
            self._waiters.clear()
