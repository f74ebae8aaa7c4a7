"""``event-loop-blocking`` (head-of-line blocking): cheap calls get slow while slow calls run, as when
a synchronous tool stalls an async server. Read from the canary (``options.canary``): a cheap call at
a fixed rate beside the load, whose latency should not depend on what else runs."""

from __future__ import annotations

from mcpload.findings.base import Finding, RunView
from mcpload.findings.sessions import _fit

SIGNATURE = (
    "the canary's p95 latency ≥ 10x its quiet latency (p10) and 50 ms more, ≥ 30 % of the slowest operation's "
    "median (itself ≥ 50 ms) and ≤ 3x its p95: cheap calls wait for slow ones; correlation with that "
    "operation's calls in flight per interval"
)
MIN_CANARY_CALLS = 5
STALL_FACTOR = 10.0
STALL_MIN_MS = 50.0  # a busy healthy Python server delays a ping by tens of ms
SHARE_OF_SLOW = 0.3
SLOW_MIN_MS = 50.0  # the slow calls the canary would wait for: at least this median
MAX_SLOW_MULTIPLE = 3.0  # a canary slower than this many slow calls waits for a saturated server instead
SESSION_OPS = ("initialize", "server/discover", "ping")  # setup, not the slow calls of a workload


def detect(view: RunView) -> list[Finding]:
    canary = view.section("canary")
    latency = canary.get("latency_ms")
    if not isinstance(latency, dict) or view.num(latency, "count") < MIN_CANARY_CALLS:
        return []
    quiet, p95 = view.num(latency, "p10"), view.num(latency, "p95")
    if p95 < STALL_FACTOR * max(quiet, 1.0) or p95 - quiet < STALL_MIN_MS:
        return []
    slow_name, slow_p50, slow_p95 = _slowest(view, str(canary.get("call")))
    if slow_name is None or slow_p50 < SLOW_MIN_MS or slow_p50 < STALL_FACTOR * max(quiet, 1.0):
        return []  # no slow calls to wait for: a stalled canary there is a saturated server (capacity-knee)
    if p95 < SHARE_OF_SLOW * slow_p50 or p95 > MAX_SLOW_MULTIPLE * slow_p95:
        return []  # not waiting for one slow call: if slower than those, the whole server is saturated
    r = _correlation(view, slow_name)
    return [
        Finding(
            "event-loop-blocking",
            "critical" if p95 >= 0.8 * slow_p50 else "warning",
            f"cheap calls wait for slow ones: the canary ({canary.get('call')}) takes {quiet:.0f} ms when quiet, "
            f"p95 {p95:.0f} ms under load, close to {slow_name} ({slow_p50:.0f} ms)",
            f"Something in the server blocks while {slow_name} runs: a synchronous call (sleep, file or network "
            "I/O, CPU work) inside an async handler, or a lock held across it. Make it async, or move it to a "
            "thread or worker pool.",
            evidence={
                "canary": canary.get("call"),
                "canary_quiet_ms": quiet,
                "canary_p95_ms": p95,
                "slow_operation": slow_name,
                "slow_p50_ms": slow_p50,
                "correlation_with_slow_in_flight": None if r is None else round(r, 3),
            },
            charts=("canary", "latency", "op_latency"),
        )
    ]


def _slowest(view: RunView, canary_op: str) -> tuple[str | None, float, float]:
    """The operation of the workload with the highest median: ``(name, p50, p95)``."""
    best: tuple[str | None, float, float] = (None, 0.0, 0.0)
    for name, op in view.section("operations").items():
        latency = op.get("latency_ms") if isinstance(op, dict) else None
        p50 = view.num(latency, "p50") if isinstance(latency, dict) else 0.0
        if name != canary_op and name not in SESSION_OPS and p50 > best[1]:
            best = (str(name), p50, view.num(latency, "p95"))
    return best


def _correlation(view: RunView, slow: str) -> float | None:
    """Pearson r between the slow operation's calls in flight (calls × p95, Little's law) and the
    canary's worst latency, per interval; None when either does not vary."""
    xs, ys = [], []
    for iv in view.usable:
        op = iv.get("ops", {}).get(slow) if isinstance(iv.get("ops"), dict) else None
        sample = iv.get("canary")
        if not isinstance(op, dict) or not isinstance(sample, dict) or sample.get("max_ms") is None:
            continue
        xs.append(view.num(op, "calls") * view.num(op, "p95_ms") / 1000)
        ys.append(view.num(sample, "max_ms"))
    if len(xs) < 3:
        return None
    fit = _fit(xs, ys)
    if fit is None or fit[1] == 0:
        return None
    root: float = fit[1] ** 0.5  # typeshed: float ** float may be complex; fit[1] (r²) is never negative
    return root * (1 if fit[0] >= 0 else -1)
