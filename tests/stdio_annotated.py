"""A tiny stdio MCP server listing one tool per shape of annotations, that records every tools/call it
receives (one JSON line each, in the file named by its first argument): which tools a client calls on
its own can be read back exactly.
"""

from __future__ import annotations

import json
import sys

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "ann", "version": "0"}}
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
    for line in sys.stdin:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None or "method" not in msg:
            continue
        if method == "tools/call":
            with open(record, "a") as f:
                f.write(json.dumps(msg.get("params", {})) + "\n")
            result = {"content": [{"type": "text", "text": "ok"}]}
        elif method == "initialize":
            result = INIT
        elif method == "tools/list":
            result = {"tools": tools()}
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
