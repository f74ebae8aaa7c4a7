"""The request side of the recording proxy: where requests go (``Upstream``), the client's whole
requests parsed with httptools, and the head each is sent upstream with.

One parser lives as long as its connection, so a request that arrives in the same read as the
previous one (pipelined, or a notification sent without waiting) is kept, and a body beyond
``MAX_REQUEST`` is refused before it is buffered whole.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httptools

MAX_REQUEST = 16 * 1024 * 1024  # a larger request body is refused with 413 (and not forwarded)
READ = 64 * 1024
HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade",
              b"proxy-authorization", b"proxy-authenticate", b"proxy-connection", b"content-length"}  # fmt: skip


@dataclass
class Upstream:
    """Where the proxy sends requests: parsed once from ``--upstream``."""

    url: str
    host: str = ""
    port: int = 0
    path: str = "/"
    host_header: bytes = b""
    ssl: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--upstream {self.url!r}: expected an http(s):// URL")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.host_header = parts.netloc.rpartition("@")[2].encode()
        if parts.scheme == "https":
            self.ssl = ssl.create_default_context()

    def public(self) -> str:
        """The URL as written in the trace header: no credentials, no query (either may hold a secret)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def target(self, raw: bytes) -> bytes:
        """The upstream request-target for a client's: ``/`` and the upstream's own path map to it."""
        path = raw.split(b"?", 1)[0]
        if path in (b"/", b"") or path == self.path.split("?", 1)[0].encode():
            query = raw.partition(b"?")[2]
            base = self.path.encode()
            return base + (b"&" if b"?" in base else b"?") + query if query else base
        return raw


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

    async def next(self) -> Message | Literal["too_large"] | None:
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


def request_head(req: Message, upstream: Upstream) -> bytes:
    """The head sent upstream: ``Host`` and the framing are the proxy's, every other header the client's."""
    out = [req.method + b" " + upstream.target(req.url) + b" HTTP/1.1\r\n", b"host: " + upstream.host_header + b"\r\n"]
    out += [k + b": " + v + b"\r\n" for k, v in req.headers if k.lower() not in HOP_BY_HOP and k.lower() != b"host"]
    if req.body or req.method in (b"POST", b"PUT", b"PATCH"):
        out.append(b"content-length: %d\r\n" % len(req.body))
    return b"".join(out) + b"\r\n"
