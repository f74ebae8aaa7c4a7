"""Findings that read the load shape: how errors and latency change with the number of agents.

The usable intervals are grouped by load (``load_of``: the agents the profiles wanted) into levels
of at least ``MIN_LEVEL_CALLS`` calls; the lowest level is the baseline. From it:

- ``baseline-error-rate``: calls already fail at the lowest load, a property of the server and not
  a capacity limit (its 95 % Wilson interval is above 0);
- ``error-burst-at-spike``: the error rate at a higher load is above the baseline's with 95 %
  confidence (Wilson intervals apart) and at least ``BURST_MIN_RISE`` more: errors follow the load;
- ``capacity-knee``: the median p95 latency of the highest level is ``KNEE_FACTOR`` times the
  baseline's (and ``KNEE_MIN_MS`` more), and so are ``KNEE_MIN_INTERVALS`` intervals at least:
  latency follows the load; it starts at the first level from which every level (two at least) is
  ``KNEE_START`` times slower than the baseline.

Failures on the transport (refused, reset) and expired sessions are left to ``connection-limit``,
``restart-recovery`` and ``session-affinity``. Each finding states
the load level at which it starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any

from mcpload.findings.base import Finding, RunView, span
from mcpload.metrics.confidence import wilson

MIN_LEVEL_CALLS = 30
MIN_VARIATION = 1.5  # highest load / lowest load, for a load shape to be read at all
BURST_MIN_RISE = 0.02  # error rate, absolute
KNEE_FACTOR = 3.0
KNEE_MIN_MS = 100.0  # a busy host moves a healthy server's p95 by tens of ms
KNEE_START = 1.5  # the knee starts at the first level this much slower than the baseline
KNEE_MIN_INTERVALS = 2  # intervals above the baseline reaching the knee's rise (one slow second is not one)
SIGNATURES = {
    "baseline-error-rate": "failed calls at the lowest load level (95 % Wilson interval above 0)",
    "error-burst-at-spike": "error rate (transport failures aside) per load level (target agents) rising above "
    "the baseline's, Wilson intervals apart",
    "capacity-knee": f"median interval p95 per load level reaching {KNEE_FACTOR:g}x the lowest level's, in "
    f"{KNEE_MIN_INTERVALS} intervals at least (starting where every higher level stays above {KNEE_START:g}x)",
}


@dataclass
class Level:
    """Usable intervals of similar load, summed."""

    low: float
    high: float
    intervals: list[dict[str, Any]]
    calls: int = 0
    failed: int = 0

    @property
    def rate(self) -> float:
        return self.failed / self.calls if self.calls else 0.0

    def interval95(self) -> tuple[float, float]:
        return wilson(self.failed, self.calls) or (0.0, 1.0)

    def p95(self) -> float | None:
        values = [v for iv in self.intervals if (v := RunView.num(iv, "p95_ms", -1.0)) >= 0]
        return median(values) if values else None

    def label(self) -> str:
        return f"{self.low:g}" if self.low == self.high else f"{self.low:g}–{self.high:g}"


def load_of(interval: dict[str, Any]) -> float:
    """The load of an interval: the agents the profiles wanted (``target_agents``), else those running."""
    target = RunView.num(interval, "target_agents")
    return target if target > 0 else RunView.num(interval, "active_agents")


def connection_failures(interval: dict[str, Any]) -> int:
    """Calls that failed on the transport (refused, reset) and sessions that could not open."""
    return RunView.errors(interval).get("transport", 0) + int(RunView.num(interval, "sessions_failed"))


#: Failures that are about connections and sessions, each read by a finding of its own
#: (connection-limit, restart-recovery, session-affinity), not by the load findings.
NOT_LOAD_KINDS = ("transport", "session_expired")


def server_failures(interval: dict[str, Any]) -> int:
    """Failed calls the server answered (or timed out): every failure but ``NOT_LOAD_KINDS``."""
    errors = RunView.errors(interval)
    return int(RunView.num(interval, "failed")) - sum(errors.get(kind, 0) for kind in NOT_LOAD_KINDS)


def levels(view: RunView, failures: Callable[[dict[str, Any]], int] = server_failures) -> list[Level]:
    """The usable intervals with calls, by load (``load_of``), merged upwards until each level holds
    ``MIN_LEVEL_CALLS`` calls (a last short level joins the one before); ``failures`` counts what
    fails in an interval."""
    # Intervals with no load wanted (ramp-down, drain) say nothing about a load level.
    rows = [iv for iv in view.usable if view.num(iv, "calls") > 0 and load_of(iv) > 0]
    rows.sort(key=load_of)
    out: list[Level] = []
    current: Level | None = None
    for iv in rows:
        load = load_of(iv)
        if current is None or (current.calls >= MIN_LEVEL_CALLS and load > current.high):
            current = Level(load, load, [])
            out.append(current)
        current.high = load
        current.intervals.append(iv)
        current.calls += int(view.num(iv, "calls"))
        current.failed += max(failures(iv), 0)
    if len(out) > 1 and out[-1].calls < MIN_LEVEL_CALLS:
        last = out.pop()
        into = out[-1]
        into.high, into.calls, into.failed = last.high, into.calls + last.calls, into.failed + last.failed
        into.intervals += last.intervals
    return out


def varies(found: list[Level]) -> bool:
    """True when the load changed enough for a load shape to be read."""
    return len(found) >= 2 and found[-1].high >= MIN_VARIATION * max(found[0].low, 1.0)


def rises(base: Level, level: Level) -> bool:
    """True when ``level``'s failure rate is above ``base``'s with 95 % confidence, by ``BURST_MIN_RISE``."""
    return level.interval95()[0] > base.interval95()[1] and level.rate - base.rate >= BURST_MIN_RISE


def _level_table(found: list[Level]) -> list[dict[str, Any]]:
    return [
        {"agents": lv.label(), "calls": lv.calls, "error_rate": round(lv.rate, 4), "p95_ms": lv.p95()} for lv in found
    ]


def baseline_error_rate(view: RunView) -> list[Finding]:
    found = levels(view)
    if not found:
        return []
    base = found[0]
    low, high = base.interval95()
    if base.failed < 3 or low <= 0:
        return []
    ops = _op_rates(view)
    worst = ", ".join(f"{name} {rate:.1%}" for name, rate, _ in ops[:3])
    return [
        Finding(
            "baseline-error-rate",
            "warning" if base.rate >= 0.01 else "info",
            f"{base.rate:.2%} of calls fail already at the lowest load ({base.label()} agents): "
            f"a property of the server, not of load" + (f" ({worst})" if worst else ""),
            "Fix or accept these failures apart from capacity work; capacity and error-burst verdicts are "
            "measured relative to this baseline.",
            evidence={
                "agents": base.label(),
                "calls": base.calls,
                "failed": base.failed,
                "error_rate": round(base.rate, 5),
                "error_rate_low": round(low, 5),
                "error_rate_high": round(high, 5),
                "operations": [{"operation": n, "error_rate": round(r, 4), "calls": c} for n, r, c in ops[:5]],
            },
            interval=span(base.intervals),
            charts=("errors_time", "errors_ops"),
        )
    ]


def _op_rates(view: RunView) -> list[tuple[str, float, int]]:
    """Per operation over the run: ``(name, failure rate, calls)`` of the failures the load findings read."""
    rates = []
    for name, op in view.section("operations").items():
        calls = int(view.num(op, "calls"))
        errors = op.get("errors") if isinstance(op, dict) else None
        counts: dict[str, Any] = errors if isinstance(errors, dict) else {}
        failed = sum(n for kind, n in counts.items() if kind not in NOT_LOAD_KINDS and isinstance(n, int))
        if calls and failed:
            rates.append((str(name), failed / calls, calls))
    return sorted(rates, key=lambda r: -r[1])


def error_burst(view: RunView) -> list[Finding]:
    found = levels(view)
    if not varies(found):
        return []
    base = found[0]
    for i, level in enumerate(found[1:], start=1):
        if not rises(base, level):
            continue
        peak = max(found, key=lambda lv: lv.rate)
        return [
            Finding(
                "error-burst-at-spike",
                "critical" if peak.rate >= 0.1 else "warning",
                f"errors follow the load: {base.rate:.2%} at {base.label()} agents, {level.rate:.2%} from "
                f"{level.label()} agents (peak {peak.rate:.1%} at {peak.label()})",
                f"The server fails under load from about {level.low:g} concurrent agents: find the limit that "
                "is reached (concurrency cap, pool, queue, rate limit) and raise it, or keep the load below.",
                evidence={
                    "starts_at_agents": level.low,
                    "baseline_agents": base.label(),
                    "baseline_error_rate": round(base.rate, 5),
                    "error_rate": round(level.rate, 5),
                    "error_rate_low": round(level.interval95()[0], 5),
                    "peak_error_rate": round(peak.rate, 5),
                    "levels": _level_table(found),
                },
                interval=span([iv for lv in found[i:] for iv in lv.intervals]),
                charts=("throughput", "agents", "errors_time"),
            )
        ]
    return []


def capacity_knee(view: RunView) -> list[Finding]:
    found = levels(view)
    if not varies(found):
        return []
    base_p95 = found[0].p95()
    if base_p95 is None:
        return []
    top = max((lv.p95() or 0.0) for lv in found)
    if top < KNEE_FACTOR * base_p95 or top - base_p95 < KNEE_MIN_MS:
        return []
    # The rise itself persists too: a host that starved the server for a second (its p95 a few times the
    # baseline's there, a little above it around) shows one such interval, a saturated server several.
    slow = max(KNEE_FACTOR * base_p95, base_p95 + KNEE_MIN_MS)
    if sum(RunView.num(iv, "p95_ms", -1.0) >= slow for lv in found[1:] for iv in lv.intervals) < KNEE_MIN_INTERVALS:
        return []
    for i, level in enumerate(found[1:], start=1):
        p95 = level.p95()
        above = [lv.p95() for lv in found[i:]]
        # A knee persists as the load grows: one slow second (a busy host) is not one.
        if p95 is None or len(above) < 2 or any(v is None or v < KNEE_START * base_p95 for v in above):
            continue
        return [
            Finding(
                "capacity-knee",
                "warning",
                f"latency follows the load: p95 {base_p95:.0f} ms at {found[0].label()} agents, "
                f"{p95:.0f} ms from {level.label()} agents (up to {top:.0f} ms)",
                f"The server saturates at about {level.low:g} concurrent agents (calls queue): that is its "
                "capacity at this mix; scale out, or raise the limit that makes calls wait.",
                evidence={
                    "starts_at_agents": level.low,
                    "baseline_agents": found[0].label(),
                    "baseline_p95_ms": round(base_p95, 3),
                    "p95_ms": round(p95, 3),
                    "max_p95_ms": round(top, 3),
                    "levels": _level_table(found),
                },
                interval=span([iv for lv in found[i:] for iv in lv.intervals]),
                charts=("latency", "agents", "op_latency"),
            )
        ]
    return []
