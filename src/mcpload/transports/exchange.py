"""Response handlers shared by the HTTP transports: one JSON-RPC exchange, one event stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from mcpload.mcp.outcome import HTTP_ERROR, PROTOCOL, RPC_ERROR, SESSION_EXPIRED
from mcpload.transports.base import CallFailure
from mcpload.transports.sse import SSEEvent, SSEParser

#: resolves an exchange whose SSE stream ended before the response (resume with Last-Event-ID)
STREAM_ENDED = object()

MessageSink = Callable[[dict[str, Any]], None]
StreamSink = Callable[[dict[str, Any], int], None]  # message and its size in bytes


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given as a number (an HTTP date is not honoured)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), 300.0)  # never let a server park an agent for longer


def http_failure(status: int, body: bytes, session_known: bool, retry_after: str | None = None) -> CallFailure:
    """Classify a non-2xx answer; a forgotten session is ``session_expired``, not an HTTP error.

    ``retry_after`` (the ``Retry-After`` header, if any) is kept on the failure for retry policies.
    """
    failure = _classify_http(status, body, session_known)
    failure.retry_after = retry_after_seconds(retry_after)
    return failure


def _classify_http(status: int, body: bytes, session_known: bool) -> CallFailure:
    code = message = None
    try:
        doc = orjson.loads(body) if body else None
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message")
    except orjson.JSONDecodeError:
        pass
    text = message if isinstance(message, str) else body[:200].decode("utf-8", "replace").strip()
    code = code if isinstance(code, int) else None
    if session_known and (status == 404 or (status == 400 and "session" in text.lower())):
        return CallFailure(SESSION_EXPIRED, f"session rejected with HTTP {status}: {text}", status, code, body)
    if code is not None:  # a JSON-RPC error carried by an HTTP error status (the 2026-07-28 mapping)
        return CallFailure(RPC_ERROR, text, status, code, body)
    return CallFailure(HTTP_ERROR, text or f"HTTP {status}", status, None, body)


class Exchange:
    """Handler for one POSTed JSON-RPC request: JSON or SSE response, matched by id."""

    __slots__ = (
        "_parts",
        "_retry_after",
        "_size",
        "fut",
        "max_body",
        "mcp_session_id",
        "msg_id",
        "on_server_message",
        "session_known",
        "sse",
        "status",
    )

    def __init__(
        self,
        fut: asyncio.Future,
        msg_id: int | str | None,
        on_server_message: MessageSink,
        session_known: bool,
        max_body: int,
        sse: SSEParser | None = None,
    ) -> None:
        self.fut = fut
        self.msg_id = msg_id
        self.on_server_message = on_server_message
        self.session_known = session_known
        self.max_body = max_body
        self.sse = sse  # given when resuming a stream
        self.status = 0
        self.mcp_session_id: str | None = None
        self._parts: list[bytes] = []
        self._size = 0
        self._retry_after: str | None = None

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        self.mcp_session_id = headers.get("mcp-session-id")
        self._retry_after = headers.get("retry-after")
        if 200 <= status < 300 and "text/event-stream" in headers.get("content-type", ""):
            if self.sse is None:
                self.sse = SSEParser(self.max_body)
        else:
            self.sse = None

    def body(self, chunk: bytes) -> None:
        if self.fut.done() and self.sse is None:
            return
        if self.sse is not None:
            data = self.sse.whole_message(chunk)
            if data is not None:
                self._message(data)
                return
            try:
                events = self.sse.feed(chunk)
            except ValueError as exc:
                self.failed(CallFailure(PROTOCOL, str(exc)))
                return
            for ev in events:
                self._event(ev)
            return
        self._size += len(chunk)
        if self._size > self.max_body:
            self.failed(CallFailure(PROTOCOL, f"response body over {self.max_body} bytes"))
            self._parts = []
            return
        self._parts.append(chunk)

    def complete(self) -> None:
        if self.fut.done():
            return
        status = self.status
        body = b"".join(self._parts)
        if status < 200 or status >= 300:
            self.fut.set_exception(http_failure(status, body, self.session_known, self._retry_after))
        elif self.sse is not None:
            self.fut.set_result(STREAM_ENDED)
        elif self.msg_id is None:  # a notification: 202 (or 200) is all we wanted
            self.fut.set_result(None)
        elif not body:
            self.fut.set_exception(CallFailure(PROTOCOL, f"HTTP {status} with an empty body for a request"))
        else:
            try:
                msg = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                self.fut.set_exception(CallFailure(PROTOCOL, f"malformed JSON response: {exc}"))
                return
            if isinstance(msg, list):  # 2025-03-26 batching: find ours
                msg = next((m for m in msg if isinstance(m, dict) and m.get("id") == self.msg_id), msg)
            self._response(msg)

    def failed(self, exc: CallFailure) -> None:
        if not self.fut.done():
            self.fut.set_exception(exc)

    def _message(self, data: bytes) -> None:
        """A whole ``message`` event's data, straight from the chunk (see ``SSEParser.whole_message``)."""
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            # the slow path decides: it decodes with replacement characters first, then reports
            self._event(SSEEvent("message", data.decode("utf-8", "replace"), None))
            return
        if isinstance(msg, dict) and "method" in msg:
            self.on_server_message(msg)
        elif not self.fut.done():
            self._response(msg)

    def _event(self, ev: SSEEvent) -> None:
        if ev.event != "message" or not ev.data.strip():
            return
        try:
            msg = orjson.loads(ev.data)
        except orjson.JSONDecodeError as exc:
            self.failed(CallFailure(PROTOCOL, f"malformed JSON in SSE event: {exc}"))
            return
        if isinstance(msg, dict) and "method" in msg:
            self.on_server_message(msg)
        elif not self.fut.done():
            self._response(msg)

    def _response(self, msg: Any) -> None:
        if not isinstance(msg, dict) or ("result" not in msg and "error" not in msg):
            self.fut.set_exception(CallFailure(PROTOCOL, "response has neither result nor error"))
        elif msg.get("id") != self.msg_id and not (msg.get("id") is None and "error" in msg):
            self.fut.set_exception(CallFailure(PROTOCOL, f"response id {msg.get('id')!r} != {self.msg_id!r}"))
        else:
            self.fut.set_result(msg)


