"""The reader loop of the tiny stdio MCP servers the tests run (``tests/stdio_*.py``): one place that
reads newline-delimited JSON-RPC from stdin, answers ``initialize``, ``tools/list`` and ``tools/call``
(through the server's own function) and writes one line per response.

A server script is run as ``python tests/stdio_x.py`` with a bare environment (no ``PYTHONPATH``), so
each one puts the repository root on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

PROTOCOL = "2025-11-25"
#: a handler's return value meaning "send nothing": the request stays unanswered
NO_REPLY = object()


class RpcError(Exception):
    """Raised by a handler: answer with this JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


Handler = Callable[[dict[str, Any]], Any]


def init_result(name: str, protocol: str = PROTOCOL) -> dict[str, Any]:
    return {"protocolVersion": protocol, "capabilities": {"tools": {}}, "serverInfo": {"name": name, "version": "0"}}


def text_result(text: str, structured: Any = None) -> dict[str, Any]:
    """A ``tools/call`` result with one text block (and ``structuredContent`` when given)."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
    if structured is not None:
        result["structuredContent"] = structured
    return result


def serve(
    name: str,
    tools: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    call: Handler,
    methods: dict[str, Handler] | None = None,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Answer requests on stdin until it closes.

    Args:
        name: the ``serverInfo`` name.
        tools: what ``tools/list`` lists (or a function returning it).
        call: ``tools/call`` params → the result (or ``NO_REPLY``; may raise ``RpcError``).
        methods: other methods' handlers (params → result); an unknown method is answered ``{}``.
        on_message: sees every message, notifications included, before it is answered.
    """
    handlers: dict[str, Handler] = {
        "initialize": lambda _p: init_result(name),
        "tools/list": lambda _p: {"tools": tools() if callable(tools) else tools},
        "tools/call": call,
        **(methods or {}),
    }
    for line in sys.stdin:
        msg = json.loads(line)
        if on_message is not None:
            on_message(msg)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None or method is None:
            continue  # notifications and responses need no answer
        handler = handlers.get(method)
        try:
            result = handler(msg.get("params") or {}) if handler is not None else {}
        except RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            reply = {"jsonrpc": "2.0", "id": rid, "error": error}
        else:
            if result is NO_REPLY:
                continue
            reply = {"jsonrpc": "2.0", "id": rid, "result": result}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
