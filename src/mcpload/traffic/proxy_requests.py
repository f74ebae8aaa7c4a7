"""The client side of the recording proxy's connections: whole requests, parsed with httptools.

One parser lives as long as its connection, so a request that arrives in the same read as the
previous one (pipelined, or a notification sent without waiting) is kept, and a body beyond
``MAX_REQUEST`` is refused before it is buffered whole.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field

import httptools

MAX_REQUEST = 16 * 1024 * 1024  # a larger request body is refused with 413 (and not forwarded)
READ = 64 * 1024


@dataclass
class Message:
    """One client request, as parsed."""

    method: bytes = b""
    url: bytes = b""
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    keep_alive: bool = True

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


class Requests:
    """The client side of one connection: one parser for its whole life, so a request that arrives in
    the same read as the previous one (pipelined, or a notification sent without waiting) is kept."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.ready: collections.deque[Message] = collections.deque()
        self.current = Message()
        self.parser = httptools.HttpRequestParser(self)
        self.started = False

    def on_message_begin(self) -> None:
        self.current = Message()
        self.started = True

    def on_url(self, url: bytes) -> None:
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.current.body += body
        if len(self.current.body) > MAX_REQUEST:
            raise _TooLarge

    def on_message_complete(self) -> None:
        self.current.method = self.parser.get_method()
        self.current.keep_alive = self.parser.should_keep_alive()
        self.ready.append(self.current)
        self.started = False

    def feed(self, data: bytes) -> None:
        """Bytes read elsewhere (while a GET stream was open): parsed into requests for ``next``."""
        self.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise ConnectionResetError("protocol upgrades are not proxied") from None

    async def next(self) -> Message | str | None:
        """The next whole request; None at a clean end of the connection; ``"too_large"``."""
        while not self.ready:
            chunk = await self.reader.read(READ)
            if not chunk:
                if self.started:
                    raise ConnectionResetError("client closed mid-request")
                return None
            try:
                self.parser.feed_data(chunk)
            except httptools.HttpParserCallbackError as exc:
                if isinstance(exc.__context__, _TooLarge):
                    return "too_large"
                raise
            except httptools.HttpParserUpgrade:
                raise ConnectionResetError("protocol upgrades are not proxied") from None
        return self.ready.popleft()


class _TooLarge(Exception):
    pass
