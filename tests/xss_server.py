"""An MCP server (official SDK) whose every name and message tries to inject HTML into a report.

Tool names, error messages, the server's name, title, version and instructions all carry a
``<script>`` and an ``<img onerror>`` payload that set the page title to ``PWNED`` if they ever ran.
The SDK only warns about tool names outside SEP-986's pattern, so the tool names carry them too.

Run: ``python tests/xss_server.py PORT`` (Streamable HTTP on 127.0.0.1:PORT/mcp).
"""

from __future__ import annotations

import logging
import sys

SCRIPT = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.title='PWNED'\">"
OK_TOOL = f"ok{SCRIPT}"
FAILING_TOOL = f"fail{IMG}"
# what a failing call answers: both payloads, a script end, a comment opener and the JS line separators
ERROR_TEXT = f"broken {SCRIPT} {IMG} </script><!-- \u2028\u2029 & done"


def build_server():
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer(
        f"evil{SCRIPT}",
        title=f"title{IMG}",
        description=f"description{SCRIPT}",
        version=f"1.0{IMG}",
        instructions=f"{SCRIPT}{IMG}",
    )

    async def ok_tool(query: str = "") -> str:
        return f"fine {SCRIPT}"

    async def failing_tool(query: str = "") -> str:
        raise ToolError(ERROR_TEXT)

    server.add_tool(ok_tool, name=OK_TOOL, description=SCRIPT)
    server.add_tool(failing_tool, name=FAILING_TOOL, description=IMG)
    return server


if __name__ == "__main__":
    logging.disable(logging.WARNING)  # the SDK warns about the tool names
    build_server().run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
