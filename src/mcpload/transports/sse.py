"""Incremental Server-Sent Events parser (WHATWG event-stream rules) over raw bytes.

Tolerates what real MCP servers send: priming events with an ``id`` and empty ``data``,
``retry:`` lines, ``:`` comments, ``data:`` split over several lines, CRLF/CR/LF line ends and
chunks that cut a line anywhere.
"""

from __future__ import annotations


class SSEEvent:
    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, id: str | None) -> None:
        self.event = event
        self.data = data
        self.id = id

    def __repr__(self) -> str:
        return f"SSEEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"


class SSEParser:
    """Feed bytes, get complete events. ``last_event_id`` and ``retry_ms`` follow the stream."""

    __slots__ = ("_buf", "_data", "_event", "_id_seen", "_skip_lf", "last_event_id", "max_event_bytes", "retry_ms")

    def __init__(self, max_event_bytes: int = 16 * 1024 * 1024) -> None:
        self._buf = b""
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""
        self._id_seen = False
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self.max_event_bytes = max_event_bytes

    def whole_message(self, chunk: bytes) -> bytes | None:
        """The ``data`` bytes when ``chunk`` is exactly one complete ``message`` event and the parser
        holds nothing: ``event: message`` (optional), one ``data:`` line, the blank line, LF line ends,
        no ``id``/``retry``/comment. None otherwise: then ``feed`` it. Nothing changes in the parser
        either way (such an event would leave it as it is). Why: a JSON-RPC response sent as one SSE
        event is the common case, and skipping the line walk and the decode saves ~1.5 µs per call.
        """
        if self._buf or self._skip_lf or self._data or self._event or self._id_seen or chunk[-2:] != b"\n\n":
            return None
        if chunk.startswith(b"event: message\ndata: "):
            data = chunk[21:-2]
        elif chunk.startswith(b"data: "):
            data = chunk[6:-2]
        else:
            return None
        if b"\n" in data or b"\r" in data:
            return None
        return data

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse ``chunk``; return the events it completed. Raises ValueError on an oversize event."""
        if self._skip_lf:
            # the previous chunk ended with CR: a LF starting this one is the rest of that CRLF
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            self._skip_lf = buf.endswith(b"\r")
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[SSEEvent] = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            line = buf[start:nl]
            start = nl + 1
            if not line:
                self._dispatch(events)
            else:
                self._field(line)
        self._buf = buf[start:]
        if len(self._buf) > self.max_event_bytes:
            raise ValueError(f"SSE line longer than {self.max_event_bytes} bytes")
        return events

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ':' comment
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\x00" not in value:
                self.last_event_id = value.decode("utf-8", "replace")
                self._id_seen = True
        elif name == b"retry" and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(
                SSEEvent(
                    self._event or "message",
                    "\n".join(self._data),
                    self.last_event_id if self._id_seen else None,
                )
            )
        self._data = []
        self._event = ""
        self._id_seen = False
