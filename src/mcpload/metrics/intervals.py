"""The interval log: one JSON line per interval (NDJSON), flushed line by line so that a run that
dies keeps everything up to its last second. Header first, optional summary last."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import orjson

META, INTERVAL, SUMMARY = "meta", "interval", "summary"


class IntervalWriter:
    """Appends records to an NDJSON interval log: ``meta`` first, then ``interval`` lines, then
    optionally one ``summary``.

    Each line is flushed to the operating system as soon as it is written (not fsync'ed: a dying
    process loses nothing, a dying machine may lose the last lines).

    Args:
        path: the file; created or truncated.
        meta: the header record; written at once when given, else call ``write_meta`` first.
    """

    def __init__(self, path: str | Path, meta: dict | None = None) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = self.path.open("wb")
        if meta is not None:
            self.write_meta(meta)

    def _write(self, kind: str, record: dict) -> None:
        if self._file is None:
            raise ValueError(f"interval log {self.path} is closed")
        # "type" first so that `head -1` and grep read naturally; the caller's dict is not changed.
        self._file.write(orjson.dumps({"type": kind, **record}, option=orjson.OPT_APPEND_NEWLINE))
        self._file.flush()

    def write_meta(self, meta: dict) -> None:
        """Write the header record (run id, target, scenario, …)."""
        self._write(META, meta)

    def write_interval(self, interval: dict) -> None:
        """Append one interval dict (``Recorder.interval``)."""
        self._write(INTERVAL, interval)

    def write_summary(self, summary: dict) -> None:
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


def read_intervals(path: str | Path) -> tuple[dict, list[dict], dict | None]:
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
    meta: dict = {}
    intervals: list[dict] = []
    summary: dict | None = None
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
