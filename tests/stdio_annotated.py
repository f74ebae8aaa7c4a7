"""A tiny stdio MCP server listing one tool per shape of annotations, that records every tools/call it
receives (one JSON line each, in the file named by its first argument): which tools a client calls on
its own can be read back exactly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, without PYTHONPATH

from tests.stdio_server import serve, text_result

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
#: tool name → its annotations (absent key: no annotations at all)
ANNOTATIONS: dict[str, object] = {
    "safe": {"readOnlyHint": True, "openWorldHint": False},
    "safe_idempotent": {"readOnlyHint": True, "openWorldHint": False, "idempotentHint": True, "title": "x"},
    "none": None,
    "empty": {},
    "read_only_open_default": {"readOnlyHint": True},
    "read_only_open": {"readOnlyHint": True, "openWorldHint": True},
    "closed_default_write": {"openWorldHint": False},
    "writes": {"readOnlyHint": False, "openWorldHint": False, "destructiveHint": False},
    "destroys": {"readOnlyHint": False, "destructiveHint": True, "openWorldHint": False},
    "string_true": {"readOnlyHint": "true", "openWorldHint": "false"},
    "one_zero": {"readOnlyHint": 1, "openWorldHint": 0},
    "null_hints": {"readOnlyHint": None, "openWorldHint": None},
}
SAFE = {"safe", "safe_idempotent"}


def tools() -> list[dict]:
    out = []
    for name, hints in ANNOTATIONS.items():
        tool: dict = {"name": name, "inputSchema": SCHEMA}
        if hints is not None:
            tool["annotations"] = hints
        out.append(tool)
    return out


def main() -> None:
    record = sys.argv[1]

    def call(params: dict) -> dict:
        with open(record, "a") as f:
            f.write(json.dumps(params) + "\n")
        return text_result("ok")

    serve("ann", tools, call)


if __name__ == "__main__":
    main()
