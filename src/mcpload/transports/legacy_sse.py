"""Legacy HTTP+SSE transport (MCP 2024-11-05): a GET event stream, POSTs to the announced endpoint.

The first event of the stream is ``endpoint`` (Python SDK servers: ``/messages/?session_id=…``,
TypeScript ones: ``/message?sessionId=…``); POSTs get 202 and responses come back on the stream,
matched by id. Losing the stream loses the session: in-flight calls fail as ``transport`` and the
next request reports ``session_expired`` so that the session opens a new stream and re-initializes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

from mcpload.outcome import PROTOCOL, SESSION_EXPIRED, TIMEOUT, TRANSPORT
from mcpload.transports.base import CallFailure, TransportSettings, short
from mcpload.transports.correlated import Correlated
from mcpload.transports.exchange import EventStream, Exchange, http_failure
from mcpload.transports.http1 import Connection, Origin, Pool
from mcpload.transports.sse import OVERSIZE

MAX_ENDPOINT_CHARS = 2048


def endpoint_url(base: str, data: str) -> tuple[str, str | None]:
    """The POST URL an ``endpoint`` event announces, and why it cannot be used (None when it can).

    It must stay on the stream's origin and be plain visible ASCII: it becomes a request line, so a
    space, a CR or a LF in it would let a server write the request's headers.
    """
    if len(data) > MAX_ENDPOINT_CHARS:
        return "", f"endpoint event over {MAX_ENDPOINT_CHARS} characters"
    if not (data.isascii() and data.isprintable()) or " " in data:
        return "", f"endpoint {short(data)} is not a plain URL (control characters, spaces or non-ASCII)"
    try:
        url = urljoin(base, data)
        same = urlsplit(url).netloc == urlsplit(base).netloc
    except ValueError as exc:
        return "", f"endpoint {short(data)} is not a URL: {exc}"
    if not same:
        return "", f"endpoint {short(url)} is on another origin"
    return url, None


class LegacySSE(Correlated):
    name = "sse"
    supports_modern = False

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        connect_timeout: float = 10.0,
        verify_tls: bool | str = True,
        max_body: int = 16 * 1024 * 1024,
        shared_pool: Callable[[], Pool] | None = None,
    ) -> None:
        self.url = url
        self.shared_pool = shared_pool  # for the POSTs; the event stream always has its own connection
        self.origin = Origin(url, verify_tls)
        self.user_headers = dict(headers or {})
        self.connect_timeout = connect_timeout
        self.max_body = max_body
        self.endpoint: str | None = None
        self._common = "".join(
            f"{k}: {v}\r\n"
            for k, v in {"Host": self.origin.host_header, "User-Agent": "mcpload", **self.user_headers}.items()
        )
        self._post_prefix = b""
        self._pool: Pool | None = None
        self._posts: Pool | None = None
        self._stream_conn: Connection | None = None
        self._stream: EventStream | None = None
        self._watch: asyncio.Task[None] | None = None
        self._pending: dict[Any, asyncio.Future[tuple[dict[str, Any], int]]] = {}
        self._lost: str | None = None

    @classmethod
    def from_target(cls, target: TransportSettings, headers: dict[str, str]) -> Self:
        return cls(
            target.url or "",
            headers,
            target.connect_timeout,
            target.tls,
            max_body=target.max_response_bytes,
            shared_pool=target.pool_source(),
        )

    async def start(self) -> None:
        if self._pool is None:
            self._pool = Pool(self.origin, self.connect_timeout)
        if self._posts is None:
            self._posts = self.shared_pool().retain() if self.shared_pool is not None else self._pool
        loop = self._pool.loop
        endpoint: asyncio.Future[str] = loop.create_future()

        def on_endpoint(data: str) -> None:
            if not endpoint.done():
                endpoint.set_result(data)

        self._lost = None
        conn = await self._pool.acquire()
        stream = EventStream(self._incoming, on_endpoint, self.max_body, self._bad_event)
        head = f"GET {Origin.target(self.url)} HTTP/1.1\r\n{self._common}Accept: text/event-stream\r\n\r\n"
        conn.send(head.encode(), stream, None)
        self._stream_conn, self._stream = conn, stream
        done, _ = await asyncio.wait(
            {endpoint, stream.closed}, timeout=self.connect_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if endpoint not in done:
            conn.abandon()
            if stream.closed in done:
                res = stream.closed.result()
                if isinstance(res, CallFailure):
                    raise res
                raise (
                    http_failure(res, b"", False)
                    if res != 200
                    else CallFailure(PROTOCOL, "event stream ended before the endpoint event")
                )
            raise CallFailure(TIMEOUT, "no endpoint event on the SSE stream")
        url, problem = endpoint_url(self.url, endpoint.result())
        if problem is not None:
            conn.abandon()
            raise CallFailure(PROTOCOL, problem)
        self.endpoint = url
        self._post_prefix = (
            f"POST {Origin.target(url)} HTTP/1.1\r\n{self._common}Content-Type: application/json\r\n"
        ).encode()
        self._watch = asyncio.ensure_future(self._watch_stream(stream))

    def _bad_event(self, reason: str, text: str) -> None:
        # an oversize event is certainly a message meant for someone: blame the only call in flight
        self._bad_message(reason, text, sole=reason.startswith(OVERSIZE))

    async def _watch_stream(self, stream: EventStream) -> None:
        res = await stream.closed
        self._lost = f"event stream closed ({res})" if isinstance(res, CallFailure) else "event stream closed"
        self._fail_all(CallFailure(TRANSPORT, self._lost))

    async def _send_message(self, body: bytes, timeout: float) -> int:
        if self._lost is not None:
            raise CallFailure(SESSION_EXPIRED, self._lost)
        if self.endpoint is None:
            await self.start()
        posts = self._posts
        assert posts is not None  # start() opened it
        conn = await posts.acquire(timeout)
        fut = posts.loop.create_future()
        data = b"%sContent-Length: %d\r\n\r\n%s" % (self._post_prefix, len(body), body)
        conn.send(data, Exchange(fut, None, self.dispatch_server_message, True, self.max_body), timeout)
        await fut
        return len(data)

    async def reset(self) -> None:
        self._close_stream()
        self.endpoint = None
        self._lost = None

    def _close_stream(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._stream_conn is not None:
            self._stream_conn.abandon()
            self._stream_conn = None

    async def close(self) -> None:
        self.cancel_answers()
        self._close_stream()
        for fut in self._pending.values():
            if not fut.done():
                fut.cancel()
        self._pending.clear()
        if self._posts is not None and self._posts is not self._pool:
            self._posts.leave()
        self._posts = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def diagnostics(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint}
