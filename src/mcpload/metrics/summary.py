"""The shape of cumulative summaries: plain dicts built from the recorder's counts and timings
(``Recorder.snapshot`` and the results document share them)."""

from __future__ import annotations

from typing import Any

from mcpload.metrics.counters import Counters
from mcpload.metrics.histogram import LatencySummary
from mcpload.outcome import KINDS, OK

TOP_ERRORS = 10


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is 0 (no data is not 100 %)."""
    return part / whole if whole else None


def per_second(n: int, elapsed_s: float) -> float | None:
    """``n / elapsed_s`` rounded to 3 dp, or None for an empty time span."""
    return round(n / elapsed_s, 3) if elapsed_s > 0 else None


def error_counts(kinds: dict[str, int]) -> dict[str, int]:
    """The non-ok, non-zero kinds, in the order of ``outcome.KINDS`` (unknown kinds last)."""
    order = {kind: i for i, kind in enumerate(KINDS)}
    ranked = sorted(kinds.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return {k: n for k, n in ranked if k != OK and n}


def operation_summary(
    first: dict[str, int],
    retries: dict[str, int],
    latency: LatencySummary | None,
    retry_latency: LatencySummary | None,
    elapsed_s: float,
) -> dict[str, Any]:
    """One entry of ``operations``.

    Args:
        first: counts by kind of first attempts.
        retries: counts by kind of retries.
        latency: first-attempt latency summary (ms), None when there were none.
        retry_latency: retry latency summary (ms), None when there were none.
        elapsed_s: run time, for ``calls_per_s``.
    """
    kinds = dict(first)
    for kind, n in retries.items():
        kinds[kind] = kinds.get(kind, 0) + n
    calls = sum(kinds.values())
    ok = kinds.get(OK, 0)
    out: dict[str, Any] = {
        "calls": calls,
        "ok": ok,
        "failed": calls - ok,
        "success_rate": ratio(ok, calls),
        "calls_per_s": per_second(calls, elapsed_s),
        "errors": error_counts(kinds),
        "latency_ms": latency,
        "retries": sum(retries.values()),
    }
    if retry_latency is not None:
        out["retry_latency_ms"] = retry_latency
    return out


def top_errors(messages: dict[tuple[str, str, str], int], n: int = TOP_ERRORS) -> list[dict[str, Any]]:
    """The ``n`` most frequent (kind, operation, message) triples, most frequent first."""
    ranked = sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [{"kind": k, "operation": op, "message": msg, "count": c} for (k, op, msg), c in ranked]


def run_summary(
    *,
    operations: dict[str, dict[str, Any]],
    counters: Counters,
    elapsed_s: float,
    latency: LatencySummary | None,
    corrected: LatencySummary | None,
    retry_latency: LatencySummary | None,
    setup: LatencySummary | None,
    late: LatencySummary | None,
    messages: dict[tuple[str, str, str], int],
    out_of_range: int,
) -> dict[str, Any]:
    """The cumulative summary: totals, latency, operations, errors, sessions, conversations, arrivals.

    Args:
        operations: ``operation_summary`` dicts by operation.
        counters: the recorder's ``Counters`` over the run.
        elapsed_s: run time, for the rates.
        latency, corrected, retry_latency, setup, late: timing summaries (ms) or None.
        messages: error message counts by (kind, operation, message).
        out_of_range: values clamped into the histograms' range.
    """
    calls = sum(op["calls"] for op in operations.values())
    ok = sum(op["ok"] for op in operations.values())
    kinds: dict[str, int] = {}
    for op in operations.values():
        for kind, n in op["errors"].items():
            kinds[kind] = kinds.get(kind, 0) + n
    started, failed = counters.sessions_started, counters.sessions_failed
    conv_ok, conv_failed = counters.conversations_ok, counters.conversations_failed
    tool_calls = sum(op["calls"] for name, op in operations.items() if name.startswith("tools/call"))
    tool_ok = sum(op["ok"] for name, op in operations.items() if name.startswith("tools/call"))
    out: dict[str, Any] = {
        "totals": {
            "calls": calls,
            "ok": ok,
            "failed": calls - ok,
            "success_rate": ratio(ok, calls),
            "calls_per_s": per_second(calls, elapsed_s),
            "retries": sum(op["retries"] for op in operations.values()),
            "bytes_sent": counters.bytes_sent,
            "bytes_received": counters.bytes_received,
            "out_of_range": out_of_range,
            # the tools' own success, apart from initialize, server/discover and listings
            "tool_calls": tool_calls,
            "tool_ok": tool_ok,
            "tool_success_rate": ratio(tool_ok, tool_calls),
        },
        "latency_ms": latency,
    }
    if corrected is not None:
        out["latency_corrected_ms"] = corrected
    if retry_latency is not None:
        out["retry_latency_ms"] = retry_latency
    out["operations"] = operations
    out["errors"] = error_counts(kinds)
    out["top_errors"] = top_errors(messages)
    out["sessions"] = {
        "started": started,
        "completed": counters.sessions_closed,
        "failed": failed,
        "success_rate": ratio(started - failed, started),
        "setup_ms": {"p50": setup["p50"], "p95": setup["p95"], "max": setup["max"]} if setup else None,
    }
    out["conversations"] = {
        "completed": conv_ok + conv_failed,
        "ok": conv_ok,
        "failed": conv_failed,
        "success_rate": ratio(conv_ok, conv_ok + conv_failed),
        "tokens": counters.tokens,
        "wasted_tokens": counters.wasted_tokens,
    }
    if counters.arrivals:
        out["arrivals"] = {
            "scheduled": counters.arrivals,
            "started": counters.arrivals - counters.dropped,
            "dropped": counters.dropped,
            "late_p99_ms": late["p99"] if late else None,
        }
    return out
