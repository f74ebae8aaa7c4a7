"""Response handlers shared by the HTTP transports: one JSON-RPC exchange, one event stream."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import orjson

from mcpload.outcome import HTTP_ERROR, PROTOCOL, RPC_ERROR, SESSION_EXPIRED
from mcpload.transports.base import CallFailure, short
from mcpload.transports.sse import SSEEvent, SSEParser, decode_event

#: resolves an exchange whose SSE stream ended before the response (resume with Last-Event-ID)
STREAM_ENDED = object()

MessageSink = Callable[[dict[str, Any]], None]
StreamSink = Callable[[dict[str, Any], int], None]  # message and its size in bytes
BadSink = Callable[[str, str], None]  # why an event is unusable, and what could be read of it


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given as a number (an HTTP date is not honoured)."""
    if not value or len(value) > 32:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds:  # nan
        return None
    return min(max(seconds, 0.0), 300.0)  # never let a server park an agent for longer


def is_event_stream(content_type: str) -> bool:
    """Whether a ``Content-Type`` value names ``text/event-stream`` (parameters allowed, any case)."""
    if content_type.startswith("text/event-stream"):
        rest = content_type[17:18]
        return rest in ("", ";", " ", "\t")
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def http_failure(status: int, body: bytes, session_known: bool, retry_after: str | None = None) -> CallFailure:
    """Classify a non-2xx answer; a forgotten session is ``session_expired``, not an HTTP error.

    ``retry_after`` (the ``Retry-After`` header, if any) is kept on the failure for retry policies.
    """
    failure = _classify_http(status, body, session_known)
    failure.retry_after = retry_after_seconds(retry_after)
    return failure


def _classify_http(status: int, body: bytes, session_known: bool) -> CallFailure:
    code, text = error_text(body)
    if session_known and (status == 404 or (status == 400 and "session" in text.lower())):
        return CallFailure(SESSION_EXPIRED, f"session rejected: {text or _phrase(status)}", status, code, body)
    if code is not None:  # a JSON-RPC error carried by an HTTP error status (the 2026-07-28 mapping)
        return CallFailure(RPC_ERROR, text, status, code, body)
    # the status itself is shown beside the message (Outcome.describe): never "HTTP 404 HTTP 404"
    return CallFailure(HTTP_ERROR, text or _phrase(status), status, None, body)


