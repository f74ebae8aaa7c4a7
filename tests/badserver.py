"""A real (socket) HTTP server that misbehaves on purpose, one behaviour per URL path.

Used to check that every misbehaviour becomes the right outcome and never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson


def _response(status: int, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes] | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    path = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":")[1])
    body = await reader.readexactly(length) if length else b""
    return path, body


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                path, body = await _read_request(reader)
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
            elif path == "/sse-ends":
                writer.write(_response(200, b": nothing to see\n\n", "text/event-stream"))
            elif path == "/sse-notify-then-response":
                note = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}})
                sse = b"id: p1\nretry: 10\ndata: \n\nevent: message\ndata: " + note + b"\n\n"
                sse += b"event: message\ndata: " + ok + b"\n\n"
                writer.write(_response(200, sse, "text/event-stream"))
            else:
                writer.write(_response(404, b"not found", "text/plain"))
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def bad_server():
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
