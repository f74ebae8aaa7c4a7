"""A tiny stdio MCP server whose one tool, ``env``, answers with the server's environment and argv.

Used to check what a stdio server process is given: which environment variables reach it, and that
its command line was not run through a shell.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, without PYTHONPATH

from tests.stdio_server import serve, text_result

TOOLS = [{"name": "env", "inputSchema": {"type": "object"}}]


def env(_params: dict) -> dict:
    info = {"env": dict(os.environ), "argv": sys.argv[1:]}
    return text_result(json.dumps(info), info)


if __name__ == "__main__":
    serve("env", TOOLS, env)
