"""Base for transports whose responses come back on a shared channel, matched by JSON-RPC id
(legacy HTTP+SSE's event stream, stdio's stdout).

A message on that channel that cannot be used (an id that is not an integer or a string, a message
over ``max_response_bytes``, invalid UTF-8, malformed JSON) never stops the reader: the call it
answers fails at once as ``protocol``. Which call that is: the id, when one can be read (from the
message, or from the first or last bytes of one too big to parse, see ``sniff_id``); else, for a
message that is plainly a response (a bad id, an oversize message), the only call in flight when
there is exactly one. Otherwise the message is counted in ``unmatched`` and the call times out.
"""

from __future__ import annotations

import asyncio
import re
from abc import abstractmethod
from typing import Any

import orjson

from mcpload.outcome import PROTOCOL, TIMEOUT
from mcpload.transports.base import CallFailure, Reply, Transport, short

_ID = rb'"id"\s*:\s*(-?[0-9][0-9.eE+-]{0,40}|"(?:[^"\\]|\\.){0,200}")'
#: the id as the first member of the object (or after "jsonrpc"), or as its last one (or before it)
_HEAD_ID = re.compile(rb'\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?' + _ID + rb"\s*[,}]")
_TAIL_ID = re.compile(rb"[,{]\s*" + _ID + rb'\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*\Z')
SNIFF_BYTES = 256
NO_ID = object()  # no id could be read
BAD_ID = object()  # an id member is there, but its value cannot be read (1e400): certainly a response


def sniff_id(head: bytes, tail: bytes = b"") -> Any:
    """The JSON-RPC id of a message known only by its first and last bytes, ``NO_ID`` when none is
    found, ``BAD_ID`` when one is there but cannot be read as JSON.

    Only an id that is certainly a member of the outermost object counts: the first member (or the one
    after ``"jsonrpc": "2.0"``), or the last member before the closing brace (or the one before
    ``"jsonrpc"``). A nested ``"id"`` never matches: the outermost ``{`` must come first, or exactly
    one ``}`` must end the message.
    """
    m = _HEAD_ID.match(head[:SNIFF_BYTES]) or _TAIL_ID.search(tail[-SNIFF_BYTES:])
    if m is None:
        return NO_ID
    try:
        return orjson.loads(m.group(1))
    except orjson.JSONDecodeError:
        return BAD_ID


class Correlated(Transport):
    _pending: dict[Any, asyncio.Future[tuple[dict[str, Any], int]]]
    unmatched = 0  # unusable messages no call could be blamed for (diagnostics)

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
        finally:  # cancelled too: a pending entry must not outlive its call
            timer.cancel()
            if self._pending.get(msg_id) is fut:
                del self._pending[msg_id]
        return Reply(msg, sent, received)

    async def notify(self, body: bytes, method: str) -> None:
        await self._send_message(body, 10.0)

    def _incoming(self, msg: dict[str, Any], size: int) -> None:
        """Route one message read from the channel: a server request/notification, or a response."""
        if "method" in msg:
            self.dispatch_server_message(msg)
            return
        rid = msg.get("id")
        kind = type(rid)
        if kind is int or kind is str:
            fut = self._pending.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result((msg, size))
            return  # an unknown id: a response that came after its call timed out
        if rid is None and "result" not in msg and "error" not in msg:
            self.unmatched += 1  # not JSON-RPC at all (a structured log line on stdout, say)
            return
        if rid is None and "error" in msg and len(self._pending) == 1:
            # JSON-RPC: an error whose request id could not be read has a null id; only one call asked
            fut = next(iter(self._pending.values()))
            if not fut.done():
                fut.set_result((msg, size))
            return
        self._blame(f"response id {short(rid)} is not an integer or a string", rid, sole=True)

    def _bad_message(self, reason: str, text: str | bytes, sole: bool = False) -> None:
        """An unusable message (``text``: what could be read of it): fail the call it answers.

        ``sole``: the message is certainly a response (too big, say), so when no id can be read the
        only call in flight is blamed; a stray line (a server's log on stdout) is not.
        """
        raw = text.encode() if isinstance(text, str) else text
        rid: Any = NO_ID
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                msg = orjson.loads(raw.decode("utf-8", "replace"))  # invalid UTF-8 only: read the id
            except orjson.JSONDecodeError:
                msg = None
        if isinstance(msg, dict):
            if "method" in msg:
                self.unmatched += 1  # a server request or notification: nobody waits for it
                return
            rid = msg.get("id", NO_ID)
        else:
            rid = sniff_id(raw, raw)
            if rid is BAD_ID:
                rid, sole = NO_ID, True
        self._blame(reason, rid, sole)

    def _blame(self, reason: str, rid: Any, sole: bool) -> None:
        fut = None
        if rid is not NO_ID:
            try:
                fut = self._pending.pop(rid, None)  # also 1.0 or True for the call with id 1
            except TypeError:  # unhashable (a list, an object)
                fut = None
        if fut is None and sole and len(self._pending) == 1:
            _, fut = self._pending.popitem()
        if fut is None or fut.done():
            self.unmatched += 1
            return
        fut.set_exception(CallFailure(PROTOCOL, reason))

    def _fail_all(self, exc: CallFailure) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()


def _expire(fut: asyncio.Future[tuple[dict[str, Any], int]]) -> None:
    if not fut.done():
        fut.set_exception(CallFailure(TIMEOUT, "timed out waiting for the response"))
