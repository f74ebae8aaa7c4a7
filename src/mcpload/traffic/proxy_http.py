"""The recording proxy for HTTP targets (Streamable HTTP, and legacy HTTP+SSE).

Each client connection gets its own upstream connection (HTTP/1.1 keep-alive, one exchange at a
time, as the client sends them). Requests are read whole (they are small JSON-RPC bodies), sent
upstream with only ``Host`` and the hop-by-hop headers changed, and the response is passed back
chunk by chunk as it arrives — an SSE stream is never held back — while a copy feeds the
``Observer``. Headers (``Authorization``, cookies, ``Mcp-Session-Id``) pass untouched and are never
written: sessions appear in the trace as a keyed hash of their id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import os
import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httptools
import orjson

from mcpload.outcome import HTTP_ERROR, PROTOCOL, TRANSPORT
from mcpload.traffic.observer import Observer
from mcpload.traffic.proxy_requests import HOP_BY_HOP, Message, Requests, Upstream, request_head
from mcpload.transports.sse import SSEParser

MAX_OBSERVED = 8 * 1024 * 1024  # a JSON body longer than this is passed on but not parsed for the trace
READ = 64 * 1024


class RecordingProxy:
    """Listens for one client population and records what passes through.

    Args:
        upstream: The real server.
        observer: Where messages go to become trace lines.
    """

    def __init__(self, upstream: Upstream, observer: Observer) -> None:
        self.upstream = upstream
        self.observer = observer
        self._key = os.urandom(16)
        self._conns = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    def session_key(self, raw: bytes) -> str:
        """The name a session gets in the trace: a keyed hash of its id (the id itself is a credential)."""
        return "s-" + hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:10]

    async def serve(self, host: str, port: int, ready: asyncio.Event | None = None) -> None:
        """Accept clients until cancelled."""
        server = await asyncio.start_server(self._client, host, port, limit=READ)
        if ready is not None:
            ready.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = f"c{next(self._conns)}"
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        requests = Requests(reader)
        try:
            while True:
                request = await requests.next()
                if request is None:
                    return
                if request == "too_large":
                    writer.write(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    return
                up, keep = await self._exchange(request, writer, up, conn, requests)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, httptools.HttpParserError):
            return
        finally:
            if up is not None:
                up[1].close()
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _exchange(
        self, req: Message, writer: asyncio.StreamWriter, up: Any, conn: str, requests: Requests
    ) -> tuple[Any, bool]:
        """Forward one request, stream its response back; returns the upstream connection and keep-alive."""
        t = self.observer.writer.now()
        sid = req.header(b"mcp-session-id")
        legacy_sid = _legacy_session(req.url.decode("latin-1"))
        session = self.session_key(sid) if sid else self.session_key(legacy_sid.encode()) if legacy_sid else None
        payload = _json(bytes(req.body)) if req.body else None
        head = request_head(req, self.upstream)
        for attempt in range(2):
            reused = up is not None and not up[1].is_closing() and not up[0].at_eof()
            if not reused:
                if up is not None:
                    up[1].close()
                try:
                    up = await asyncio.open_connection(
                        self.upstream.host, self.upstream.port, ssl=self.upstream.ssl, limit=READ
                    )
                except (OSError, ssl.SSLError):
                    up = None
            if up is None:
                self._note_request(session or conn, payload, t, len(req.body))
                self.observer.failed(session or conn, _request_ids(payload), TRANSPORT, self.observer.writer.now())
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
                return None, True
            response = _Response(self, writer, session, conn, req, payload, t)
            try:
                return await self._forward(up, head, req, response, writer, requests)
            except _Stale as exc:
                up[1].close()
                up = None
                if not reused or attempt:  # a fresh connection said nothing: the upstream is at fault
                    response.broken(exc.__cause__ or ConnectionResetError("upstream closed without a response"))
                    return None, False
                # else a kept-alive connection the server had closed while idle: once more, on a fresh one
        raise AssertionError("unreachable")  # pragma: no cover

    async def _forward(
        self, up: Any, head: bytes, req: Message, response: _Response, writer: asyncio.StreamWriter,
        requests: Requests,
    ) -> tuple[Any, bool]:  # fmt: skip
        up_reader, up_writer = up
        parser = response.parser = httptools.HttpResponseParser(response)
        received = False
        watch: asyncio.Future[bytes] | None = None  # GET streams: the client hanging up ends them
        try:
            up_writer.write(head + bytes(req.body))
            await up_writer.drain()
            while not response.done:
                if req.method == b"GET":
                    chunk, watch = await _upstream_or_client(up_reader, requests, watch)
                else:
                    chunk = await up_reader.read(READ)
                if not chunk:
                    if not received:
                        raise _Stale
                    parser.feed_data(b"")  # lets a read-until-close body complete
                    response.flush()
                    if not response.done:
                        raise ConnectionResetError("upstream closed the connection")
                    break
                received = True
                parser.feed_data(chunk)
                response.flush()  # one write per upstream read: head, body and end of a response together
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            if not received:
                raise _Stale from exc
            up_writer.close()
            response.broken(exc)
            return None, False
        except (httptools.HttpParserError, asyncio.IncompleteReadError) as exc:
            up_writer.close()
            response.broken(exc)
            return None, False
        except _ClientGone:
            up_writer.close()  # the upstream sees its stream end: nothing held open for a client that left
            response.broken(None)
            if response.legacy_stream():
                self.observer.end_session(response.session or response.conn, "stream_closed")
            return None, False
        except asyncio.CancelledError:
            up_writer.close()
            response.broken(None)
            raise
        finally:
            if watch is not None:
                watch.cancel()  # a pending read consumes nothing
        if not response.keep_alive:  # the upstream closes: the client's connection stays, the next gets a new one
            up_writer.close()
            return None, req.keep_alive
        return up, req.keep_alive

    def _note_request(self, session: str, payload: Any, t: float, size: int) -> list[Any]:
        if payload is None:
            return []
        self.observer.session(session)
        return self.observer.client(session, payload, t, size)


class _ClientGone(Exception):
    """The client closed its connection while a GET stream was open."""


async def _upstream_or_client(
    up_reader: asyncio.StreamReader, requests: Requests, watch: asyncio.Future[bytes] | None
) -> tuple[bytes, asyncio.Future[bytes] | None]:
    """The next chunk of a long-lived GET stream, watching the client meanwhile: its hang-up raises
    ``_ClientGone``; bytes it sends (a next request) go to its parser, kept for after the stream."""
    read = asyncio.ensure_future(up_reader.read(READ))
    try:
        while True:
            if watch is None:
                watch = asyncio.ensure_future(requests.reader.read(READ))
            done, _ = await asyncio.wait({read, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done:
                try:
                    data = watch.result()
                except (ConnectionError, OSError):
                    data = b""
                watch = None
                if not data:
                    raise _ClientGone
                requests.feed(data)
            if read in done:
                return read.result(), watch
    finally:
        if not read.done():
            read.cancel()


class _Stale(Exception):
    """The upstream connection gave no byte of a response: closed while idle, or refused on the way."""


class _Response:
    """httptools callbacks for one upstream response: forward each piece, and observe a copy."""

    def __init__(self, proxy: RecordingProxy, writer: asyncio.StreamWriter, session: str | None, conn: str,
                 req: Message, payload: Any, t: float) -> None:  # fmt: skip
        self.proxy, self.writer, self.session, self.conn = proxy, writer, session, conn
        self.req, self.payload, self.t = req, payload, t
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.done = False
        self.chunked = False
        self.sse: SSEParser | None = None
        self.body = bytearray()
        self.ids: list[Any] = []
        self.parser: Any = None
        self.keep_alive = False
        self.out: list[bytes] = []

    def flush(self) -> None:
        if self.out:
            self.writer.write(b"".join(self.out))
            self.out.clear()

    @property
    def observer(self) -> Observer:
        return self.proxy.observer

    def on_status(self, status: bytes) -> None:
        pass

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        sid = next((v for k, v in self.headers if k.lower() == b"mcp-session-id"), None)
        if self.session is None:
            self.session = self.proxy.session_key(sid) if sid else self.conn
        self.ids = self.proxy._note_request(self.session, self.payload, self.t, len(self.req.body))
        if self.req.method == b"DELETE" and 200 <= self.status < 300:
            self.observer.end_session(self.session, "delete")
        ctype = next((v for k, v in self.headers if k.lower() == b"content-type"), b"").lower()
        if ctype.startswith(b"text/event-stream"):
            self.sse = SSEParser()
        length = next((v for k, v in self.headers if k.lower() == b"content-length"), None)
        out = [b"HTTP/1.1 %d %s\r\n" % (self.status, _REASONS.get(self.status, b"Status"))]
        out += [k + b": " + v + b"\r\n" for k, v in self.headers if k.lower() not in HOP_BY_HOP]
        if length is not None and length.strip().isdigit():
            out.append(b"content-length: " + length.strip() + b"\r\n")
        elif self.status not in (204, 304):
            self.chunked = True
            out.append(b"transfer-encoding: chunked\r\n")
        out.append(b"\r\n")
        self.out += out

    def on_body(self, body: bytes) -> None:
        self.out.append(b"%x\r\n%s\r\n" % (len(body), body) if self.chunked else body)
        if self.sse is not None:
            for event in self.sse.feed(body):
                self._event(event.event, event.data)
        elif len(self.body) + len(body) <= MAX_OBSERVED:
            self.body += body

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.chunked:
            self.out.append(b"0\r\n\r\n")
        self.done = True
        session = self.session or self.conn
        now = self.observer.writer.now()
        if self.status >= 400:
            self.observer.failed(session, self.ids, HTTP_ERROR, now, self.status)
            if self.status == 404 and self.req.header(b"mcp-session-id"):
                self.observer.end_session(session, "expired")
        elif self.sse is None and self.status != 202:
            # a JSON answer; 202 means the answers come on another stream (legacy SSE), and an SSE
            # stream that ends unanswered may be resumed later: those stay pending until session end
            message = _json(bytes(self.body)) if self.body else None
            if message is None:
                self.observer.failed(session, self.ids, PROTOCOL, now, self.status)
            else:
                self.observer.server(session, message, now, self.status, len(self.body))
        elif self.sse is not None and self.req.method == b"GET" and self.legacy_stream():
            self.observer.end_session(session, "stream_closed")

    def legacy_stream(self) -> bool:
        return self.req.header(b"mcp-session-id") is None and self.session is not None and self.session != self.conn

    def _event(self, event: str, data: str) -> None:
        now = self.observer.writer.now()
        if event == "endpoint":  # legacy HTTP+SSE: the stream's session is named in the endpoint URL
            sid = _legacy_session(data)
            if sid:
                self.session = self.proxy.session_key(sid.encode())
                self.observer.session(self.session)
            return
        if not data:
            return
        message = _json(data.encode())
        if message is not None:
            self.observer.server(self.session or self.conn, message, now, self.status, len(data))

    def broken(self, exc: BaseException | None) -> None:
        """The upstream connection or the client broke mid-response."""
        session = self.session or self.conn
        if not self.headers and self.payload is not None and not self.ids:
            self.ids = self.proxy._note_request(session, self.payload, self.t, len(self.req.body))
        if exc is None or self.writer.is_closing():
            kind = "interrupted"
        else:
            kind = PROTOCOL if isinstance(exc, httptools.HttpParserError) else TRANSPORT
        self.observer.failed(session, self.ids, kind, self.observer.writer.now())
        with contextlib.suppress(Exception):
            if not self.status and exc is not None:  # nothing sent yet: the client gets an answer, not a reset
                self.writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.writer.close()


_REASONS = {200: b"OK", 202: b"Accepted", 204: b"No Content", 400: b"Bad Request", 401: b"Unauthorized",
            403: b"Forbidden", 404: b"Not Found", 405: b"Method Not Allowed", 406: b"Not Acceptable",
            429: b"Too Many Requests", 500: b"Internal Server Error", 502: b"Bad Gateway",
            503: b"Service Unavailable"}  # fmt: skip


def _legacy_session(url: str) -> str | None:
    """The session id in a legacy HTTP+SSE message URL (Python SDK ``session_id``, TypeScript ``sessionId``)."""
    query = parse_qs(urlsplit(url).query)
    found = query.get("session_id") or query.get("sessionId")
    return found[0] if found else None


def _json(body: bytes) -> Any:
    if len(body) > MAX_OBSERVED:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _request_ids(payload: Any) -> list[Any]:
    items = payload if isinstance(payload, list) else [payload]
    return [m["id"] for m in items if isinstance(m, dict) and isinstance(m.get("method"), str) and "id" in m]
