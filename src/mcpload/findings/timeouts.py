"""``timeout-cliff``: failures that cluster at one latency (all at ≈ 2 s, 30 s, 60 s) while nothing
succeeds beyond it: a proxy, gateway or client timeout shorter than the tool."""

from __future__ import annotations

from mcpload.findings.base import Finding, RunView

SIGNATURE = (
    "failed calls of one outcome kind whose latencies sit in a narrow band (p10 … p90 within 5 %) at ≥ 250 ms, "
    "with no call succeeding beyond it (failure_latency_ms, histograms.__all__)"
)
MIN_FAILURES = 5
MIN_CLIFF_MS = 250.0
BAND = 0.05  # (p90 - p10) / p50


def detect(view: RunView) -> list[Finding]:
    table = view.section("failure_latency_ms")
    failed_total = view.num(view.section("totals"), "failed")
    calls_total = view.num(view.section("totals"), "calls")
    out = []
    for kind, s in sorted(table.items()):
        if not isinstance(s, dict):
            continue
        count, p10, p50, p90 = (view.num(s, k) for k in ("count", "p10", "p50", "p90"))
        if count < MIN_FAILURES or p50 < MIN_CLIFF_MS or (p90 - p10) > max(BAND * p50, 25.0):
            continue
        beyond = _calls_at_or_above(view, p10 * 0.98)
        if beyond is not None and beyond > count * 1.1 + 2:
            continue  # calls succeeded at that latency too: a slow band, not a cut
        share = count / calls_total if calls_total else 0.0
        who = "mcpload's own call timeout" if kind == "timeout" else "a proxy, gateway or server timeout"
        out.append(
            Finding(
                "timeout-cliff",
                "critical" if share >= 0.05 else "warning",
                f"{int(count)} {kind} failures all at ≈ {p50 / 1000:.3g} s: {who} shorter than the calls",
                f"Something cuts calls at about {p50 / 1000:.3g} s ({who}). Raise that timeout above the tool's "
                "slowest legitimate latency, or make long tools report progress / run as tasks.",
                evidence={
                    "kind": kind,
                    "cliff_ms": round(p50, 3),
                    "failures": int(count),
                    "share_of_failures": round(count / failed_total, 4) if failed_total else None,
                    "share_of_calls": round(share, 4),
                    "p10_ms": p10,
                    "p90_ms": p90,
                },
                charts=("latency", "distribution", "errors_time"),
            )
        )
    return out


def _calls_at_or_above(view: RunView, value_ms: float) -> int | None:
    """First attempts whose latency was ≥ ``value_ms`` (from the ``__all__`` histogram), or None."""
    encoded = view.section("histograms").get("__all__")
    if not isinstance(encoded, str):
        return None
    from mcpload.metrics import decode_histogram

    try:
        hist = decode_histogram(encoded)
    except ValueError:
        return None
    threshold_us = value_ms * 1000
    count: int = sum(  # hdrh is untyped
        item.count_at_value_iterated_to
        for item in hist.get_recorded_iterator()
        if item.value_iterated_to >= threshold_us
    )
    return count
