"""A tiny stdio MCP server that exits after answering N tools/call requests (N = argv[1], default 3).

Used to check that a stdio server process exiting mid-run is counted and its session re-created.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, without PYTHONPATH

from tests.stdio_server import serve, text_result

TOOLS = [{"name": "echo", "inputSchema": {"type": "object"}}]


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    calls = 0

    def echo(_params: dict) -> dict:
        nonlocal calls
        if calls >= limit:
            sys.exit(1)  # dies with this call in flight
        calls += 1
        return text_result("echo")

    serve("dying", TOOLS, echo)


if __name__ == "__main__":
    main()
