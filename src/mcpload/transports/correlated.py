"""Base for transports whose responses come back on a shared channel, matched by JSON-RPC id
(legacy HTTP+SSE's event stream, stdio's stdout)."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any

from mcpload.mcp.outcome import TIMEOUT
from mcpload.transports.base import CallFailure, Reply, Transport


class Correlated(Transport):
    _pending: dict[Any, asyncio.Future]

    @abstractmethod
    async def _send_message(self, body: bytes, timeout: float) -> int:
        """Write one message; return the bytes written. Raise ``CallFailure`` if it cannot be sent."""

    async def request(self, msg_id: int | str, body: bytes, method: str, name: str | None, timeout: float) -> Reply:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending[msg_id] = fut
        timer = loop.call_later(timeout, _expire, fut)
        try:
            sent = await self._send_message(body, timeout)
            msg, received = await fut
        except CallFailure:
            self._pending.pop(msg_id, None)
            raise
        finally:
            timer.cancel()
        return Reply(msg, sent, received)

    async def notify(self, body: bytes, method: str) -> None:
        await self._send_message(body, 10.0)

    def _incoming(self, msg: dict[str, Any], size: int) -> None:
        """Route one message read from the channel: a server request/notification, or a response."""
        if "method" in msg:
            self.dispatch_server_message(msg)
            return
        fut = self._pending.pop(msg.get("id"), None)
        if fut is not None and not fut.done():
            fut.set_result((msg, size))

    def _fail_all(self, exc: CallFailure) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(CallFailure(TIMEOUT, "timed out waiting for the response"))
