"""The interval log: one JSON line per interval (NDJSON), flushed line by line so that a run that
dies keeps everything up to its last second. Header first, optional summary last. And the spool that
keeps a run's intervals for its results on disk, so that memory does not grow with the run's length."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import IO, Any

import orjson

META, INTERVAL, SUMMARY = "meta", "interval", "summary"

#: The interval record (``Recorder.interval``, one a second, see docs/results-format.md): its fields
#: that hold one number, in record order (the CSV columns). Two more hold objects: ``errors`` (failed
#: calls by outcome kind, after ``failed``) and ``ops`` (per operation, last). The runner and the
#: annotators may add their own (``loop_lag_ms``, ``state``, ``resources``, ``canary`` …).
INTERVAL_FIELDS = (
    "t",
    "calls",
    "ok",
    "failed",
    "retries",
    "calls_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "active_agents",
    "target_agents",
    "sessions_started",
    "sessions_failed",
    "conversations_ok",
    "conversations_failed",
    "arrivals",
    "dropped",
    "bytes_sent",
    "bytes_received",
)
#: the fields of ``INTERVAL_FIELDS`` that are not counts: the time, rates, latencies and gauges
_NOT_COUNTS = ("t", "calls_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "active_agents", "target_agents")
#: the fields that count what happened in the interval alone: summed over every interval, the run's
COUNT_FIELDS = tuple(name for name in INTERVAL_FIELDS if name not in _NOT_COUNTS)


class IntervalWriter:
    """Appends records to an NDJSON interval log: ``meta`` first, then ``interval`` lines, then
    optionally one ``summary``.

    Each line is flushed to the operating system as soon as it is written (not fsync'ed: a dying
    process loses nothing, a dying machine may lose the last lines).

    Args:
        path: the file; created or truncated.
        meta: the header record; written at once when given, else call ``write_meta`` first.
    """

    def __init__(self, path: str | Path, meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = self.path.open("wb")
        if meta is not None:
            self.write_meta(meta)

    def _write(self, kind: str, record: dict[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"interval log {self.path} is closed")
        # "type" first so that `head -1` and grep read naturally; the caller's dict is not changed.
        self._file.write(orjson.dumps({"type": kind, **record}, option=orjson.OPT_APPEND_NEWLINE))
        self._file.flush()

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Write the header record (run id, target, scenario, …)."""
        self._write(META, meta)

    def write_interval(self, interval: dict[str, Any]) -> None:
        """Append one interval dict (``Recorder.interval``)."""
        self._write(INTERVAL, interval)

    def write_summary(self, summary: dict[str, Any]) -> None:
        """Append the final summary record."""
        self._write(SUMMARY, summary)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> IntervalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class IntervalSpool:
    """The run's intervals, kept until the results are built: on disk, not in memory.

    A run keeps one interval a second for its results (a 24-hour run: 86,400). Held in memory they made
    the generator's RSS grow all run long: as dicts they cost ~4x their JSON size, and as orjson bytes
    far more, since ``orjson.dumps`` leaves its output in a buffer of its own growth policy (689 bytes
    of JSON sat in an 8,152-byte malloc block: +0.47 MiB a minute in the soak, found with memray).
    Spooled as NDJSON lines to an unlinked temporary file (``tempfile.TemporaryFile``: nothing is left
    behind, even after SIGKILL), the memory of a run no longer grows with its length; the file sits in
    the page cache, which is not the process's RSS.

    When no temporary file can be made or written (no writable temporary folder, disk full), the spool
    falls back to one compact in-memory buffer (the JSON bytes, copied): nothing recorded is lost.

    Args:
        directory: where the temporary file goes (``tempfile``'s default, ``$TMPDIR`` … ``/tmp``).
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.count = 0
        self._memory: bytearray | None = None
        self._file: IO[bytes] | None = None
        self._size = 0  # bytes of whole lines in the file
        try:
            # unbuffered: each interval is one write, so a failed one is known at once and whole
            self._file = tempfile.TemporaryFile(prefix="mcpload-intervals-", dir=directory, buffering=0)  # noqa: SIM115 (closed by close)
        except OSError:
            self._memory = bytearray()

    @property
    def on_disk(self) -> bool:
        """True while the intervals go to the temporary file (False: the in-memory fallback)."""
        return self._file is not None

    def append(self, interval: dict[str, Any]) -> None:
        """Keep one interval dict (JSON-serialisable, as ``Recorder.interval`` returns)."""
        line = orjson.dumps(interval, option=orjson.OPT_APPEND_NEWLINE)
        if self._file is not None:
            try:
                written = self._file.write(line)
            except OSError:
                written = None
            if written == len(line):
                self._size += written
                self.count += 1
                return
            self._to_memory()
        if self._memory is not None:
            self._memory += line
            self.count += 1

    def _to_memory(self) -> None:
        """Move the whole lines the file holds into memory, and keep the next ones there."""
        file, self._file = self._file, None
        self._memory = bytearray()
        if file is None:
            return
        try:
            file.seek(0)
            self._memory += file.read(self._size) or b""
        except OSError:
            self.count = 0  # unreadable: the intervals it held are lost
        finally:
            with contextlib.suppress(OSError):
                file.close()

    def read(self) -> list[dict[str, Any]]:
        """Every interval kept, in order, as dicts."""
        if self._file is not None:
            try:
                self._file.seek(0)
                data = self._file.read(self._size) or b""
                self._file.seek(self._size)
            except OSError:
                self._to_memory()
                data = bytes(self._memory or b"")
        else:
            data = bytes(self._memory or b"")
        return [orjson.loads(line) for line in data.splitlines() if line]

    def close(self) -> None:
        """Drop the kept intervals (idempotent)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        self._memory = None


def read_intervals(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """Read an interval log back.

    A last line that is cut short (the run died mid-write) is ignored; a bad line anywhere else
    raises. Records come back as written, without their ``type`` key.

    Returns:
        ``(meta, intervals, summary)``: ``meta`` is ``{}`` when the header is missing, ``summary``
        None when the run wrote none.

    Raises:
        ValueError: a line before the last is not a JSON object with a known ``type``.
    """
    lines = Path(path).read_bytes().split(b"\n")
    meta: dict[str, Any] = {}
    intervals: list[dict[str, Any]] = []
    summary: dict[str, Any] | None = None
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            kind = record.pop("type")
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
            if number == last:
                break  # truncated by a crash: everything before it is whole
            raise ValueError(f"{path}:{number + 1}: not an interval log record ({exc})") from None
        if kind == META:
            meta = record
        elif kind == INTERVAL:
            intervals.append(record)
        elif kind == SUMMARY:
            summary = record
        else:
            raise ValueError(f"{path}:{number + 1}: unknown record type {kind!r}")
    return meta, intervals, summary
