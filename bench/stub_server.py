"""A fast stub MCP Streamable HTTP server for client benchmarks (asyncio + httptools, no framework).

It answers just enough of MCP (2025-11-25, handshake era) for a load generator to open sessions and
call one tool, as cheaply as possible, so that the *client's* CPU is what a benchmark measures:

- ``initialize`` → result with protocolVersion ``2025-11-25`` and an ``Mcp-Session-Id`` header;
- ``notifications/initialized`` (any notification or response) → 202;
- ``tools/call`` → echo of ``arguments.message`` as ``{"content": [{"type": "text", "text": ...}]}``;
- ``tools/list``, ``ping``; any other method → JSON-RPC error -32601 (HTTP 200);
- ``server/discover`` → HTTP 400 with a JSON-RPC error, so that auto-detecting clients fall back;
- ``DELETE`` → 200 (ends the session); ``GET`` → 405 (no standalone stream).

Answers are ``application/json`` (``--mode json``) or one ``event: message`` SSE event
(``--mode sse``), with Content-Length, or with chunked transfer encoding (``--chunked``).

Run it as its own process so that its CPU stays apart from the generator's::

    python bench/stub_server.py --mode sse --port 0    # prints "READY <port>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import httptools
import orjson

PROTOCOL_VERSION = "2025-11-25"
SERVER_INFO = {"name": "mcpload-bench-stub", "version": "1"}
ECHO_TOOL = {
    "name": "echo",
    "description": "Echo the message back.",
    "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
}

_STATUS = {200: b"200 OK", 202: b"202 Accepted", 400: b"400 Bad Request", 404: b"404 Not Found"}
_STATUS[405] = b"405 Method Not Allowed"


class Stub:
    """Shared state: the response mode and the open sessions."""

    def __init__(self, mode: str, chunked: bool) -> None:
        self.sse = mode == "sse"
        self.chunked = chunked
        self.sessions: set[bytes] = set()
        self._next_session = 0

    def new_session(self) -> bytes:
        self._next_session += 1
        sid = b"%d-%s" % (self._next_session, os.urandom(8).hex().encode())
        self.sessions.add(sid)
        return sid

    # response framing
    @staticmethod
    def plain(status: int, body: bytes = b"", ctype: bytes = b"application/json") -> bytes:
        head = b"HTTP/1.1 %s\r\n" % _STATUS[status]
        if body:
            head += b"Content-Type: %s\r\n" % ctype
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)

    def rpc(self, msg: dict, extra_headers: bytes = b"") -> bytes:
        """A 200 carrying one JSON-RPC message, as JSON or as one SSE event."""
        payload = orjson.dumps(msg)
        if not self.sse:
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
                extra_headers,
                len(payload),
                payload,
            )
        event = b"event: message\ndata: %s\n\n" % payload
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" + extra_headers
        if self.chunked:
            return b"%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (head, len(event), event)
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(event), event)

    # MCP
    def handle(self, method: bytes, session: bytes | None, body: bytes) -> bytes:
        if method == b"DELETE":
            if session is not None:
                self.sessions.discard(session)
            return self.plain(200)
        if method != b"POST":
            return self.plain(405)
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self.plain(400, orjson.dumps(_error(None, -32700, "Parse error")))
        if not isinstance(msg, dict):
            return self.plain(400, orjson.dumps(_error(None, -32600, "batches are not supported")))
        msg_id = msg.get("id")
        rpc_method = msg.get("method")
        if msg_id is None or rpc_method is None:  # a notification or a response
            return self.plain(202)
        if rpc_method == "initialize":
            result = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {"tools": {}}, "serverInfo": SERVER_INFO}
            sid = self.new_session()
            return self.rpc({"jsonrpc": "2.0", "id": msg_id, "result": result}, b"Mcp-Session-Id: %s\r\n" % sid)
        if rpc_method == "server/discover":
            return self.plain(400, orjson.dumps(_error(msg_id, -32601, "Method not found: server/discover")))
        if session is None:
            return self.plain(400, orjson.dumps(_error(msg_id, -32000, "Bad Request: missing session ID")))
        if session not in self.sessions:
            return self.plain(404, orjson.dumps(_error(msg_id, -32001, "Session not found")))
        if rpc_method == "tools/call":
            params = msg.get("params") or {}
            text = str((params.get("arguments") or {}).get("message", ""))
            if params.get("name") != "echo":
                result = {"content": [{"type": "text", "text": "unknown tool"}], "isError": True}
            else:
                result = {"content": [{"type": "text", "text": text}]}
            return self.rpc({"jsonrpc": "2.0", "id": msg_id, "result": result})
        if rpc_method == "tools/list":
            return self.rpc({"jsonrpc": "2.0", "id": msg_id, "result": {"tools": [ECHO_TOOL]}})
        if rpc_method == "ping":
            return self.rpc({"jsonrpc": "2.0", "id": msg_id, "result": {}})
        return self.rpc(_error(msg_id, -32601, f"Method not found: {rpc_method}"))


def _error(msg_id: object, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class Connection(asyncio.Protocol):
    """One keep-alive client connection; requests are answered in order as they complete."""

    __slots__ = ("_body", "_parser", "_session", "stub", "transport")

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._body: list[bytes] = []
        self._session: bytes | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(Stub.plain(400))  # type: ignore[union-attr]
            self.transport.close()  # type: ignore[union-attr]

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._body = []
        self._session = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 14 and name.lower() == b"mcp-session-id":
            self._session = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self.transport.write(self.stub.handle(self._parser.get_method(), self._session, body))  # type: ignore[union-attr]
        if not self._parser.should_keep_alive():
            self.transport.close()  # type: ignore[union-attr]


async def serve(host: str, port: int, mode: str, chunked: bool) -> None:
    loop = asyncio.get_running_loop()
    stub = Stub(mode, chunked)
    server = await loop.create_server(lambda: Connection(stub), host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    ap.add_argument("--mode", choices=("json", "sse"), default="json")
    ap.add_argument("--chunked", action="store_true", help="SSE answers with chunked transfer encoding")
    ap.add_argument("--no-uvloop", action="store_true", help="use the default asyncio loop")
    args = ap.parse_args(argv)
    coro = serve(args.host, args.port, args.mode, args.chunked)
    if not args.no_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(coro)
            return
    asyncio.run(coro)


if __name__ == "__main__":
    sys.exit(main())
