"""A real (socket) HTTP server that misbehaves on purpose, one behaviour per URL path.

Used to check that every misbehaviour becomes the right outcome and never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
import time
from typing import Any

import orjson

from tests import hostile

#: what the fault paths remember: times of the tools/call requests on ``/flaky429``, the sessions of ``/storm``
STATE: dict[str, Any] = {"flaky429": [], "sessions": set(), "storm_calls": 0, "inits": 0, "legacy": {}}
STORM_AFTER = 20  # /storm forgets every session at once when this tools/call arrives
ECHO_TOOL = {"name": "echo", "inputSchema": {"type": "object"}}
INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "bad", "version": "0"},
}


def _storm(writer: asyncio.StreamWriter, msg: dict, ok: bytes, headers: dict[str, str]) -> None:
    """A stateful MCP server that drops every session at once at the STORM_AFTER-th tools/call."""
    method, rid = msg.get("method"), msg.get("id")
    if method == "initialize":
        STATE["inits"] += 1
        sid = f"s{STATE['inits']}"
        STATE["sessions"].add(sid)
        body = orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": INIT_RESULT})
        writer.write(_response(200, body, extra=f"Mcp-Session-Id: {sid}\r\n"))
        return
    if method == "tools/call":
        STATE["storm_calls"] += 1
        if STATE["storm_calls"] == STORM_AFTER:
            STATE["sessions"].clear()
    if headers.get("mcp-session-id") not in STATE["sessions"]:
        writer.write(_response(404, b"session not found", "text/plain"))
    elif rid is None:
        writer.write(_response(202, b""))
    elif method == "tools/list":
        writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": {"tools": [ECHO_TOOL]}})))
    elif method == "tools/call":
        writer.write(_response(200, ok))
    else:
        writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": {}})))


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _flaky429(writer: asyncio.StreamWriter, msg: dict, ok: bytes) -> None:
    """A small MCP server whose every other tools/call is refused with 429 and ``Retry-After: 1``."""
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        writer.write(_response(202, b""))
    elif method == "initialize":
        writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": INIT_RESULT})))
    elif method == "tools/list":
        writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": {"tools": [ECHO_TOOL]}})))
    elif method == "tools/call":
        times = STATE["flaky429"]
        times.append(time.monotonic())
        if len(times) % 2:
            writer.write(_response(429, b"slow down", "text/plain", "Retry-After: 1\r\n"))
        else:
            writer.write(_response(200, ok))
    else:
        writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": {}})))


def _response(status: int, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", 0))
    body = await reader.readexactly(length) if length else b""
    return path, body, headers


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                path, body, headers = await _read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            msg = orjson.loads(body) if body else {}
            rid = msg.get("id")
            ok = orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": {"content": []}})
            if path == "/ok":
                writer.write(_response(200, ok))
            elif path == "/malformed":
                writer.write(_response(200, b"{not json"))
            elif path == "/wrong-id":
                writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": 999, "result": {}})))
            elif path == "/no-result":
                writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid})))
            elif path == "/http500":
                writer.write(_response(500, b"internal trouble", "text/plain"))
            elif path == "/rpc-error":
                err = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "Unknown tool: nope"}}
                writer.write(_response(200, orjson.dumps(err)))
            elif path == "/tool-error":
                res = {"content": [{"type": "text", "text": "boom"}], "isError": True}
                writer.write(_response(200, orjson.dumps({"jsonrpc": "2.0", "id": rid, "result": res})))
            elif path == "/http503":
                writer.write(_response(503, b"unavailable", "text/plain"))
            elif path == "/storm":
                _storm(writer, msg, ok, headers)
            elif path == "/flaky429":
                await _flaky429(writer, msg, ok)
            elif path == "/reset-mid-body":
                head = "HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                writer.write(head.encode() + ok[:10])
                await writer.drain()
                await asyncio.sleep(0.05)
                _reset(writer)
                return
            elif path == "/drip":  # one byte every 100 ms: 2 s for the whole body
                head = "HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                writer.write(head.encode())
                with contextlib.suppress(ConnectionError):
                    for byte in b'{"jsonrpc":"2.0",   '[:20]:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0.1)
                return
            elif path == "/huge":  # 10 MiB, written in 64 KiB pieces (the server holds one piece)
                piece = b"x" * 65536
                head = f"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: {160 * len(piece)}\r\n\r\n"
                writer.write(head.encode())
                with contextlib.suppress(ConnectionError):
                    for _ in range(160):
                        writer.write(piece)
                        await writer.drain()
            elif path == "/slow":
                await asyncio.sleep(30)
            elif path == "/close":
                writer.close()
                return
            elif path == "/oversize":
                writer.write(_response(200, b'{"pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'))
            elif path == "/html":
                writer.write(_response(200, b"<html><body>Hello</body></html>", "text/html"))
            elif path == "/garbage":
                writer.write(b"THIS IS NOT HTTP\r\n\r\n")
            elif path == "/sse-truncated":
                writer.write(_response(200, b'event: message\ndata: {"jsonrpc":\n\n', "text/event-stream"))
            elif path == "/sse-long-retry":  # a primed stream that ends at once, asking for an 11-day pause
                writer.write(_response(200, b"id: e1\nretry: 999999999\ndata: \n\n", "text/event-stream"))
            elif path == "/sse-ends":
                writer.write(_response(200, b": nothing to see\n\n", "text/event-stream"))
            elif path == "/sse-notify-then-response":
                note = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}})
                sse = b"id: p1\nretry: 10\ndata: \n\nevent: message\ndata: " + note + b"\n\n"
                sse += b"event: message\ndata: " + ok + b"\n\n"
                writer.write(_response(200, sse, "text/event-stream"))
            elif path.startswith(("/evil/", "/evil-sse/")):  # /evil/<slot>/<variant>: hostile there only
                _, kind, slot, variant = path.split("/")
                reply = hostile.answer(slot, variant, msg)
                if reply is None:
                    writer.write(_response(202, b""))
                elif kind == "evil-sse":
                    writer.write(_response(200, b"event: message\ndata: " + reply + b"\n\n", "text/event-stream"))
                else:
                    writer.write(_response(200, reply))
            elif path.startswith("/flood/"):
                await hostile.flood(path, rid, writer)
                return
            elif path.startswith("/sid/"):  # initialize answered with a hostile Mcp-Session-Id
                reply = hostile.answer("", "", msg)
                sid = hostile.SESSION_IDS[path[5:]]
                head = b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nMcp-Session-Id: " + sid
                writer.write(head + b"\r\nContent-Length: %d\r\n\r\n" % len(reply or b"") + (reply or b""))
            elif path.startswith("/ctype/"):
                ctype, body = _CTYPES[path[7:]]
                head = f"HTTP/1.1 200 X\r\n{ctype}Content-Length: {len(body(ok))}\r\n\r\n"
                writer.write(head.encode() + body(ok))
            elif path.startswith("/legacy/"):  # /legacy/<slot>/<variant>/sse and …/messages
                prefix, _, leaf = path.rpartition("/")
                if leaf == "sse":
                    await _legacy_stream(prefix, reader, writer)
                    return
                _legacy_post(prefix, msg)
                writer.write(_response(202, b""))
            else:
                writer.write(_response(404, b"not found", "text/plain"))
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _sse(data: bytes) -> bytes:
    return b"event: message\ndata: " + data + b"\n\n"


#: content types: (header line, body from the JSON response)
_CTYPES = {
    "upper-sse": ("Content-Type: TEXT/Event-Stream ; charset=utf-8\r\n", _sse),
    "json-param-sse": ("Content-Type: application/json; profile=text/event-stream\r\n", lambda ok: ok),
    "missing": ("", lambda ok: ok),
    "empty": ("Content-Type: \r\n", lambda ok: ok),
    "two": ("Content-Type: application/json\r\nContent-Type: text/event-stream\r\n", lambda ok: ok),
    "sse-body-as-json": ("Content-Type: application/json\r\n", _sse),
    "json-body-as-sse": ("Content-Type: text/event-stream\r\n", lambda ok: ok),
}

#: legacy SSE: what the stream announces as the endpoint, per variant of the "endpoint" slot
ENDPOINTS = {
    "two-lines": b"/messages\ndata: X-Injected: 1",  # SSE joins the data lines with a LF
    "space": b"/messages?x=a b",
    "other-origin": b"http://example.invalid/messages",
    "long": b"/" + b"m" * 5000,
    "non-ascii": "/m\u00e9ssages".encode(),
    "invalid-utf8": b"/m\xffssages",
    "bad-ipv6": b"http://[::1/messages",
}


def _legacy_post(prefix: str, msg: dict) -> None:
    """A POST to a hostile legacy server: its reply goes to the event stream. Hostile in its slot for the
    first such request only, so that a test sees the stream survive and the next call succeed."""
    _, _, slot, variant = prefix.split("/")
    state = STATE["legacy"].setdefault(prefix, {"queue": asyncio.Queue(), "calls": 0})
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        return
    if method == "tools/call":
        state["calls"] += 1
    first = state["calls"] <= 1
    if slot == "stream" and method == "tools/call" and first:
        ok = hostile.OK_CALL(rid)
        # the big events are written piece by piece: this server's memory is traced by the tests too
        if variant == "oversize-event":  # many 1 KiB data: lines, 2 MiB in all (the client caps at 1 MiB)
            line = b"data: " + b" " * 1024 + b"\n"
            event = itertools.chain([b"event: message\n"], (line * 64 for _ in range(32)), [b"data: " + ok + b"\n\n"])
        elif variant == "oversize-line":
            pad = (b"p" * 65536 for _ in range(32))
            event = itertools.chain([b"event: message\ndata: " + ok[:-1] + b',"pad":"'], pad, [b'"}\n\n'])
        elif variant == "invalid-utf8":
            event = _sse(ok.replace(b'"ok"', b'"\xff"'))
        elif variant == "malformed":
            event = _sse(b'{"jsonrpc":"2.0","id":' + orjson.dumps(rid) + b',"result":')
        else:
            raise ValueError(variant)
    elif slot == "call" and method == "tools/call" and not first:
        event = _sse(hostile.OK_CALL(rid))
    else:
        event = _sse(hostile.answer(slot, variant, msg))
    state["queue"].put_nowait(event)


async def _legacy_stream(prefix: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    _, _, slot, variant = prefix.split("/")
    state = STATE["legacy"][prefix] = {"queue": asyncio.Queue(), "calls": 0}
    endpoint = ENDPOINTS[variant] if slot == "endpoint" else prefix.encode() + b"/messages"
    writer.write(hostile._sse_head() + b"event: endpoint\ndata: " + endpoint + b"\n\n")
    gone = asyncio.ensure_future(reader.read())  # the client closes the stream: EOF
    try:
        while True:
            get = asyncio.ensure_future(state["queue"].get())
            await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                return
            event = get.result()
            for piece in [event] if isinstance(event, bytes) else event:
                writer.write(piece)
                await writer.drain()
    except ConnectionError:
        return
    finally:
        gone.cancel()


@contextlib.asynccontextmanager
async def bad_server():
    STATE.update(flaky429=[], sessions=set(), storm_calls=0, inits=0, legacy={})
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
