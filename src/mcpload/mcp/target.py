"""The target (the MCP server under test) and how to open a session to it, transport detected."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mcpload.mcp import eras
from mcpload.mcp.outcome import HTTP_ERROR, PROTOCOL, RPC_ERROR, Outcome
from mcpload.mcp.session import OutcomeObserver, Session
from mcpload.transports.base import Transport
from mcpload.transports.legacy_sse import LegacySSE
from mcpload.transports.stdio import Stdio
from mcpload.transports.streamable_http import StreamableHTTP

TRANSPORTS = ("auto", "http", "sse", "stdio")


@dataclass
class Target:
    """Where the server is and how to talk to it.

    ``headers`` values are sent as given; secrets belong in ``bearer_env`` (the *name* of an
    environment variable), so that the token itself never sits in a config or a log.
    """

    url: str | None = None
    command: list[str] | None = None
    transport: str = "auto"
    protocol: str = "auto"
    headers: dict[str, str] = field(default_factory=dict)
    bearer_env: str | None = None
    connect_timeout: float = 10.0
    timeout: float = 30.0
    verify_tls: bool = True
    listen: bool = False
    env: dict[str, str] | None = None
    max_response_bytes: int = 16 * 1024 * 1024  # a bigger response is a `protocol` error

    def __post_init__(self) -> None:
        if (self.url is None) == (self.command is None):
            raise ValueError("give either a URL or a stdio command")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {self.transport!r}: use one of {', '.join(TRANSPORTS)}")
        eras.check_protocol(self.protocol)
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {self.url!r}")
            try:
                parts.port  # noqa: B018 - urllib checks the port only when asked
            except ValueError as exc:
                raise ValueError(f"{self.url!r}: {exc}") from None
            if self.transport == "stdio":
                raise ValueError("transport stdio needs a command, not a URL")
        elif self.transport in ("http", "sse"):
            raise ValueError(f"transport {self.transport} needs a URL, not a command")
        if self.bearer_env is not None and not os.environ.get(self.bearer_env):
            raise ValueError(f"environment variable {self.bearer_env} (bearer token) is not set")

    @classmethod
    def stdio(cls, command: str | list[str], **kw) -> Target:
        return cls(command=shlex.split(command) if isinstance(command, str) else list(command), transport="stdio", **kw)

    def describe(self) -> str:
        return self.url if self.url is not None else shlex.join(self.command or [])

    def candidate_transports(self) -> list[str]:
        if self.transport != "auto":
            return [self.transport]
        if self.command is not None:
            return ["stdio"]
        path = urlsplit(self.url).path.rstrip("/")
        return ["sse", "http"] if path.endswith("/sse") else ["http", "sse"]

    def make_transport(self, kind: str) -> Transport:
        headers = dict(self.headers)
        if self.bearer_env:
            headers["Authorization"] = f"Bearer {os.environ[self.bearer_env]}"
        if kind == "stdio":
            return Stdio(self.command or [], env=self.env, max_line=self.max_response_bytes)
        limit = self.max_response_bytes
        if kind == "sse":
            return LegacySSE(self.url or "", headers, self.connect_timeout, self.verify_tls, max_body=limit)
        return StreamableHTTP(
            self.url or "", headers, self.connect_timeout, self.verify_tls, listen=self.listen, max_body=limit
        )


async def connect(
    target: Target, on_outcome: OutcomeObserver | None = None, **session_options
) -> tuple[Session, Outcome]:
    """Open a session, trying the candidate transports in order. The outcome says whether it worked;
    on failure the session is already closed."""
    session: Session | None = None
    out: Outcome | None = None
    for kind in target.candidate_transports():
        session = Session(
            target.make_transport(kind), target.protocol, target.timeout, on_outcome=on_outcome, **session_options
        )
        out = await session.open()
        if out.ok:
            return session, out
        await session.close()
        if out.kind not in (HTTP_ERROR, PROTOCOL, RPC_ERROR):
            break  # a network failure says nothing about which transport is right
    assert session is not None and out is not None
    return session, out
