"""Recovery: overload the server, drop back to half the ceiling in the same run, and measure how long
until the SLOs hold again, interval by interval (or that they never do within the timeout)."""

from __future__ import annotations

from typing import Any

from mcpload.capacity.measure import StepRunner, profile_for
from mcpload.capacity.probe import WindowProbe
from mcpload.capacity.settings import RECOVERY_HOLD
from mcpload.capacity.slo import evaluate


def recovery_load(ceiling: float, integer: bool) -> float:
    """Half the ceiling (at least one agent)."""
    half = ceiling / 2
    return float(max(1, round(half))) if integer else half


def first_recovered(intervals: list[dict[str, Any]], hold: int = RECOVERY_HOLD) -> dict[str, Any] | None:
    """The first interval that starts ``hold`` consecutive passing ones (fewer when the run ends first
    and every remaining interval passed); None when the SLOs never held that long."""
    for i, iv in enumerate(intervals):
        run = intervals[i : i + hold]
        if all(r["passed"] for r in run) and (len(run) == hold or i + len(run) == len(intervals)):
            return iv
    return None


async def measure_recovery(runner: StepRunner, overload: float, ceiling: float) -> dict[str, Any]:
    """Run ``overload`` for a warm-up plus a step, then half the ceiling for the recovery timeout.

    Returns:
        ``{"overload", "load", "drop_at_s", "timeout_s", "recovered", "recovery_s", "hold_intervals",
        "overload_held", "intervals": [{"t", "calls", "success_rate", "p95_ms", "passed"}]}``;
        ``recovery_s`` is the time from the drop to the end of the first interval of a passing run
        (1 s resolution), None when the SLOs did not hold again within the timeout.
    """
    s = runner.settings
    load = recovery_load(ceiling, s.integer)
    drop_at = s.warmup_s + s.step_s
    profiles = [
        profile_for(s, overload, drop_at),
        profile_for(s, load, s.recovery_timeout_s, start_s=drop_at),
    ]
    probe = WindowProbe(warmup_s=0, every_interval=True)
    report = await runner.run(profiles, probe, "capacity recovery")
    judged = []
    for window in probe.per_interval(report.results, after_s=0):
        checks = evaluate(runner.slos, window, runner.baseline_error)
        judged.append(
            {
                "t": window["t"],
                "phase": "overload" if window["t"] <= drop_at + 0.05 else "recovery",
                "calls": window["calls"],
                "success_rate": window["ok"] / window["calls"] if window["calls"] else None,
                "p95_ms": (window["latency_ms"] or {}).get("p95"),
                # one second holds too few calls to show a rate SLO with confidence: an interval
                # holds when no SLO is decidedly broken in it
                "passed": all(c["verdict"] != "fail" for c in checks),
            }
        )
    after = [iv for iv in judged if iv["phase"] == "recovery"]
    overloaded = [iv for iv in judged if iv["phase"] == "overload"]
    found = first_recovered(after)
    return {
        "overload": overload,
        "load": load,
        "drop_at_s": drop_at,
        "timeout_s": s.recovery_timeout_s,
        "hold_intervals": RECOVERY_HOLD,
        "overload_held": bool(overloaded) and all(iv["passed"] for iv in overloaded[-3:]),
        "recovered": found is not None,
        "recovery_s": None if found is None else round(found["t"] - drop_at, 1),
        "interrupted": report.interrupted,
        "intervals": judged,
    }
