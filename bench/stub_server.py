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
``--delay-ms D`` holds every response D ms before writing it (``loop.call_later``: a timer, no
thread, no per-request sleep, so the delay costs the server no CPU; a timer that fires early is
re-armed) and, on exit, prints ``HOLD <n> <p50> <p99> <max>``: how late the responses were written
after D, in µs, as the server saw it. ``--reuse-port`` (SO_REUSEPORT) lets several stub processes
listen on one port, the kernel spreading connections over them (one process holds at most as many
connections as it may open files).

Run it as its own process so that its CPU stays apart from the generator's::

    python bench/stub_server.py --mode sse --port 0    # prints "READY <port>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time

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

    def __init__(self, mode: str, chunked: bool, delay: float = 0.0) -> None:
        self.sse = mode == "sse"
        self.chunked = chunked
        self.delay = delay  # seconds to hold each response (0: answer at once)
        self.late: list[float] = []  # with a delay: how late each response was written, in seconds
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
        response = self.stub.handle(self._parser.get_method(), self._session, body)
        if self.stub.delay:  # equal delays fire in order, so pipelined answers keep their order
            keep = self._parser.should_keep_alive()
            due = time.perf_counter() + self.stub.delay
            asyncio.get_running_loop().call_later(self.stub.delay, self._send_later, response, keep, due)
            return
        self.transport.write(response)  # type: ignore[union-attr]
        if not self._parser.should_keep_alive():
            self.transport.close()  # type: ignore[union-attr]

    def _send_later(self, response: bytes, keep_alive: bool, due: float) -> None:
        now = time.perf_counter()
        if now < due:  # the loop's timer clock is coarse (uvloop: 1 ms) and may fire early
            asyncio.get_running_loop().call_later(due - now, self._send_later, response, keep_alive, due)
            return
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(response)
        self.stub.late.append(now - due)
        if not keep_alive:
            self.transport.close()


async def serve(
    host: str, port: int, mode: str, chunked: bool, delay_ms: float = 0.0, reuse_port: bool = False
) -> None:
    loop = asyncio.get_running_loop()
    stub = Stub(mode, chunked, delay_ms / 1000)
    server = await loop.create_server(lambda: Connection(stub), host, port, backlog=1024, reuse_port=reuse_port or None)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop
    if stub.late:
        late = sorted(stub.late)
        pick = [late[len(late) // 2], late[min(len(late) - 1, int(len(late) * 0.99))], late[-1]]
        print(f"HOLD {len(late)} " + " ".join(f"{x * 1e6:.0f}" for x in pick), flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    ap.add_argument("--mode", choices=("json", "sse"), default="json")
    ap.add_argument("--chunked", action="store_true", help="SSE answers with chunked transfer encoding")
    ap.add_argument("--no-uvloop", action="store_true", help="use the default asyncio loop")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="hold every response this long (a timer, no CPU)")
    ap.add_argument("--reuse-port", action="store_true", help="SO_REUSEPORT: several stubs on one port")
    args = ap.parse_args(argv)
    coro = serve(args.host, args.port, args.mode, args.chunked, args.delay_ms, args.reuse_port)
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
