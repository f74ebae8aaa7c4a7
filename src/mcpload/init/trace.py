"""Recorded tool arguments from a trace file (``mcpload init --from-trace trace.jsonl``).

The minimal contract (docs/trace-format.md): JSON Lines, one object per message exchange; the lines
``init`` reads are ``{"type": "call", "method": "tools/call", "tool": NAME, "arguments": {...}}``.
Other lines (other types or methods, fields added later) are skipped, so the format can grow. The file
is user input: a line that is not JSON is an error naming the file and line; sizes are bounded.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

MAX_LINE_BYTES = 1024 * 1024  # a longer line is an error (a trace line is one exchange)
MAX_LINES = 1_000_000  # read at most this many lines; the rest is ignored (said in the summary)
MAX_DISTINCT = 1000  # distinct argument sets kept per tool (by first appearance)


class TraceError(ValueError):
    """The trace file cannot be read; ``str()`` names the file and line."""


class RecordedArguments:
    """The argument sets recorded per tool, with how often each was seen."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = {}
        self.calls = 0
        self.truncated = False
        self.without_values = 0  # call lines with no arguments recorded (a trace made with --no-args)

    def add(self, tool: str, arguments: dict[str, Any]) -> None:
        key = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
        counts = self._counts.setdefault(tool, Counter())
        if key in counts or len(counts) < MAX_DISTINCT:
            counts[key] += 1
        self.calls += 1

    def tools(self) -> list[str]:
        return list(self._counts)

    def top(self, tool: str, n: int) -> list[tuple[dict[str, Any], int]]:
        """The ``n`` argument sets most often recorded for ``tool`` (ties: first seen first), with counts."""
        counts = self._counts.get(tool)
        if not counts:
            return []
        return [(json.loads(key), count) for key, count in counts.most_common(n)]


def read_trace(path: Path) -> RecordedArguments:
    """Read the ``tools/call`` arguments of a trace file.

    Raises:
        TraceError: no such file, not UTF-8, a line that is not JSON or is too long, or a call line
            whose ``tool`` is not a string or whose ``arguments`` is not an object.
    """
    recorded = RecordedArguments()
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read the trace ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if number > MAX_LINES:
                recorded.truncated = True
                break
            if len(raw) > MAX_LINE_BYTES:
                raise TraceError(f"{path}: line {number}: longer than {MAX_LINE_BYTES} bytes")
            text = raw.strip()
            if not text:
                continue
            try:
                line = json.loads(text)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
                raise TraceError(f"{path}: line {number}: not a JSON object ({why})") from None
            if not isinstance(line, dict):
                raise TraceError(f"{path}: line {number}: not a JSON object")
            if line.get("type") != "call" or line.get("method") != "tools/call":
                continue
            tool, arguments = line.get("tool"), line.get("arguments", {})
            if not isinstance(tool, str) or not tool:
                raise TraceError(f"{path}: line {number}: tool: expected a tool name")
            if "arguments" not in line and "shape" in line:
                recorded.without_values += 1  # recorded with --no-args: shapes only, no values to reuse
                continue
            if not isinstance(arguments, dict):
                raise TraceError(f"{path}: line {number}: arguments: expected an object")
            recorded.add(tool, arguments)
    return recorded