ERROR_TEXT_CHARS = 200
_SCAN_BYTES = 64 * 1024  # how much of an error body is looked at
_TAG = re.compile(r"<[^>]{0,2000}>")
_HTML_PART = re.compile(r"<(title|h1|pre|p)\b[^>]{0,500}>(.{0,2000}?)</\1\s*>", re.IGNORECASE | re.DOTALL)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_text(body: bytes) -> tuple[int | None, str]:
    """The JSON-RPC error code (if any) and a one-line message from an HTTP error body.

    A JSON body gives its error's message (JSON-RPC ``error.message``, or the usual ``message`` /
    ``detail`` / ``error_description`` / ``error`` strings of web frameworks); an HTML page gives the
    text of its title, heading or first paragraph, never the page; plain text its first characters.
    At most ``ERROR_TEXT_CHARS`` characters, printable, on one line.
    """
    head = body[:_SCAN_BYTES]
    stripped = head.lstrip()
    code = message = None
    if stripped[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(body) if len(body) <= _SCAN_BYTES else None
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            err = doc.get("error")
            if isinstance(err, dict):
                code, message = err.get("code"), err.get("message")
            else:
                keys = ("message", "detail", "error_description", "error")
                message = next((doc[k] for k in keys if isinstance(doc.get(k), str)), None)
    text = message if isinstance(message, str) else head.decode("utf-8", "replace")
    if message is None and stripped[:1] == b"<":  # an HTML page (a proxy's, a framework's 404)
        found = [(m.group(1).lower(), " ".join(_TAG.sub(" ", m.group(2)).split())) for m in _HTML_PART.finditer(text)]
        body_parts = [p for tag, p in found if tag != "title" and p] or [p for _, p in found if p]
        text = " — ".join(dict.fromkeys(body_parts)) or "an HTML page"
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text[: ERROR_TEXT_CHARS * 4]).split())
    if len(text) > ERROR_TEXT_CHARS:
        text = text[: ERROR_TEXT_CHARS - 1] + "…"
    return (code if isinstance(code, int) and not isinstance(code, bool) else None), text


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
        fut: asyncio.Future[Any],  # a message dict, STREAM_ENDED, or None (no body)
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
        if 200 <= status < 300 and is_event_stream(headers.get("content-type", "")):
            if self.sse is None:
                self.sse = SSEParser(self.max_body)
        else:
            self.sse = None

    def body(self, chunk: bytes) -> None:
        if self.fut.done() and self.sse is None:
            return
        # the whole body, an SSE stream too, is bounded: a stream of many small events as much as one big one
        self._size += len(chunk)
        if self._size > self.max_body:
            self.failed(CallFailure(PROTOCOL, f"response body over {self.max_body} bytes"))
            self._parts = []
            self.sse = None
            return
        if self.sse is not None:
            data = self.sse.whole_message(chunk)
            if data is not None:
                self._message(data)
                return
            for ev in self.sse.feed(chunk):
                self._event(ev)
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
            self._event(decode_event("message", data, None))  # the slow path words the failure
            return
        if isinstance(msg, dict) and "method" in msg:
            self.on_server_message(msg)
        elif not self.fut.done():
            self._response(msg)

    def _event(self, ev: SSEEvent) -> None:
        if ev.error is not None:
            self.failed(CallFailure(PROTOCOL, ev.error))
            return
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
            return
        rid = msg.get("id")
        # the type too: True and 1.0 equal 1 in Python, but are not the id 1 in JSON-RPC
        if (rid == self.msg_id and type(rid) is type(self.msg_id)) or (rid is None and "error" in msg):
            self.fut.set_result(msg)
        else:
            self.fut.set_exception(CallFailure(PROTOCOL, f"response id {short(rid)} != {self.msg_id!r}"))


class EventStream:
    """Handler for a long-lived GET event stream: every JSON message goes to ``sink``.

    An unusable event (over ``max_event_bytes``, invalid UTF-8, malformed JSON) goes to ``on_bad``
    with a reason and what could be read of it; the stream goes on.
    """

    __slots__ = ("closed", "endpoint", "on_bad", "on_endpoint", "sink", "sse", "status")

    def __init__(
        self,
        sink: StreamSink,
        on_endpoint: Callable[[str], None] | None = None,
        max_event_bytes: int = 16 * 1024 * 1024,
        on_bad: BadSink | None = None,
    ) -> None:
        self.sink = sink
        self.on_endpoint = on_endpoint
        self.on_bad = on_bad
        self.sse = SSEParser(max_event_bytes)
        self.status = 0
        self.closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.status = status
        ctype = headers.get("content-type", "")
        if status == 200 and not is_event_stream(ctype):
            self.status = -1
            self.failed(CallFailure(PROTOCOL, f"not an event stream (content-type {short(ctype or 'missing')})"))

    def body(self, chunk: bytes) -> None:
        if self.status != 200:
            return
        for ev in self.sse.feed(chunk):
            if ev.error is not None:
                if ev.event == "endpoint":  # the stream is unusable without it
                    self.failed(CallFailure(PROTOCOL, f"endpoint event: {ev.error}"))
                elif ev.event == "message" and self.on_bad is not None:
                    self.on_bad(ev.error, ev.data)
            elif ev.event == "endpoint" and self.on_endpoint is not None:
                self.on_endpoint(ev.data.strip())
            elif ev.event == "message" and ev.data.strip():
                try:
                    msg = orjson.loads(ev.data)
                except orjson.JSONDecodeError as exc:
                    if self.on_bad is not None:
                        self.on_bad(f"malformed JSON in SSE event: {exc}", ev.data)
                    continue
                if isinstance(msg, dict):
                    self.sink(msg, len(ev.data))
                elif isinstance(msg, list):  # a JSON-RPC batch (2025-03-26)
                    for item in msg:
                        if isinstance(item, dict):
                            self.sink(item, len(ev.data) // len(msg))

    def complete(self) -> None:
        if not self.closed.done():
            self.closed.set_result(self.status)

    def failed(self, exc: CallFailure) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)
