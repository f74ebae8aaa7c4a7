"""JSON-RPC 2.0 framing for MCP and the classification of a response into an outcome kind."""

from __future__ import annotations

import reprlib
from typing import Any

import orjson

from mcpload.outcome import OK, PROTOCOL, RPC_ERROR, TOOL_ERROR

_dumps = orjson.dumps


def encode_request(msg_id: int | str, method: str, params: dict[str, Any] | None) -> bytes:
    if params is None:
        return _dumps({"jsonrpc": "2.0", "id": msg_id, "method": method})
    return _dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})


def encode_notification(method: str, params: dict[str, Any] | None = None) -> bytes:
    if params is None:
        return _dumps({"jsonrpc": "2.0", "method": method})
    return _dumps({"jsonrpc": "2.0", "method": method, "params": params})


def result_response(msg_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}


def error_response(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def classify(method: str, msg: dict[str, Any]) -> tuple[str, int | None, str | None]:
    """Outcome kind, error code and error message of a response to ``method``.

    ``isError: true`` is a tool error (the tool ran and failed), not a protocol error; a 2026-07-28
    ``input_required`` result is declined by a load tester and counted as a tool error. The shape of
    what is read is checked (cheaply, ``type`` of the few fields used): an ``error`` that is not an
    object with an integer ``code`` and a string ``message``, a ``result`` that is not an object, a
    ``tools/call`` ``content`` that is not a list are ``protocol``.
    """
    error = msg.get("error")
    if error is not None:
        if type(error) is not dict:
            return PROTOCOL, None, "error member is not an object"
        code = error.get("code")
        message = error.get("message")
        if type(code) is not int:
            return PROTOCOL, None, f"error code is not an integer: {reprlib.repr(code)}"
        if type(message) is not str:
            return PROTOCOL, code, f"error message is not a string: {reprlib.repr(message)}"
        return RPC_ERROR, code, message
    result = msg.get("result")
    if type(result) is not dict:
        return PROTOCOL, None, "result is not an object"
    if result.get("resultType") == "input_required":
        return TOOL_ERROR, None, "input_required declined (a load tester answers no server questions)"
    if method == "tools/call":
        if result.get("isError") is True:
            return TOOL_ERROR, None, _first_text(result)
        content = result.get("content")
        if content is None:
            if "structuredContent" not in result:
                return PROTOCOL, None, "tools/call result without content"
        elif type(content) is not list:
            return PROTOCOL, None, "tools/call content is not a list"
    return OK, None, None


def _first_text(result: dict[str, Any]) -> str | None:
    content = result.get("content")
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                return str(item.get("text", ""))[:500]
    return None
