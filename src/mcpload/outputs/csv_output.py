"""The per-second series of a run as CSV, one row per interval, for spreadsheets and pandas.

(Named ``csv_output`` so that it can never shadow the standard library's ``csv``.) The columns are
the same for every run, in ``COLUMNS`` order: the interval record's scalar fields
(``metrics.intervals.INTERVAL_FIELDS``), then one
``errors_<kind>`` column per non-ok outcome kind. A latency with no call in its interval is an empty
cell, never 0.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mcpload.atomic import write_atomic
from mcpload.metrics.intervals import INTERVAL_FIELDS
from mcpload.outcome import KINDS, OK
from mcpload.outputs.base import FileOutput

ERROR_KINDS = tuple(kind for kind in KINDS if kind != OK)
COLUMNS = (*INTERVAL_FIELDS, *(f"errors_{kind}" for kind in ERROR_KINDS))


def csv_row(interval: dict[str, Any]) -> list[Any]:
    """One interval record as the cells of a row (None as an empty cell)."""
    errors = interval.get("errors") or {}
    row = ["" if interval.get(name) is None else interval[name] for name in INTERVAL_FIELDS]
    row += [errors.get(kind, 0) for kind in ERROR_KINDS]
    return row


def write_csv(intervals: Iterable[dict[str, Any]], path: str | Path) -> None:
    """Write the interval records to ``path`` as CSV, atomically (temp file + rename).

    Args:
        intervals: interval records, as in the results document's ``intervals``.
        path: the CSV file to write.
    """

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for interval in intervals:
                writer.writerow(csv_row(interval))

    write_atomic(path, write)


class CSVOutput(FileOutput):
    """Writes the CSV when the run ends (``mcpload run --csv PATH``)."""

    name = "csv"

    def stop(self, results: dict[str, Any]) -> None:
        """Write the run's intervals."""
        write_csv(results.get("intervals") or [], self.path)
