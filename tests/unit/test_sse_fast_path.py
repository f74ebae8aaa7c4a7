"""The one-whole-event SSE fast path gives exactly what the full parser gives."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mcpload.transports.base import CallFailure
from mcpload.transports.exchange import Exchange
from mcpload.transports.sse import SSEParser

RESPONSE = b'{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"hi \\u00e9"}]}}'

CHUNKS = [
    b"event: message\ndata: " + RESPONSE + b"\n\n",  # fast
    b"data: " + RESPONSE + b"\n\n",  # fast
    b"event: message\r\ndata: " + RESPONSE + b"\r\n\r\n",  # CRLF: full parser
    b"id: 3\nevent: message\ndata: " + RESPONSE + b"\n\n",  # an id: full parser (it keeps last_event_id)
    b"event: message\ndata: {\ndata: }\n\n",  # two data lines
    b"event: other\ndata: " + RESPONSE + b"\n\n",
    b": comment\n\n",
    b"event: message\ndata: \n\n",  # empty data
    b"event: message\ndata: " + RESPONSE + b"\n",  # not complete
    b"event: message\ndata: " + RESPONSE + b"\n\nevent: message\ndata: x\n\n",  # two events
    b"retry: 10\n\n",
    b"data:" + RESPONSE + b"\n\n",  # no space after the colon: full parser
]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_whole_message_agrees_with_feed(chunk):
    fast = SSEParser().whole_message(chunk)
    events = SSEParser().feed(chunk)
    if fast is not None:
        assert len(events) == 1 and events[0].event == "message" and events[0].id is None
        assert events[0].data == fast.decode()


def test_fast_path_never_taken_with_state_pending():
    parser = SSEParser()
    parser.feed(b"id: 9\n")  # an event under way
    assert parser.whole_message(b"data: x\n\n") is None
    parser = SSEParser()
    parser.feed(b"data: {")  # a partial line
    assert parser.whole_message(b"data: x\n\n") is None


def test_fast_path_taken_for_the_common_response():
    assert SSEParser().whole_message(b"event: message\ndata: " + RESPONSE + b"\n\n") == RESPONSE


class FullParser(SSEParser):
    """Never takes the fast path."""

    __slots__ = ()

    def whole_message(self, chunk: bytes) -> bytes | None:
        return None


def _exchange(chunks: list[bytes], *, fast: bool, msg_id=7):
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()
        seen: list = []
        ex = Exchange(fut, msg_id, seen.append, True, 1 << 20)
        ex.head(200, {"content-type": "text/event-stream"})
        if not fast:
            ex.sse = FullParser(1 << 20)
        for chunk in chunks:
            ex.body(chunk)
        ex.complete()
        if fut.exception() is not None:
            exc = fut.exception()
            assert isinstance(exc, CallFailure)
            return ("failed", exc.kind, seen)
        return ("ok", fut.result(), seen)
    finally:
        loop.close()


NOTE = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{}}'


@pytest.mark.parametrize(
    "chunks",
    [
        [b"event: message\ndata: " + RESPONSE + b"\n\n"],
        [b"data: " + NOTE + b"\n\n", b"data: " + RESPONSE + b"\n\n"],
        [b"data: {not json\n\n"],
        [b'data: {"jsonrpc":"2.0","id":8,"result":{}}\n\n'],  # another id
        [b'data: {"jsonrpc":"2.0","id":7,"result":{"t":"\xff"}}\n\n'],  # invalid UTF-8: protocol on both paths
        [b"data: \n\n", b"data: " + RESPONSE + b"\n\n"],
    ],
)
def test_exchange_same_result_with_and_without_the_fast_path(chunks):
    fast, slow = _exchange(chunks, fast=True), _exchange(chunks, fast=False)
    assert fast == slow
    if fast[0] == "ok" and isinstance(fast[1], dict) and fast[1].get("id") == 7 and b"\xff" not in chunks[-1]:
        assert fast[1] == orjson.loads(RESPONSE)
