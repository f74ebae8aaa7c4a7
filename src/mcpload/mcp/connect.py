"""The target (the MCP server under test) and how to open a session to it, transport detected."""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mcpload.inputs import header_problem, url_problem
from mcpload.mcp import eras
from mcpload.mcp.oauth import ClientCredentials, OAuthConfig
from mcpload.mcp.requester import OutcomeObserver
from mcpload.mcp.session import Session
from mcpload.outcome import HTTP_ERROR, PROTOCOL, RPC_ERROR, Outcome
from mcpload.redaction import safe_url
from mcpload.transports import registry
from mcpload.transports.base import Transport
from mcpload.transports.http1 import Origin, Pool, tls_context

TRANSPORTS = registry.NAMES  # kept for importers: the accepted ``transport`` values
DEFAULT_SHARED_POOL = 64  # connections of `--connections shared` (per process) when no size is given


def parse_connections(value: str) -> int | None:
    """``own`` → None (each session its own keep-alive connection); ``shared`` or ``shared:N`` → the
    size of the pool the process's sessions share.

    Raises:
        ValueError: anything else (one line).
    """
    mode, sep, size = value.strip().partition(":")
    if mode == "own" and not sep:
        return None
    if mode == "shared":
        if not sep:
            return DEFAULT_SHARED_POOL
        if size.isdigit() and len(size) <= 6 and 1 <= int(size) <= 100_000:
            return int(size)
    raise ValueError(f"connections {value[:40]!r}: use own, shared or shared:N (1 ≤ N ≤ 100,000 connections)")


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
    ca_file: str | None = None  # PEM CA certificates to trust (a private CA, a self-signed server)
    listen: bool = False
    env: dict[str, str] | None = None  # stdio: over PATH, HOME, … only, unless inherit_env
    inherit_env: bool = False  # stdio: pass mcpload's whole environment to the server
    max_response_bytes: int = 16 * 1024 * 1024  # a bigger response is a `protocol` error
    connections: str = "own"  # own | shared | shared:N (HTTP: sessions share a pool of N connections)
    trace_context: float = 0.0  # share of requests given a W3C traceparent (mcp.trace_context); 0: none
    #: canned results for server requests (``{"roots/list": {"roots": [...]}}``), capabilities declared
    server_answers: dict[str, dict[str, Any]] | None = None
    #: OAuth client credentials (``mcpload.mcp.oauth.OAuthConfig``), None: no OAuth
    oauth: OAuthConfig | None = None
    _shared_auth: ClientCredentials | None = field(default=None, init=False, repr=False, compare=False)
    _oauth_discovered: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    # the shared pools, one per event loop (made on first use, inside that loop)
    _pools: dict[int, tuple[asyncio.AbstractEventLoop, Pool]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if (self.url is None) == (self.command is None):
            raise ValueError("give either a URL or a stdio command")
        if not 0 <= self.trace_context <= 1:
            raise ValueError(f"trace context rate {self.trace_context:g}: use a share from 0 to 1")
        if self.transport not in registry.NAMES:
            raise ValueError(f"unknown transport {self.transport!r}: use one of {', '.join(registry.NAMES)}")
        eras.check_protocol(self.protocol)
        if self.url is not None:
            problem = url_problem(self.url)  # mcpload.inputs: spaces, controls, port 0, not http(s)
            if problem:
                shown = repr(safe_url(self.url)[:200])  # never a password or api_key in a message
                raise ValueError(f"{problem}: {shown}" if problem.startswith("not an") else f"{shown}: {problem}")
        mismatch = registry.needs_problem(self.transport, has_url=self.url is not None)
        if mismatch:
            raise ValueError(mismatch)
        for name, value in self.headers.items():
            problem = header_problem(name, value)
            if problem:
                raise ValueError(f"header {problem}")
        if self.ca_file is not None:
            if not self.verify_tls:
                raise ValueError("--insecure and --ca-file exclude each other")
            tls_context(self.ca_file)  # a missing or unreadable file: one clear error before any load
        pinned = registry.BY_NAME.get(self.transport)
        if self.oauth is not None and (self.url is None or (pinned is not None and not pinned.oauth)):
            raise ValueError("oauth needs a Streamable HTTP URL (transport http)")
        self.pool_size = parse_connections(self.connections)
        if self.bearer_env is not None and not os.environ.get(self.bearer_env):
            raise ValueError(f"environment variable {self.bearer_env} (bearer token) is not set")

    @classmethod
    def stdio(cls, command: str | list[str], **kw: Any) -> Target:
        return cls(command=shlex.split(command) if isinstance(command, str) else list(command), transport="stdio", **kw)

    def make_auth(self) -> ClientCredentials | None:
        """The token source of a new session: its own, or the one every session shares."""
        if self.oauth is None or self.url is None:
            return None
        if self.oauth.shared and self._shared_auth is not None:
            return self._shared_auth
        tls = tls_context(self.tls) if self.url.startswith("https:") else None
        auth = ClientCredentials(self.oauth, self.url, tls, self._oauth_discovered)
        if self.oauth.shared:
            self._shared_auth = auth
        return auth

    @property
    def tls(self) -> bool | str:
        """How transports verify TLS: the CA file, else ``verify_tls``."""
        return self.ca_file if self.ca_file is not None else self.verify_tls

    def describe(self) -> str:
        return self.url if self.url is not None else shlex.join(self.command or [])

    def candidate_transports(self) -> list[str]:
        if self.transport != registry.AUTO:
            return [self.transport]
        path = urlsplit(self.url).path if self.url is not None else None
        return registry.auto_order(path, oauth=self.oauth is not None)  # OAuth: the transports it works over

    def make_transport(self, kind: str) -> Transport:
        headers = dict(self.headers)
        if self.bearer_env:
            headers["Authorization"] = f"Bearer {os.environ[self.bearer_env]}"
        return registry.transport_class(kind).from_target(self, headers)

    def pool_source(self) -> Callable[[], Pool] | None:
        """What HTTP transports call for the pool they share (``connections: shared``); None: their own."""
        return self.shared_pool if self.pool_size is not None else None

    def shared_pool(self) -> Pool:
        """The pool this target's sessions share in the running event loop (``connections: shared``)."""
        loop = asyncio.get_running_loop()
        entry = self._pools.get(id(loop))
        if entry is None or entry[0] is not loop:
            for key, (other, _) in list(self._pools.items()):
                if other.is_closed():
                    del self._pools[key]
            pool = Pool(Origin(self.url or "", self.tls), self.connect_timeout, limit=self.pool_size or 1)
            entry = self._pools[id(loop)] = (loop, pool)
        return entry[1]

    def __getstate__(self) -> dict[str, Any]:  # pools (and their loop) never travel to another process
        state = dict(self.__dict__)
        state["_pools"] = {}
        state["_shared_auth"] = None
        return state


async def connect(
    target: Target, on_outcome: OutcomeObserver | None = None, **session_options: Any
) -> tuple[Session, Outcome]:
    """Open a session, trying the candidate transports in order. The outcome says whether it worked;
    on failure the session is already closed, and the outcome is the first ``protocol`` one if any (a
    server that answered wrongly says more than the next transport's refusal), else the last."""
    session: Session | None = None
    out: Outcome | None = None
    spoke: tuple[Session, Outcome] | None = None
    for kind in target.candidate_transports():
        if target.server_answers and "server_answers" not in session_options:
            session_options["server_answers"] = target.server_answers
        session = Session(
            target.make_transport(kind), target.protocol, target.timeout, on_outcome=on_outcome, **session_options
        )
        session.auth = target.make_auth()
        out = await session.open()
        if out.ok:
            return session, out
        await session.close()
        if out.kind == PROTOCOL and spoke is None:
            spoke = session, out
        if out.kind not in (HTTP_ERROR, PROTOCOL, RPC_ERROR):
            break  # a network failure says nothing about which transport is right
    assert session is not None and out is not None
    return spoke or (session, out)
