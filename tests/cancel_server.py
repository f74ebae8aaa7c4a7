"""A stdio MCP server on the official Python SDK (``mcp``) whose ``slow`` tool counts the calls the
client cancelled (the SDK cancels a request's handler on ``notifications/cancelled``); ``cancelled``
returns that count. ``http PORT`` serves Streamable HTTP instead of stdio."""

from __future__ import annotations

import anyio
from mcp.server import MCPServer

server = MCPServer("cancel-counter")
COUNT = {"cancelled": 0, "finished": 0}


@server.tool()
async def slow(seconds: float = 5.0) -> str:
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        COUNT["cancelled"] += 1
        raise
    COUNT["finished"] += 1
    return "done"


@server.tool()
def cancelled() -> dict[str, int]:
    return dict(COUNT)


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "http":  # python cancel_server.py http PORT
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
