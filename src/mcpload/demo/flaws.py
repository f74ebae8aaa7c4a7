"""Flaws the demo server can be given on purpose (``serve-demo --flaw NAME[=VALUE]``), each one a
failure MCP servers really show under load, made deterministic so that the finding that reads its
signature can be tested against it (``mcpload.findings``):

- ``leak-sessions[=SIZE]``: keep SIZE (default 512KiB) of memory per session opened, forever, even
  after DELETE (finding ``session-leak``);
- ``blocking-tool[=TOOL]``: TOOL (default ``search_docs``) waits with a synchronous sleep that blocks
  the event loop, as a sync call in an async server does (``event-loop-blocking``);
- ``unknown-session-400``: answer an unknown or expired ``Mcp-Session-Id`` with 400, not the 404 the
  spec requires (``unknown-session-status``);
- ``timeout-at=DURATION``: a proxy in front cuts every request at DURATION with 504, like a gateway
  timeout shorter than the tool (``timeout-cliff``);
- ``max-connections=N``: connections beyond N open at once are reset at once (``connection-limit``);
- ``ignore-delete``: a DELETE of a session is answered 200 and does nothing: the session goes on
  answering (``diagnose`` finding ``delete-ignored``);
- ``no-origin-check``: the server is built without DNS-rebinding protection, so a request with a
  foreign ``Origin`` is served (``diagnose`` finding ``origin-not-validated``).
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from dataclasses import dataclass
from typing import Any

FLAW_NAMES = (
    "leak-sessions",
    "blocking-tool",
    "unknown-session-400",
    "timeout-at",
    "max-connections",
    "ignore-delete",
    "no-origin-check",
)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kib|kb|k|mib|mb|m)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")
TOOLS = ("search_docs", "get_doc", "send_message", "get_delivery_report")


@dataclass(frozen=True)
class Flaws:
    """The flaws of one demo server; the defaults are a healthy server."""

    leak_session_bytes: int = 0
    blocking_tool: str | None = None
    unknown_session_status: int | None = None
    timeout_at_s: float | None = None
    max_connections: int | None = None
    ignore_delete: bool = False
    no_origin_check: bool = False

    @property
    def needs_wrapping(self) -> bool:
        """True when the HTTP app or the connection handling must be wrapped (or built otherwise)."""
        return bool(
            self.leak_session_bytes
            or self.unknown_session_status
            or self.timeout_at_s
            or self.max_connections
            or self.ignore_delete
            or self.no_origin_check
        )


def parse_flaws(specs: list[str] | tuple[str, ...]) -> Flaws:
    """Parse ``--flaw`` values: ``NAME``, ``NAME=VALUE`` or ``NAME VALUE``.

    Raises:
        ValueError: an unknown flaw or a bad value (the message names it).
    """
    found: dict[str, Any] = {}
    for spec in specs:
        name, _, value = spec.strip().replace("=", " ", 1).partition(" ")
        name, value = name.strip(), value.strip()
        if name not in FLAW_NAMES:
            raise ValueError(f"--flaw {spec!r}: unknown flaw {name!r} (flaws: {', '.join(FLAW_NAMES)})")
        if name == "leak-sessions":
            found["leak_session_bytes"] = _size(value or "512KiB", spec)
        elif name == "blocking-tool":
            tool = value or "search_docs"
            if tool not in TOOLS:
                raise ValueError(f"--flaw {spec!r}: no tool {tool!r} (tools: {', '.join(TOOLS)})")
            found["blocking_tool"] = tool
        elif name in ("unknown-session-400", "ignore-delete", "no-origin-check"):
            if value:
                raise ValueError(f"--flaw {spec!r}: takes no value")
            if name == "unknown-session-400":
                found["unknown_session_status"] = 400
            else:
                found[name.replace("-", "_")] = True
        elif name == "timeout-at":
            match = _DURATION.match(value)
            if not match or float(match[1]) <= 0:
                raise ValueError(f"--flaw {spec!r}: expected a duration such as timeout-at=2s or 500ms")
            found["timeout_at_s"] = float(match[1]) / (1000 if match[2] == "ms" else 1)
        else:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"--flaw {spec!r}: expected a number of connections, e.g. max-connections=50")
            found["max_connections"] = int(value)
    return Flaws(**found)


def _size(text: str, spec: str) -> int:
    match = _SIZE.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"--flaw {spec!r}: expected a size such as 512KiB or 1MiB")
    return int(float(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()])


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            found: bytes = value  # (ASGI: header names and values are bytes)
            return found
    return None


class FlawedApp:
    """ASGI middleware in front of the SDK's Starlette app that adds the HTTP-level flaws."""

    def __init__(self, app: Any, flaws: Flaws) -> None:
        self.app = app
        self.flaws = flaws
        self.leaked: list[bytes] = []  # never freed: the leak

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        flaws = self.flaws
        has_session = _header(scope, b"mcp-session-id") is not None
        if flaws.ignore_delete and has_session and scope.get("method") == "DELETE":
            # "ended", says the answer; the session lives on (and answers the next request)
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        started = False

        async def flawed_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.get("headers") or []
                if (
                    flaws.leak_session_bytes
                    and not has_session
                    and any(k.lower() == b"mcp-session-id" for k, _ in headers)
                ):
                    self.leaked.append(b"\x01" * flaws.leak_session_bytes)  # touched: it counts in RSS
                if flaws.unknown_session_status and has_session and message.get("status") == 404:
                    message = {**message, "status": flaws.unknown_session_status}
            await send(message)

        if flaws.timeout_at_s is None:
            await self.app(scope, receive, flawed_send)
            return
        try:
            await asyncio.wait_for(self.app(scope, receive, flawed_send), flaws.timeout_at_s)
        except TimeoutError:
            if not started:
                body = b"upstream request timeout"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 504,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            # A stream already started is cut: the client sees it end without its response.


def limited_protocol(max_connections: int) -> type:
    """A uvicorn h11 protocol class that resets each connection opened while ``max_connections`` are open."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class LimitedH11Protocol(H11Protocol):
        refused = False

        def connection_made(self, transport: Any) -> None:
            if len(self.connections) >= max_connections:
                self.refused = True
                sock = transport.get_extra_info("socket")
                if sock is not None:  # RST, not FIN: what a full accept queue or a proxy limit looks like
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
                return
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if not self.refused:
                super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self.refused:
                super().data_received(data)

    return LimitedH11Protocol
