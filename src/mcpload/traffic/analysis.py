"""``mcpload analyze``: what recorded traffic looks like, as one JSON-ready dict.

``analyze(trace)`` returns sessions, conversations, gaps (think and idle, each fitted),
burstiness against a Poisson process of the same rate, the tool mix, the transition matrix
between workflow states, batch sizes, errors and argument variety per tool, and personas (groups
of sessions that behave alike). ``behaviour(sessions)`` is the per-group part that ``fit`` turns
into an agent type.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from mcpload.traffic import stats
from mcpload.traffic.clusters import personas
from mcpload.traffic.sessions import END, START, Session, build_sessions, gaps_by_kind, split_conversations
from mcpload.traffic.trace import Trace

BURST_WINDOWS = (1.0, 10.0, 60.0)
MAX_BINS = 3600  # points of the concurrency series
MAX_DISTINCT = 200  # recorded argument sets kept per tool (for fit's data file)


def analyze(trace: Trace, idle_threshold: float | None = None, keep_gaps: bool = False) -> dict[str, Any]:
    """Characterise a trace.

    Args:
        trace: The trace read back.
        idle_threshold: Gaps longer than this (seconds) separate conversations; None: found from the
            gap distribution (Otsu on log gaps; no split when the gaps form one class).
        keep_gaps: Also return every gap (``gap_values``: think and idle lists, for the page's histogram).
    """
    sessions = build_sessions(trace)
    all_gaps = [g for s in sessions for g in s.gaps()]
    found, separation = stats.otsu_threshold(all_gaps)
    threshold = idle_threshold if idle_threshold is not None else found
    split_conversations(sessions, threshold)
    calls = [c for s in sessions for c in s.calls]
    span = _span(trace, sessions)
    groups = personas(sessions)
    out = {
        "trace": {
            "path": trace.path,
            "format": trace.header.get("format"),
            "source": trace.header.get("source"),
            "upstream": trace.header.get("upstream"),
            "skipped_lines": trace.skipped,
            "duration_s": span,
            "calls": len(calls),
            "methods": dict(Counter(c["method"] for c in trace.calls).most_common()),
        },
        "idle_threshold": {
            "seconds": threshold,
            "found": found,
            "separation": round(separation, 3),
            "set_by": "option" if idle_threshold is not None else "gap distribution",
        },
        "sessions": _sessions(sessions, span),
        "burstiness": burstiness([c["t"] for c in calls], span),
        **behaviour(sessions, threshold),
        "personas": [
            {
                "name": name,
                "share": round(len(group) / len(sessions), 4),
                "sessions": len(group),
                "tools": sorted({c["tool"] for s in group for c in s.calls}),
                **behaviour(group, threshold),
            }
            for name, group in groups
        ],
    }
    if keep_gaps:
        think, idle = gaps_by_kind(sessions, threshold)
        out["gap_values"] = {"think": think, "idle": idle}
    return out


def behaviour(sessions: Sequence[Session], threshold: float | None) -> dict[str, Any]:
    """What a group of sessions does: conversations, gaps, tools, transitions, batches, errors, arguments."""
    think, idle = gaps_by_kind(sessions, threshold)
    convs = [c for s in sessions for c in s.conversations]
    calls = [c for s in sessions for c in s.calls]
    tools = Counter(c["tool"] for c in calls)
    transitions: dict[str, Counter[str]] = {}
    for conv in convs:
        states = [START, *conv.states(), END]
        for a, b in itertools.pairwise(states):
            transitions.setdefault(a, Counter())[b] += 1
    batch_sizes: dict[str, Counter[int]] = {}
    for s in sessions:
        for batch in s.batches:
            batch_sizes.setdefault(batch.state, Counter())[len(batch.calls)] += 1
    sizes = Counter(len(b.calls) for s in sessions for b in s.batches)
    return {
        "conversations": {
            "count": len(convs),
            "per_session": stats.summary([len(s.conversations) for s in sessions]),
            "calls": stats.summary([len(c.calls) for c in convs]),
            "chain_length": stats.summary([len(c.batches) for c in convs]),
            "duration_s": stats.summary([c.batches[-1].end - c.batches[0].start for c in convs]),
        },
        "gaps": {"think": _fitted(think), "idle": _fitted(idle)},
        "tools": {
            name: {"calls": n, "share": round(n / len(calls), 4), **_per_tool([c for c in calls if c["tool"] == name])}
            for name, n in tools.most_common()
        },
        "transitions": {a: dict(row.most_common()) for a, row in transitions.items()},
        "batches": {
            "sizes": {str(k): v for k, v in sorted(sizes.items())},
            "parallel_share": round(sum(v for k, v in sizes.items() if k > 1) / max(1, sum(sizes.values())), 4),
            "by_state": {st: {str(k): v for k, v in sorted(c.items())} for st, c in batch_sizes.items()},
        },
    }


def _fitted(values: list[float]) -> dict[str, Any]:
    fit = stats.best_fit(values)
    if fit["n"] == 0:
        return {"n": 0, "summary": {"count": 0}}
    return {
        "n": fit["n"],
        "summary": stats.summary(values),
        "best": fit["best"].to_dict(),
        "scenario": fit["best"].scenario(),
        "candidates": fit["candidates"],
        "ks_critical_5pct": round(fit["critical"], 4),
    }


def _per_tool(calls: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(c.get("outcome", "ok") for c in calls)
    distinct: dict[bytes, dict[str, Any]] = {}
    for c in calls:
        args = c.get("arguments")
        if isinstance(args, dict):
            key = orjson.dumps(args, option=orjson.OPT_SORT_KEYS)
            if key not in distinct and len(distinct) < MAX_DISTINCT:
                distinct[key] = args
    latencies = [c["latency"] for c in calls]
    return {
        "errors": round(1 - outcomes.get("ok", 0) / len(calls), 4),
        "outcomes": dict(outcomes.most_common()),
        "latency_s": {q: stats.percentile(latencies, n) for q, n in (("p50", 50), ("p95", 95), ("p99", 99))},
        "argument_variety": {
            "distinct": len(distinct),
            "ratio": round(len(distinct) / len(calls), 4),
            "recorded": isinstance(calls[0].get("arguments"), dict),
        },
        "argument_sets": list(distinct.values()),
    }


def burstiness(times: list[float], span: float) -> dict[str, Any]:
    """CV of inter-arrival gaps, index of dispersion and peak-to-mean per window, and what a Poisson
    process of the same rate gives (CV 1, dispersion 1, its own peak-to-mean)."""
    times = sorted(times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    rate = len(times) / span if span > 0 else 0.0
    windows = {}
    for w in BURST_WINDOWS:
        idc = stats.index_of_dispersion(times, w, span)
        if idc is None:
            continue
        windows[f"{w:g}s"] = {
            "dispersion": round(idc, 3),
            "peak_to_mean": _r(stats.peak_to_mean(times, w, span)),
            "poisson_peak_to_mean": _r(stats.poisson_peak_to_mean(rate, w, span)),
        }
    return {
        "rate_per_s": round(rate, 4),
        "gap_cv": round(stats.cv(gaps), 3),
        "poisson_gap_cv": 1.0,
        "gaps_s": stats.summary(gaps),
        "windows": windows,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _span(trace: Trace, sessions: list[Session]) -> float:
    ends = [s.end for s in sessions] + [c["t"] + c["latency"] for c in trace.calls]
    starts = [s.start for s in sessions] + [c["t"] for c in trace.calls]
    return max(ends) - min(starts) if starts else 0.0


def _sessions(sessions: list[Session], span: float) -> dict[str, Any]:
    starts = sorted(s.start for s in sessions)
    arrivals = [b - a for a, b in itertools.pairwise(starts)]
    origin = starts[0] if starts else 0.0
    step = max(1.0, span / MAX_BINS)  # one bin a second, coarser for traces longer than MAX_BINS seconds
    bins = min(MAX_BINS, int(span / step) + 1) if sessions else 0
    concurrency = [0] * bins
    for s in sessions:
        for i in range(max(0, int((s.start - origin) / step)), min(bins, int((s.end - origin) / step) + 1)):
            concurrency[i] += 1
    return {
        "count": len(sessions),
        "duration_s": stats.summary([s.end - s.start for s in sessions]),
        "calls": stats.summary([len(s.calls) for s in sessions]),
        "arrival_rate_per_s": round(len(sessions) / span, 5) if span > 0 else 0.0,
        "arrival_gap_cv": round(stats.cv(arrivals), 3),
        "arrival_gaps": _fitted(arrivals),
        "concurrency": {
            "max": max(concurrency, default=0),
            "mean": round(sum(concurrency) / len(concurrency), 3) if concurrency else 0.0,
            "bin_s": step,
            "series": concurrency,
        },
    }
