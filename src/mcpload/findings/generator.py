"""``generator-bound``: mcpload itself was the bottleneck for part of the run (its event loop
lagged), so those seconds say nothing about the server and no server finding is drawn from them."""

from __future__ import annotations

from mcpload.findings.base import GENERATOR_LAG_MS, Finding, RunView, generator_bound, span

SIGNATURE = f"mcpload's own event-loop lag (loop_lag_ms per interval) above {GENERATOR_LAG_MS:g} ms"


def detect(view: RunView) -> list[Finding]:
    bound = [iv for iv in view.intervals if generator_bound(iv)]
    if not bound:
        return []
    lags = [max(view.num(iv, "loop_lag_ms"), view.num(iv, "workers_loop_lag_ms")) for iv in bound]
    share = len(bound) / len(view.intervals)
    execution = view.section("execution")
    workers = int(view.num(execution, "workers", 1.0)) or 1
    used = f"this run used {workers} worker process{'es' if workers > 1 else ''}"
    adaptive = execution.get("adaptive")
    if isinstance(adaptive, dict):
        used += _auto_said(adaptive)
    return [
        Finding(
            "generator-bound",
            "warning" if share >= 0.1 else "info",
            f"mcpload itself was the bottleneck in {len(bound)} of {len(view.intervals)} intervals "
            f"(event-loop lag up to {max(lags):.0f} ms)",
            f"Spread the agents over more processes ({used}; --workers N, up to one per core, or several "
            "machines with --segment), or a faster machine. The marked seconds are left out of every server "
            "finding.",
            evidence={
                "intervals": len(bound),
                "share": round(share, 4),
                "max_loop_lag_ms": round(max(lags), 3),
                "seconds": [view.t(iv) for iv in bound][:50],
                "limit_ms": GENERATOR_LAG_MS,
                "workers": workers,
            },
            interval=span(bound),
            charts=("loop_lag",),
        )
    ]


def _auto_said(adaptive: dict[str, object]) -> str:
    """What ``--workers auto`` did about it, for the advice."""
    changes = adaptive.get("changes")
    added = [c for c in changes if isinstance(c, dict) and "failed" not in c] if isinstance(changes, list) else []
    cap = adaptive.get("max_workers")
    if isinstance(adaptive.get("stopped"), str):
        return f"; --workers auto could not add a worker: {adaptive['stopped']}"
    if added:
        return f"; --workers auto added {len(added)} during the run, up to its cap of {cap} (one per core)"
    return (
        "; --workers auto added none: a process must run hot for "
        f"{adaptive.get('hot_intervals')} s in a row with {adaptive.get('min_left_s')} s of load left, and at most "
        f"{cap} run"
    )
