"""The session's side that is not a request and its outcome: what the client declares it can answer,
the server's requests and notifications (counted, answered or declined, progress notifications passed
to their call), progress tokens, and the ``notifications/cancelled`` a client sends for a request it
gave up on. ``Session`` (``mcpload.mcp.session``) is built on it: one object, so the transport's
``on_server_message`` is a plain bound method called at once, as before the split.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from mcpload.mcp import eras, shapes
from mcpload.mcp.jsonrpc import encode_notification, error_response, result_response
from mcpload.mcp.progress import Progress
from mcpload.transports.base import CallFailure, Transport

MAX_CANCELS = 64  # notifications/cancelled (and tasks/cancel) in flight at once per session


class ServerSide:
    """The server-facing half of ``Session``; its state is set by ``Session.__init__``."""

    transport: Transport
    era: str | None
    server_answers: dict[str, dict[str, Any]]
    server_notifications: Counter[str]
    server_requests: Counter[str]
    cancellations_sent: int
    _meta: dict[str, Any] | None
    _progress: dict[str, Progress] | None
    _progress_seq: int
    _cancels: set[asyncio.Future[Any]]
    _opened: bool

    @property
    def capabilities(self) -> dict[str, Any]:
        """What this client declares: only what it can answer."""
        caps: dict[str, Any] = {}
        if "roots/list" in self.server_answers:
            caps["roots"] = {}
        if "sampling/createMessage" in self.server_answers:
            caps["sampling"] = {}
        if "elicitation/create" in self.server_answers:
            caps["elicitation"] = {}
        return caps

    def _progress_meta(self, progress: Progress) -> dict[str, Any]:
        """``_meta`` with a new progress token (the era's own ``_meta`` kept), and ``progress`` registered."""
        self._progress_seq += 1
        progress.token = f"mcpload-{self._progress_seq}"
        if self._progress is None:
            self._progress = {}
        self._progress[progress.token] = progress
        return {**(self._meta or {}), "progressToken": progress.token}

    def _cancel_request(self, msg_id: int, method: str, reason: str) -> None:
        """Tell the server to stop working on a request the client gave up on, as real clients do:
        ``notifications/cancelled`` in the handshake era (never for ``initialize``, as the spec says) and
        over stdio; over HTTP in 2026-07-28 closing the response stream is the cancellation (the HTTP
        transport closes it)."""
        if method == "initialize" or not self._opened:
            return
        if self.era != eras.HANDSHAKE and self.transport.name != "stdio":
            return
        body = encode_notification("notifications/cancelled", {"requestId": msg_id, "reason": reason})
        if len(self._cancels) >= MAX_CANCELS:
            return  # a server that never answers: bounded, as the answers to server requests are
        task = asyncio.ensure_future(self._notify_quietly(body))
        self._cancels.add(task)
        task.add_done_callback(self._cancels.discard)
        self.cancellations_sent += 1

    async def _notify_quietly(self, body: bytes) -> None:
        with contextlib.suppress(CallFailure, OSError):
            await self.transport.notify(body, "notifications/cancelled")

    def _server_message(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        """Count a server notification or request (by method name, bounded: ``shapes.count_name``);
        return the reply to a request. A request whose id is not an integer or a string is not answered."""
        name = shapes.method_name(msg.get("method"))
        rid = msg.get("id")
        if rid is None:
            shapes.count_name(self.server_notifications, name)
            if self._progress and name == "notifications/progress":
                params = msg.get("params")
                token = params.get("progressToken") if type(params) is dict else None
                progress = self._progress.get(token) if type(token) is str else None
                if progress is not None:
                    progress.notified()
            return None
        shapes.count_name(self.server_requests, name)
        if type(rid) is not int and type(rid) is not str:
            return None
        if name == "ping":
            return result_response(rid, {})
        answer = self.server_answers.get(name)
        if answer is not None:
            return result_response(rid, answer)
        return error_response(rid, -32601, f"mcpload does not answer {name}")
