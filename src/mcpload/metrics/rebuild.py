"""Results from a file: a results document as written, or the interval log of a run. A log with its
summary record is whole again once its intervals are put back; the log of a run that died before
writing one is rebuilt as far as the intervals allow — totals, errors, operations, sessions and
conversations summed, latency over time only (whole-run percentiles need the histograms it never wrote).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from mcpload.metrics.intervals import COUNT_FIELDS, INTERVAL, META, SUMMARY, read_intervals
from mcpload.metrics.results import SCHEMA

REBUILT = "rebuilt_from_intervals"  # key set to True on results rebuilt from an interval log


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results JSON, or an NDJSON interval log (whole, or cut short by a run that died).

    Returns:
        A results document; one rebuilt from intervals has ``results[REBUILT] = True``.

    Raises:
        ValueError: the file cannot be read or is neither; the message names the file.
    """
    from mcpload.inputs import InputError, read_bytes

    path = Path(path)
    try:
        raw = read_bytes(path, "results")  # a regular file of at most 2 GiB: never /dev/zero or a FIFO
    except InputError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if _looks_like_log(raw):
        meta, intervals, summary = read_intervals(path)
        return results_from_intervals(meta, intervals, summary)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON and not an interval log ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("schema"), str):
        raise ValueError(f"{path}: not an mcpload results file (no 'schema' field)")
    if doc["schema"].partition("/")[0] != SCHEMA.partition("/")[0]:
        raise ValueError(f"{path}: not an mcpload results file (schema {doc['schema']!r})")
    if doc["schema"] != SCHEMA:
        raise ValueError(f"{path}: schema {doc['schema']!r} is not supported (this mcpload reads {SCHEMA})")
    return doc


def _looks_like_log(raw: bytes) -> bool:
    """An interval log's first line is a whole JSON object with a record ``type``."""
    first = raw.lstrip().split(b"\n", 1)[0]
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and record.get("type") in (META, INTERVAL, SUMMARY)


def results_from_intervals(
    meta: dict[str, Any], intervals: list[dict[str, Any]], summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The results document of an interval log (``read_intervals``).

    With a summary record holding the totals the document is whole again; otherwise every field the
    intervals allow is rebuilt, whole-run latency is ``None``, thresholds are not evaluated and
    ``REBUILT`` is set.
    """
    if summary and isinstance(summary.get("totals"), dict):
        return {"schema": SCHEMA, **summary, "intervals": intervals}
    rebuilt = _rebuild(meta, intervals)
    return {**rebuilt, **(summary or {}), "intervals": intervals, REBUILT: True}


def _n(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _rebuild(meta: dict[str, Any], intervals: list[dict[str, Any]]) -> dict[str, Any]:
    duration = max((_n(iv.get("t")) for iv in intervals), default=0.0)
    sums: dict[str, float] = {}
    errors: dict[str, int] = {}
    ops: dict[str, dict[str, Any]] = {}
    for iv in intervals:
        for key in COUNT_FIELDS:
            sums[key] = sums.get(key, 0) + _n(iv.get(key))
        for kind, count in _items(iv.get("errors")):
            errors[kind] = errors.get(kind, 0) + int(_n(count))
        for name, op in _items(iv.get("ops")):
            entry = ops.setdefault(name, {"calls": 0, "ok": 0, "failed": 0})
            for key in entry:
                entry[key] += int(_n(op.get(key) if isinstance(op, dict) else 0))
    s = {key: int(sums.get(key, 0)) for key in COUNT_FIELDS}
    for entry in ops.values():
        entry.update(
            success_rate=_rate(entry["ok"], entry["calls"]),
            calls_per_s=round(entry["calls"] / duration, 3) if duration else None,
            errors={},
            latency_ms=None,
        )
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "started_at": meta.get("started_at"),
        "duration_s": round(duration, 3),
        "target": meta.get("target"),
        "scenario": meta.get("scenario"),
        "profiles": meta.get("profiles"),
        "seed": meta.get("seed"),
        "totals": {
            "calls": s["calls"],
            "ok": s["ok"],
            "failed": s["failed"],
            "success_rate": _rate(s["ok"], s["calls"]),
            "calls_per_s": round(s["calls"] / duration, 3) if duration else None,
            "retries": s["retries"],
            "bytes_sent": s["bytes_sent"],
            "bytes_received": s["bytes_received"],
        },
        "latency_ms": None,
        "operations": dict(sorted(ops.items())),
        "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])),
        "top_errors": [],
        "sessions": {
            "started": s["sessions_started"],
            "failed": s["sessions_failed"],
            "success_rate": _rate(s["sessions_started"] - s["sessions_failed"], s["sessions_started"]),
            "setup_ms": None,
        },
        "conversations": {
            "completed": s["conversations_ok"] + s["conversations_failed"],
            "ok": s["conversations_ok"],
            "failed": s["conversations_failed"],
            "success_rate": _rate(s["conversations_ok"], s["conversations_ok"] + s["conversations_failed"]),
        },
        "thresholds": [],
        "histograms": {},
    }
    if s["arrivals"]:
        results["arrivals"] = {
            "scheduled": s["arrivals"],
            "started": s["arrivals"] - s["dropped"],
            "dropped": s["dropped"],
            "late_p99_ms": None,
        }
    return results


def _items(value: Any) -> list[tuple[str, Any]]:
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []
