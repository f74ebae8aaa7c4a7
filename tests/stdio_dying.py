"""A tiny stdio MCP server that exits after answering N tools/call requests (N = argv[1], default 3).

Used to check that a stdio server process exiting mid-run is counted and its session re-created.
"""

from __future__ import annotations

import json
import sys

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "dying", "version": "0"}}
TOOLS = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    calls = 0
    for line in sys.stdin:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None or "method" not in msg:
            continue  # notifications and responses need no answer
        if method == "tools/call":
            if calls >= limit:
                sys.exit(1)  # dies with this call in flight
            calls += 1
            result = {"content": [{"type": "text", "text": "echo"}]}
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
