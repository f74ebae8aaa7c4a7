"""``generator-bound``: mcpload itself was the bottleneck for part of the run (its event loop
lagged), so those seconds say nothing about the server and no server finding is drawn from them."""

from __future__ import annotations

from mcpload.findings.base import GENERATOR_LAG_MS, Finding, RunView, generator_bound, span

SIGNATURE = f"mcpload's own event-loop lag (loop_lag_ms per interval) above {GENERATOR_LAG_MS:g} ms"


def detect(view: RunView) -> list[Finding]:
    bound = [iv for iv in view.intervals if generator_bound(iv)]
    if not bound:
        return []
    lags = [view.num(iv, "loop_lag_ms") for iv in bound]
    share = len(bound) / len(view.intervals)
    return [
        Finding(
            "generator-bound",
            "warning" if share >= 0.1 else "info",
            f"mcpload itself was the bottleneck in {len(bound)} of {len(view.intervals)} intervals "
            f"(event-loop lag up to {max(lags):.0f} ms)",
            "Run with more worker processes (--workers N), fewer agents per process, or a faster machine; "
            "the marked seconds are left out of every server finding.",
            evidence={
                "intervals": len(bound),
                "share": round(share, 4),
                "max_loop_lag_ms": round(max(lags), 3),
                "seconds": [view.t(iv) for iv in bound][:50],
                "limit_ms": GENERATOR_LAG_MS,
            },
            interval=span(bound),
            charts=("loop_lag",),
        )
    ]
