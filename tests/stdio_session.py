"""A tiny stdio MCP server for the session's unit tests: strict about the lifecycle, with one tool per
way a request can end. ``python tests/stdio_session.py``.

Requests before ``notifications/initialized`` (other than ``initialize`` and ``ping``) are refused with
an RPC error, as SDK servers do. ``server/discover`` is unknown (a handshake-era server). Tools:
``echo`` (its arguments back), ``fail`` (an RPC error), ``hang`` (never answered), ``malformed`` (a
result that is not an object), ``exit`` (the process exits with the call in flight), ``ask`` (sends the
client a request, ``arguments.method``, and answers with the client's reply), ``seen`` (every message
this process received so far: method, id, params).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, without PYTHONPATH

from tests.stdio_server import NO_REPLY, RpcError, serve, text_result

TOOLS = [
    {"name": n, "inputSchema": {"type": "object"}} for n in ("echo", "fail", "hang", "malformed", "exit", "ask", "seen")
]
NOT_INITIALIZED = -32002


def main() -> None:
    seen: list[dict[str, Any]] = []
    ready = False

    def on_message(msg: dict[str, Any]) -> None:
        nonlocal ready
        seen.append({k: msg.get(k) for k in ("method", "id", "params") if k in msg})
        if msg.get("method") == "notifications/initialized":
            ready = True

    def call(params: dict[str, Any]) -> Any:
        if not ready:
            raise RpcError(NOT_INITIALIZED, "not initialized")
        name, args = params.get("name"), params.get("arguments") or {}
        if name == "echo":
            return text_result("echo", args)
        if name == "fail":
            raise RpcError(-32000, "tool failed", {"why": "asked to"})
        if name == "hang":
            return NO_REPLY
        if name == "malformed":
            return [1, 2, 3]
        if name == "exit":
            sys.exit(3)
        if name == "ask":
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": "s-1", "method": args["method"]}) + "\n")
            sys.stdout.flush()
            reply = json.loads(sys.stdin.readline())
            return text_result("asked", reply)
        if name == "seen":
            return text_result("seen", {"messages": list(seen)})
        raise RpcError(-32602, f"unknown tool {name}")

    def refuse_discover(_params: dict[str, Any]) -> Any:
        raise RpcError(-32601, "method not found: server/discover")

    serve("session", TOOLS, call, methods={"server/discover": refuse_discover}, on_message=on_message)


if __name__ == "__main__":
    main()
