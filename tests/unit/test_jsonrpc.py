import orjson
import pytest

from mcpload.mcp.jsonrpc import classify, encode_notification, encode_request
from mcpload.transports.exchange import http_failure


def test_encode_request_and_notification():
    assert orjson.loads(encode_request(3, "tools/call", {"name": "x"})) == {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "x"},
    }
    assert orjson.loads(encode_request(4, "ping", None)) == {"jsonrpc": "2.0", "id": 4, "method": "ping"}
    assert orjson.loads(encode_notification("notifications/initialized")) == {
        "jsonrpc": "2.0",
        "method": "notifications/initialized",
    }


@pytest.mark.parametrize(
    ("method", "msg", "expected"),
    [
        ("tools/call", {"result": {"content": []}}, ("ok", None, None)),
        (
            "tools/call",
            {"result": {"content": [{"type": "text", "text": "bad"}], "isError": True}},
            ("tool_error", None, "bad"),
        ),
        ("tools/call", {"result": {"structuredContent": {"a": 1}}}, ("ok", None, None)),
        ("tools/call", {"result": {}}, ("protocol", None, "tools/call result without content")),
        ("tools/list", {"result": {"tools": []}}, ("ok", None, None)),
        ("ping", {"error": {"code": -32601, "message": "nope"}}, ("rpc_error", -32601, "nope")),
        ("ping", {"error": "flat"}, ("protocol", None, "error member is not an object")),
        ("ping", {"result": [1]}, ("protocol", None, "result is not an object")),
    ],
)
def test_classify(method, msg, expected):
    assert classify(method, msg) == expected


def test_input_required_is_declined_and_counted():
    kind, _, message = classify("tools/call", {"result": {"resultType": "input_required", "inputRequests": {}}})
    assert kind == "tool_error" and "input_required" in message


@pytest.mark.parametrize(
    ("status", "body", "known", "kind", "code"),
    [
        (404, b"", True, "session_expired", None),
        (404, b"", False, "http_error", None),
        (
            400,
            b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}',
            True,
            "session_expired",
            -32000,
        ),
        (
            400,
            b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"}}',
            False,
            "rpc_error",
            -32000,
        ),
        (
            404,
            b'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}',
            False,
            "rpc_error",
            -32601,
        ),
        (503, b"overloaded", True, "http_error", None),
        (429, b"", False, "http_error", None),
    ],
)
def test_http_failure_classification(status, body, known, kind, code):
    exc = http_failure(status, body, known)
    assert (exc.kind, exc.error_code, exc.http_status) == (kind, code, status)
