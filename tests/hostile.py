"""Hostile server behaviour, shared by the misbehaving servers (``tests/badserver.py`` over HTTP and
legacy SSE, ``tests/stdio_hostile.py`` over stdio): JSON-RPC messages of the wrong shape, and HTTP
responses that try to make the client hold unbounded memory.

A hostile *variant* is a function of the request id returning the whole message (bytes, no newline).
``INIT`` variants answer ``initialize``, ``LISTS`` ones ``tools/list``, ``CALLS`` ones ``tools/call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

import orjson

Variant = Callable[[Any], bytes]

ECHO_TOOL = {"name": "echo", "inputSchema": {"type": "object"}}
INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "hostile", "version": "0"},
}
DEEP = 100_000  # nesting of the deep variants (orjson stops at 1024)


def result(value: Any) -> Variant:
    return lambda rid: orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": value})


def error(value: Any) -> Variant:
    return lambda rid: orjson.dumps({"jsonrpc": "2.0", "id": rid, "error": value})


def raw(template: bytes) -> Variant:
    """A message written by hand (``%ID%`` is the request id): what orjson would not produce."""
    return lambda rid: template.replace(b"%ID%", orjson.dumps(rid))


def with_id(value: Any, res: Any = None) -> Variant:
    return lambda rid: orjson.dumps({"jsonrpc": "2.0", "id": value, "result": res or {"content": []}})


def _deep(rid: Any) -> bytes:
    return b'{"jsonrpc":"2.0","id":' + orjson.dumps(rid) + b',"result":' + b"[" * DEEP + b"]" * DEEP + b"}"


INIT: dict[str, Variant] = {
    "serverinfo-string": result({**INIT_RESULT, "serverInfo": "evil"}),
    "serverinfo-list": result({**INIT_RESULT, "serverInfo": ["evil"]}),
    "serverinfo-number": result({**INIT_RESULT, "serverInfo": 3}),
    "serverinfo-name-list": result({**INIT_RESULT, "serverInfo": {"name": ["a"], "version": "1"}}),
    "serverinfo-version-object": result({**INIT_RESULT, "serverInfo": {"name": "a", "version": {"v": 1}}}),
    "capabilities-string": result({**INIT_RESULT, "capabilities": "all"}),
    "capabilities-list": result({**INIT_RESULT, "capabilities": ["tools"]}),
    "version-list": result({**INIT_RESULT, "protocolVersion": ["2025-11-25"]}),
    "version-number": result({**INIT_RESULT, "protocolVersion": 2025}),
    "version-object": result({**INIT_RESULT, "protocolVersion": {"v": "2025-11-25"}}),
    "instructions-object": result({**INIT_RESULT, "instructions": {"do": "evil"}}),
    "result-string": result("initialized"),
    "result-list": result([INIT_RESULT]),
    "error-code-string": error({"code": "x", "message": "m"}),
    "id-list": lambda rid: orjson.dumps({"jsonrpc": "2.0", "id": [rid], "result": INIT_RESULT}),
    "id-float": lambda rid: orjson.dumps({"jsonrpc": "2.0", "id": float(rid), "result": INIT_RESULT}),
    "deep": _deep,
    "invalid-utf8": raw(b'{"jsonrpc":"2.0","id":%ID%,"result":{"protocolVersion":"2025-11-25","x":"\xff\xfe"}}'),
}

LISTS: dict[str, Variant] = {
    "tools-string": result({"tools": "echo"}),
    "tools-object": result({"tools": {"name": "echo"}}),
    "tools-number": result({"tools": 1}),
    "tool-string": result({"tools": ["echo"]}),
    "tool-list": result({"tools": [["echo"]]}),
    "tool-name-list": result({"tools": [{"name": ["echo"]}]}),
    "tool-name-number": result({"tools": [{"name": 7}]}),
    "tool-name-object": result({"tools": [{"name": {"n": "echo"}}]}),
    "tool-name-missing": result({"tools": [{"inputSchema": {}}]}),
    "tool-schema-string": result({"tools": [{"name": "echo", "inputSchema": "object"}]}),
    "tool-annotations-list": result({"tools": [{"name": "echo", "inputSchema": {}, "annotations": [1]}]}),
    "cursor-object": result({"tools": [ECHO_TOOL], "nextCursor": {"page": 2}}),
    "cursor-repeats": result({"tools": [ECHO_TOOL], "nextCursor": "again"}),
    "result-list": result([ECHO_TOOL]),
    "deep": _deep,
}

CALLS: dict[str, Variant] = {
    "result-string": result("done"),
    "result-list": result([{"content": []}]),
    "result-number": result(3),
    "result-null": result(None),
    "error-string": error("failed"),
    "error-list": error([1]),
    "error-code-string": error({"code": "-32000", "message": "m"}),
    "error-code-float": error({"code": -32000.5, "message": "m"}),
    "error-code-bool": error({"code": True, "message": "m"}),
    "error-code-huge": raw(b'{"jsonrpc":"2.0","id":%ID%,"error":{"code":100000000000000000000000,"message":"m"}}'),
    "error-message-list": error({"code": -32000, "message": ["m"]}),
    "error-message-number": error({"code": -32000, "message": 5}),
    "error-message-missing": error({"code": -32000}),
    "id-list": lambda rid: with_id([rid])(rid),
    "id-object": lambda rid: with_id({"id": rid})(rid),
    "id-float": lambda rid: with_id(float(rid))(rid),
    "id-bool": with_id(True),
    "id-string": lambda rid: with_id(str(rid))(rid),
    "id-huge": raw(b'{"jsonrpc":"2.0","id":1e400,"result":{"content":[]}}'),
    "content-string": result({"content": "text"}),
    "content-object": result({"content": {"type": "text"}}),
    "deep": _deep,
    "number-infinite": raw(b'{"jsonrpc":"2.0","id":%ID%,"result":{"content":[],"n":1e999}}'),
    "invalid-utf8": raw(b'{"jsonrpc":"2.0","id":%ID%,"result":{"content":[{"type":"text","text":"\xc3\x28"}]}}'),
    "lone-surrogate": raw(b'{"jsonrpc":"2.0","id":%ID%,"result":{"content":[{"type":"text","text":"\\ud800"}]}}'),
}

SLOTS = {"init": INIT, "list": LISTS, "call": CALLS}
OK_CALL = result({"content": [{"type": "text", "text": "ok"}]})


def answer(slot: str, variant: str, msg: dict[str, Any]) -> bytes | None:
    """The reply of a hostile MCP server (hostile in ``slot`` only) to ``msg``; None for a notification."""
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        return None
    table = {"initialize": "init", "tools/list": "list", "tools/call": "call"}
    if table.get(method) == slot:
        return SLOTS[slot][variant](rid)
    if method == "initialize":
        return result(INIT_RESULT)(rid)
    if method == "tools/list":
        return result({"tools": [ECHO_TOOL]})(rid)
    if method == "tools/call":
        return OK_CALL(rid)
    return result({})(rid)


# HTTP responses that try to make the client hold unbounded memory (one per path), 8 MiB each unless said

BIG = 8 * 1024 * 1024
PIECE = 64 * 1024


async def _write_all(writer: asyncio.StreamWriter, head: bytes, pieces: Any) -> None:
    writer.write(head)
    with contextlib.suppress(ConnectionError):
        for piece in pieces:
            writer.write(piece)
            await writer.drain()


def _sse_head(extra: str = "") -> bytes:
    return f"HTTP/1.1 200 X\r\nContent-Type: text/event-stream\r\nConnection: close\r\n{extra}\r\n".encode()


def _chunked(pieces: Any) -> Any:
    for piece in pieces:
        yield b"%x\r\n%s\r\n" % (len(piece), piece)


async def flood(path: str, rid: Any, writer: asyncio.StreamWriter) -> bool:
    """Serve one of the flooding paths; False when ``path`` is not one."""
    ok = OK_CALL(rid)
    if path == "/flood/sse-many-lines":  # one event of 1 KiB data: lines, 8 MiB in all
        line = b"data: " + b"y" * 1024 + b"\n"
        await _write_all(writer, _sse_head(), (line * 64 for _ in range(BIG // (64 * len(line)))))
    elif path == "/flood/sse-short-lines":  # one event of 2-byte data: lines
        await _write_all(writer, _sse_head(), (b"data: y\n" * 8192 for _ in range(BIG // (8 * 8192))))
    elif path == "/flood/sse-many-events":  # small notifications, 8 MiB of them, then the response
        note = b'data: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"' + b"z" * 900 + b'"}}\n\n'
        pieces = itertools.chain((note * 64 for _ in range(BIG // (64 * len(note)))), [b"data: " + ok + b"\n\n"])
        await _write_all(writer, _sse_head(), pieces)
    elif path == "/flood/sse-long-line":  # one data: line with no end
        await _write_all(writer, _sse_head(), [b"data: "] + [b"y" * PIECE] * (BIG // PIECE))
    elif path == "/flood/chunked":  # a chunked JSON body, 8 MiB
        head = b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        await _write_all(writer, head, _chunked([b" " * PIECE] * (BIG // PIECE)))
    elif path == "/flood/many-headers":  # 100,000 short header lines
        lines = (b"".join(b"X-H%d: v\r\n" % (i * 1000 + j) for j in range(1000)) for i in range(100))
        await _write_all(writer, b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\n", lines)
    elif path == "/flood/huge-header":  # one header value with no end
        head = b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nX-Big: "
        await _write_all(writer, head, [b"v" * PIECE] * (BIG // PIECE))
    elif path == "/flood/huge-status":  # a reason phrase with no end
        await _write_all(writer, b"HTTP/1.1 200 ", [b"R" * PIECE] * (BIG // PIECE))
    elif path == "/flood/huge-trailer":  # a chunked body, then one trailer value with no end
        head = b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = b"%x\r\n%s\r\n0\r\nX-Trailer: " % (len(ok), ok)
        await _write_all(writer, head, [body] + [b"t" * PIECE] * (BIG // PIECE))
    elif path == "/flood/chunk-extension":  # a chunk size line with an endless extension
        head = b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="
        await _write_all(writer, head, [b"e" * PIECE] * (BIG // PIECE))
    elif path == "/flood/notification-names":  # 5,000 notifications, each of its own method name
        notes = [b'data: {"jsonrpc":"2.0","method":"notifications/n%d"}\n\n' % i for i in range(5000)]
        await _write_all(writer, _sse_head(), [b"".join(notes), b"data: " + ok + b"\n\n"])
    else:
        return False
    return True


#: Mcp-Session-Id values a server must never get echoed back (raw header bytes)
SESSION_IDS: dict[str, bytes] = {
    "space": b"abc def",
    "tab": b"abc\tdef",
    "latin1": b"caf\xe9",
    "utf8": "s\u00e9ssion-\u2603".encode(),
    "long": b"s" * 5000,
    "comma-two-headers": b"one\r\nMcp-Session-Id: two",
    "control": b"abc\x01def",
    "del": b"abc\x7fdef",
}
