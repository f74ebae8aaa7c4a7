"""A tiny stdio MCP server whose one tool, ``env``, answers with the server's environment and argv.

Used to check what a stdio server process is given: which environment variables reach it, and that
its command line was not run through a shell.
"""

from __future__ import annotations

import json
import os
import sys

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "env", "version": "0"}}
TOOLS = {"tools": [{"name": "env", "inputSchema": {"type": "object"}}]}


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None or "method" not in msg:
            continue  # notifications and responses need no answer
        if method == "tools/call":
            info = {"env": dict(os.environ), "argv": sys.argv[1:]}
            result = {"content": [{"type": "text", "text": json.dumps(info)}], "structuredContent": info}
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
