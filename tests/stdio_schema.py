"""A tiny stdio MCP server whose tool ``count`` declares an outputSchema and breaks it on every third
call (``{"count": "three"}`` where an integer is required): a server failing its own schema under load."""

from __future__ import annotations

import json
import sys

INIT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "schema", "version": "0"},
}
SCHEMA = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
TOOLS = {"tools": [{"name": "count", "inputSchema": {"type": "object"}, "outputSchema": SCHEMA}]}


def main() -> None:
    calls = 0
    for line in sys.stdin:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None or "method" not in msg:
            continue
        if method == "tools/call":
            calls += 1
            structured = {"count": "three"} if calls % 3 == 0 else {"count": calls}
            result = {"content": [{"type": "text", "text": json.dumps(structured)}], "structuredContent": structured}
        elif method == "initialize":
            result = INIT
        elif method == "tools/list":
            result = TOOLS
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
