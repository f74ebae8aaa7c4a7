"""The trace format (``mcpload.trace/1``): one JSON object per line, written as it goes, read back tolerantly.

The first line is a ``header``; then ``session_start``, ``call``, ``notification`` and ``session_end``
lines in the order they happened (see docs/trace-format.md). ``TraceWriter`` flushes every line, so
a recording stopped by Ctrl-C or a crash keeps everything up to its last message. ``read_trace``
skips lines it cannot use (counting them) and refuses only a file that is not a trace at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeGuard

import orjson

FORMAT = "mcpload.trace/1"
LINE_TYPES = ("header", "session_start", "call", "notification", "session_end")
MAX_LINE = 4 * 1024 * 1024  # a longer line is skipped as damaged, never parsed


class TraceError(ValueError):
    """A trace file that cannot be read; ``str()`` names the file."""


class TraceWriter:
    """Appends trace lines to a file; ``t`` of each line is seconds since the recording started.

    Args:
        path: The trace file (created or truncated).
        header: Extra fields for the header line (source, upstream, redaction settings).
    """

    def __init__(self, path: str | Path, header: dict[str, Any]) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = open(self.path, "wb")  # noqa: SIM115 - lives as long as the writer
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self.lines = 0
        self.write({"type": "header", "format": FORMAT, "started": self._wall0, **header}, stamp=False)

    def now(self) -> float:
        """Seconds since the recording started (the ``t`` of the next line)."""
        return time.monotonic() - self._t0

    def wall(self, t: float) -> float:
        """The wall-clock time (epoch seconds) of offset ``t``."""
        return round(self._wall0 + t, 6)

    def write(self, line: dict[str, Any], *, stamp: bool = True) -> None:
        """Write one line now (flushed: a killed recorder keeps it). ``stamp`` adds ``t``/``wall`` if absent."""
        if self._file is None:
            return
        if stamp and "t" not in line:
            line["t"] = round(self.now(), 6)
        if stamp and "wall" not in line:
            line["wall"] = self.wall(line["t"])
        self._file.write(orjson.dumps(line) + b"\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


@dataclass
class Trace:
    """A trace read back: the header, every line by type (in file order), and the lines skipped."""

    path: str
    header: dict[str, Any]
    calls: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → {start, end, reason}
    skipped: int = 0

    def tool_calls(self) -> list[dict[str, Any]]:
        """The client's ``tools/call`` lines, by start time."""
        calls = [c for c in self.calls if c.get("method") == "tools/call" and c.get("direction", "client") == "client"]
        return sorted(calls, key=lambda c: c["t"])


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value and abs(value) < 1e12


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from handle


def read_trace(path: str | Path) -> Trace:
    """Read a trace file.

    Raises:
        TraceError: the file cannot be read, or its first line is not an ``mcpload.trace/1`` header.
    """
    path = Path(path)
    try:
        lines = _lines(path)
        first = next(lines, b"")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read the trace ({exc.strerror or exc})") from None
    try:
        header = orjson.loads(first) if len(first) <= MAX_LINE else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("type") != "header":
        raise TraceError(f"{path}: not an mcpload trace (the first line is not a header line)")
    if header.get("format") != FORMAT:
        raise TraceError(f"{path}: trace format {header.get('format')!r} is not supported (expected {FORMAT!r})")
    trace = Trace(str(path), header)
    try:
        for raw in lines:
            _take(trace, raw)
    except OSError as exc:
        raise TraceError(f"{path}: cannot read the trace ({exc.strerror or exc})") from None
    trace.calls.sort(key=lambda c: c["t"])
    return trace


def _take(trace: Trace, raw: bytes) -> None:
    if not raw.strip():
        return
    try:
        line = orjson.loads(raw) if len(raw) <= MAX_LINE else None
    except orjson.JSONDecodeError:
        line = None  # a line cut by a crash, or edited
    if not isinstance(line, dict) or not _number(line.get("t")) or not isinstance(line.get("session", ""), str):
        trace.skipped += 1
        return
    kind = line.get("type")
    session = line.get("session") or "-"
    if kind == "call":
        latency = line.get("latency", 0)
        if not isinstance(line.get("method"), str) or not _number(latency) or latency < 0:
            trace.skipped += 1
            return
        line["session"] = session
        line.setdefault("latency", 0.0)
        trace.calls.append(line)
        trace.sessions.setdefault(session, {"start": line["t"], "end": None, "reason": None})
    elif kind == "notification":
        trace.notifications.append(line)
    elif kind == "session_start":
        trace.sessions.setdefault(session, {"start": line["t"], "end": None, "reason": None})["start"] = line["t"]
    elif kind == "session_end":
        info = trace.sessions.setdefault(session, {"start": line["t"], "end": None, "reason": None})
        info["end"], info["reason"] = line["t"], line.get("reason")
    else:
        trace.skipped += 1


def read_traces(paths: list[str | Path]) -> Trace:
    """Read several traces as one (e.g. one per stdio server process), aligned on their start times.

    Sessions of different files never merge: with more than one file, each session name gets its
    file's number in front (``2/s1``).

    Raises:
        TraceError: as ``read_trace``, for the first file that fails.
    """
    traces = [read_trace(p) for p in paths]
    if len(traces) == 1:
        return traces[0]
    starts = [t.header.get("started") for t in traces]
    origin = min((s for s in starts if _number(s)), default=0.0)
    merged = Trace(", ".join(t.path for t in traces), dict(traces[0].header, merged=len(traces)))
    for i, (trace, started) in enumerate(zip(traces, starts, strict=True), 1):
        shift = started - origin if _number(started) else 0.0
        for line in trace.calls + trace.notifications:
            line["t"] += shift
            line["session"] = f"{i}/{line.get('session') or '-'}"
        merged.calls += trace.calls
        merged.notifications += trace.notifications
        for sid, info in trace.sessions.items():
            merged.sessions[f"{i}/{sid}"] = {
                "start": info["start"] + shift,
                "end": None if info["end"] is None else info["end"] + shift,
                "reason": info["reason"],
            }
        merged.skipped += trace.skipped
    merged.calls.sort(key=lambda c: c["t"])
    return merged
