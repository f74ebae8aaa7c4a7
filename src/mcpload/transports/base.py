"""The transport contract: move one JSON-RPC message to the target and bring its response back.

Transports know bytes, HTTP and processes, not MCP semantics. They raise ``CallFailure`` (with an
outcome kind) for anything the network or the server does wrong; the session turns it into an
``Outcome``. The session hands server-initiated messages to ``on_server_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import reprlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, Self

import orjson

# CallFailure lives in the leaf module ``failure`` (http1 raises it too, and base names http1's Pool):
# imported here so that ``from mcpload.transports.base import CallFailure`` stays the contract's spelling.
from mcpload.transports.failure import CallFailure as CallFailure

if TYPE_CHECKING:
    from mcpload.transports.http1 import Pool

#: sees a server request or notification at once (no task per message); returns the reply to send, if any
ServerMessageHandler = Callable[[dict[str, Any]], dict[str, Any] | None]
#: replies to server requests being sent at once; a server asking faster than that is not answered
MAX_ANSWERS = 16


def short(value: Any) -> str:
    """A short ``repr`` of a server's value (which can be megabytes long, or nested deep)."""
    return reprlib.repr(value)


class Reply:
    """A JSON-RPC response message and the bytes the exchange cost."""

    __slots__ = ("bytes_received", "bytes_sent", "message")

    def __init__(self, message: dict[str, Any], bytes_sent: int, bytes_received: int) -> None:
        self.message = message
        self.bytes_sent = bytes_sent
        self.bytes_received = bytes_received


class TransportSettings(Protocol):
    """What a transport is opened from (``mcpload.mcp.connect.Target`` provides it)."""

    url: str | None
    command: list[str] | None
    env: dict[str, str] | None  # stdio: over PATH, HOME, …
    inherit_env: bool
    connect_timeout: float
    listen: bool
    max_response_bytes: int

    @property
    def tls(self) -> bool | str:
        """How to verify TLS: a CA file, else True/False."""
        ...

    def pool_source(self) -> Callable[[], Pool] | None:
        """Returns the shared connection pool when called (``connections: shared``); None: own connections."""
        ...


class Transport(ABC):
    """One MCP session's channel to the target."""

    #: set by the session: answers server requests (returns a response) and sees notifications
    on_server_message: ServerMessageHandler | None = None
    #: its name in ``mcpload.transports.registry.TRANSPORTS`` ("http", "sse", "stdio", …)
    name: str = ""
    #: speaks the 2026-07-28 stateless era too (else the session stays in the handshake era)
    supports_modern: bool = True
    #: the largest response accepted (``target.max_response_bytes``)
    max_body: int = 16 * 1024 * 1024
    #: server requests left unanswered because MAX_ANSWERS replies were already being sent
    answers_dropped: int = 0

    @classmethod
    def from_target(cls, target: TransportSettings, headers: dict[str, str]) -> Self:
        """A new transport to ``target`` sending ``headers`` (bearer token included) on HTTP requests.

        Every transport in ``mcpload.transports.registry`` defines it (a test asserts so); a transport
        only built by hand (a test double) need not.
        """
        raise NotImplementedError(f"{cls.__name__} cannot be opened from a target")

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open what the transport needs before the first request (a stream, a process)."""

    @abstractmethod
    async def request(self, msg_id: int | str, body: bytes, method: str, name: str | None, timeout: float) -> Reply:
        """Send one request and return its response; raise ``CallFailure`` otherwise."""

    @abstractmethod
    async def notify(self, body: bytes, method: str) -> None:
        """Send a notification or a response to a server request (no reply expected)."""

    def set_protocol(self, protocol_version: str | None, modern: bool) -> None:  # noqa: B027
        """Told by the session which protocol version (and era) to stamp on later requests."""

    async def reset(self) -> None:  # noqa: B027
        """Forget the MCP session (after expiry) so that a new one can be opened."""

    @abstractmethod
    async def close(self) -> None:
        """End the session politely and release everything; never raises."""

    def diagnostics(self) -> dict[str, Any]:
        """Facts for reports: negotiated endpoint, server stderr tail, …"""
        return {}

    # server → client messages, shared by every transport
    def dispatch_server_message(self, msg: dict[str, Any]) -> None:
        """Hand a server request or notification to the session; send back its reply, if any."""
        handler = self.on_server_message
        if handler is None:
            return
        reply = handler(msg)
        if reply is None:
            return
        tasks = self.__dict__.setdefault("_answer_tasks", set())
        if len(tasks) >= MAX_ANSWERS:
            self.answers_dropped += 1
            return
        task = asyncio.ensure_future(self._answer(reply))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _answer(self, reply: dict[str, Any]) -> None:
        with contextlib.suppress(CallFailure, OSError):
            await self.notify(orjson.dumps(reply), "")

    def cancel_answers(self) -> None:
        for task in list(self.__dict__.get("_answer_tasks", ())):
            task.cancel()