class EventStream:
    """Handler for a long-lived GET event stream: every JSON message goes to ``sink``."""

    __slots__ = ("closed", "endpoint", "on_endpoint", "sink", "sse", "status")

    def __init__(self, sink: StreamSink, on_endpoint: Callable[[str], None] | None = None) -> None:
        self.sink = sink
        self.on_endpoint = on_endpoint
        self.sse = SSEParser()
        self.status = 0
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        ctype = headers.get("content-type", "")
        if status == 200 and "text/event-stream" not in ctype:
            self.status = -1
            self.failed(CallFailure(PROTOCOL, f"not an event stream (content-type {ctype or 'missing'!r})"))

    def body(self, chunk: bytes) -> None:
        if self.status != 200:
            return
        try:
            events = self.sse.feed(chunk)
        except ValueError as exc:
            self.failed(CallFailure(PROTOCOL, str(exc)))
            return
        for ev in events:
            if ev.event == "endpoint" and self.on_endpoint is not None:
                self.on_endpoint(ev.data.strip())
            elif ev.event == "message" and ev.data.strip():
                try:
                    msg = orjson.loads(ev.data)
                except orjson.JSONDecodeError:
                    continue  # counted by the session as a missing response, not a crash
                if isinstance(msg, dict):
                    self.sink(msg, len(ev.data))

    def complete(self) -> None:
        if not self.closed.done():
            self.closed.set_result(self.status)

    def failed(self, exc: CallFailure) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)
