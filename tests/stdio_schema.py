"""A tiny stdio MCP server whose tool ``count`` declares an outputSchema and breaks it on every third
call (``{"count": "three"}`` where an integer is required): a server failing its own schema under load."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, without PYTHONPATH

from tests.stdio_server import serve, text_result

SCHEMA = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
TOOLS = [{"name": "count", "inputSchema": {"type": "object"}, "outputSchema": SCHEMA}]


def main() -> None:
    calls = itertools.count(1)

    def count(_params: dict) -> dict:
        n = next(calls)
        structured = {"count": "three"} if n % 3 == 0 else {"count": n}
        return text_result(json.dumps(structured), structured)

    serve("schema", TOOLS, count)


if __name__ == "__main__":
    main()
