"""``mcpload merge``: the results of a run's segments, run separately (``--segment i/N`` in pods of a
Kubernetes Indexed Job, on several machines), combined exactly into one run's results.

Each segment's results keep every interval's recorder state (``state``: histogram bucket counts and
counters). Merging replays them second by second into one recorder, as if a single process had recorded
every call: counts, histograms, percentiles and per-second intervals are exact, not averaged. Seconds are
aligned by their index from each segment's start, which assumes the segments started together (give
them the same ``--start-at``).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mcpload.engine.runner import add_extras, complete_results
from mcpload.findings import analyze
from mcpload.metrics import Recorder, build_results, evaluate, percentiles_needed
from mcpload.metrics.rebuild import load_results
from mcpload.profiles import Segment


class MergeError(ValueError):
    """Results that cannot be merged: one line naming the file and what is wrong."""


def merge_results(paths: list[str | Path], thresholds: list[Any] | None = None) -> dict[str, Any]:
    """Merge the results files of one run's segments.

    Args:
        paths: results JSON files (``mcpload run --segment i/N --out ...``).
        thresholds: parsed thresholds to evaluate on the merged data (the scenario's); None keeps the
            threshold expressions found in the files and evaluates them again.

    Returns:
        A results document (schema ``mcpload.results/1``) for the whole, with ``execution`` naming the
        segments merged and any share of the run that is missing.

    Raises:
        MergeError: a file is unreadable, has no per-interval state, belongs to another run (scenario,
            seed), or overlaps another file's segment.
    """
    if not paths:
        raise MergeError("merge: give at least one results file")
    parts = [_read(Path(p)) for p in paths]
    _check_same_run(parts)
    segments = _check_segments(parts)
    recorder = Recorder()
    intervals: list[dict[str, Any]] = []
    longest = max(len(p["intervals"]) for p in parts)
    for n in range(longest):
        t = 0.0
        active = target = 0
        for part in parts:
            if n < len(part["intervals"]):
                interval = part["intervals"][n]
                recorder.absorb(interval["state"])
                t = max(t, float(interval.get("t", 0.0)))
                active += int(interval.get("active_agents") or 0)
                target += int(interval.get("target_agents") or 0)
        recorder.active_agents, recorder.target_agents = active, target
        intervals.append(recorder.interval(t))
    first = parts[0]
    duration = max(float(p.get("duration_s") or 0.0) for p in parts)
    meta = {
        "started_at": min((p.get("started_at") or "") for p in parts) or None,
        "target": first.get("target"),
        "scenario": first.get("scenario"),
        "profiles": first.get("profiles"),
        "seed": first.get("seed"),
    }
    specs = thresholds if thresholds is not None else _threshold_specs(first)
    snapshot = recorder.snapshot(duration, percentiles=percentiles_needed(specs)) if specs else {}
    results = build_results(recorder, meta=meta, intervals=intervals, thresholds=[], duration_s=duration)
    results["findings"] = analyze(results)  # of the whole run, not of one segment
    results["thresholds"] = evaluate(specs, {**snapshot, "findings": results["findings"]}) if specs else []
    extras: dict[str, Any] = {}
    lost: list[dict[str, Any]] = []
    for part in parts:
        add_extras(extras, part)
        lost += (part.get("execution") or {}).get("lost", [])
    covered = sum((s.length for s in segments), Fraction(0))
    execution = {
        "backend": "merge",
        "workers": sum(int((p.get("execution") or {}).get("workers") or 1) for p in parts),
        "segments": [str(s) for s in segments],
        "files": [str(p) for p in paths],
        "per_worker": [
            {
                "name": part["_path"],
                "segment": str(_segment_of(part)),
                "calls": (part.get("totals") or {}).get("calls", 0),
                "ok": (part.get("totals") or {}).get("ok", 0),
            }
            for part in parts
        ],
        "covered": float(covered),
        "missing": [str(s) for s in _gaps(segments)],
        "lost": lost,
    }
    complete_results(
        results,
        SimpleNamespace(price_per_1k=_price(first)),  # what complete_results reads of a scenario
        extras,
        execution,
        next((p["aborted_by"] for p in parts if p.get("aborted_by")), None),
        any(p.get("stopped_by_user") for p in parts),
    )
    return results


def _read(path: Path) -> dict[str, Any]:
    try:
        results = load_results(path)
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: {exc}") from None
    intervals = results.get("intervals")
    if not isinstance(intervals, list):
        raise MergeError(f"{path}: intervals: missing (not a results file of mcpload run?)")
    for i, interval in enumerate(intervals):
        if not isinstance(interval, dict) or not isinstance(interval.get("state"), dict):
            raise MergeError(
                f"{path}: intervals[{i}].state: missing; only runs of one segment (mcpload run --segment i/N) "
                "keep the exact state that merging needs"
            )
    results["_path"] = str(path)
    return results


def _check_same_run(parts: list[dict[str, Any]]) -> None:
    first = parts[0]
    for part in parts[1:]:
        for key in ("scenario", "seed"):
            if part.get(key) != first.get(key):
                raise MergeError(
                    f"{part['_path']}: {key}: {part.get(key)!r} differs from {first['_path']}'s {first.get(key)!r}; "
                    "merge the segments of one run (same scenario, same seed)"
                )


def _segment_of(part: dict[str, Any]) -> Segment:
    execution = part.get("execution") or {}
    segments = execution.get("segments") or []
    try:
        parsed = [Segment.parse(s) for s in segments]
    except ValueError as exc:
        raise MergeError(f"{part['_path']}: execution.segments: {exc}") from None
    if not parsed:
        raise MergeError(f"{part['_path']}: execution.segments: missing")
    return Segment(min(s.start for s in parsed), max(s.end for s in parsed))


def _check_segments(parts: list[dict[str, Any]]) -> list[Segment]:
    named = sorted(((_segment_of(p), p["_path"]) for p in parts), key=lambda sp: sp[0].start)
    for (a, path_a), (b, path_b) in itertools.pairwise(named):
        if b.start < a.end:
            raise MergeError(
                f"{path_b}: execution.segments: {b} overlaps {a} of {path_a}; each segment once (a file twice?)"
            )
    return [s for s, _ in named]


def _gaps(segments: list[Segment]) -> list[Segment]:
    gaps, at = [], Fraction(0)
    for s in segments:
        if s.start > at:
            gaps.append(Segment(at, s.start))
        at = max(at, s.end)
    if at < 1:
        gaps.append(Segment(at, Fraction(1)))
    return gaps


def _threshold_specs(results: dict[str, Any]) -> list[Any]:
    from mcpload.metrics import parse_thresholds

    mapping: dict[str, list[str]] = {}
    for t in results.get("thresholds") or []:
        if isinstance(t, dict) and t.get("metric") and t.get("expr"):
            mapping.setdefault(t["metric"], []).append(t["expr"])
    return parse_thresholds(mapping) if mapping else []


def _price(results: dict[str, Any]) -> float | None:
    conv = results.get("conversations") or {}
    tokens, cost = conv.get("wasted_tokens"), conv.get("wasted_cost")
    if tokens and cost:
        return float(cost * 1000 / tokens)
    return None
