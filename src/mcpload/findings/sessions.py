"""Findings about server-side sessions: memory kept per session (``session-leak``) and sessions the
server does not know on the next request (``session-affinity``)."""

from __future__ import annotations

import re
from itertools import accumulate

from mcpload.findings.base import Finding, RunView, span

LEAK_SIGNATURE = (
    "the target's RSS (monitoring) rising in step with sessions opened (cumulative), not with sessions "
    "active: regression slope ≥ 32 KiB per session, R² ≥ 0.8, ≥ 16 MiB growth; and, when the drain after "
    "the load was sampled, ≥ 16 MiB and half the growth still held once every session had ended"
)
AFFINITY_SIGNATURE = (
    "session_expired (unknown-session) errors from the first seconds on, in most intervals, ≥ 1 % of calls: "
    "they scale with load and replicas, not with session age"
)
STATUS_SIGNATURE = (
    "session_expired failures (top_errors) answered with an HTTP status other than 404; "
    "diagnose also probes it directly with an unknown Mcp-Session-Id"
)
_STATUS = re.compile(r"^HTTP (\d{3})\b")
MIN_SLOPE_BYTES = 32 * 1024
MIN_GROWTH_BYTES = 16 << 20
MIN_R2 = 0.8
MIN_RETAINED_SHARE = 0.5  # of the growth, still held after the drain: less came back than stayed
MIB = 1 << 20


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """Least-squares ``(slope, r²)``; None when x does not vary."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return slope, r2


def session_leak(view: RunView) -> list[Finding]:
    opened = list(accumulate(int(view.num(iv, "sessions_started")) for iv in view.intervals))
    points = [
        (iv, total, view.num(iv, "active_agents"), view.num(iv["resources"], "rss_bytes", -1.0))
        for iv, total in zip(view.intervals, opened, strict=True)
        if isinstance(iv.get("resources"), dict) and iv in view.usable
    ]
    points = [p for p in points if p[3] >= 0]
    if len(points) < 4:
        return []
    resources = view.section("resources")
    baseline = view.num(resources.get("baseline"), "rss_bytes", points[0][3])
    xs, ys = [float(p[1]) for p in points], [p[3] for p in points]
    fit = _fit(xs, ys)
    if fit is None:
        return []
    slope, r2 = fit
    by_active = _fit([p[2] for p in points], ys)
    start = min(baseline, ys[0])
    growth = max(ys) - start
    if slope < MIN_SLOPE_BYTES or r2 < MIN_R2 or growth < MIN_GROWTH_BYTES:
        return []
    if by_active is not None and by_active[1] >= r2:
        return []  # memory follows the sessions open now, as it should
    sessions = opened[-1]
    drain = resources.get("drain")
    drained = view.num(drain, "rss_bytes", -1.0)
    if drained >= 0:
        # Every session has ended: what is still held is kept; what came back was in use, not leaked.
        retained = drained - start
        if retained < MIN_GROWTH_BYTES or retained < MIN_RETAINED_SHARE * growth:
            return []
        per_session = retained / sessions
        after = view.num(drain, "duration_s")
        title = (
            f"the server keeps ≈ {per_session / 1024:.0f} KiB per session after it ended: RSS was still "
            f"{retained / MIB:.0f} MiB above its start {after:g} s after all {sessions} sessions closed"
        )
    else:  # no drain sampled (--monitor-drain 0, older results): the slope is the estimate
        retained, per_session = growth, slope
        title = (
            f"the server keeps ≈ {slope / 1024:.0f} KiB per session opened: RSS grew {growth / MIB:.0f} MiB over "
            f"{sessions} sessions (no drain sampled to see it stay)"
        )
    return [
        Finding(
            "session-leak",
            "critical" if retained >= 256 * MIB else "warning",
            title,
            "Free per-session state when a session ends (DELETE) and expire idle sessions: clients often "
            "abandon sessions without DELETE. Check caches keyed by session id.",
            evidence={
                "retained_bytes_per_session": round(per_session),
                "retained_bytes": round(retained),
                "slope_bytes_per_session": round(slope),
                "r2": round(r2, 3),
                "r2_with_active_sessions": round(by_active[1], 3) if by_active else None,
                "sessions_opened": sessions,
                "rss_start_bytes": round(start),
                "rss_peak_bytes": round(max(ys)),
                "rss_end_bytes": round(ys[-1]),
                "rss_after_drain_bytes": round(drained) if drained >= 0 else None,
                "drain_s": view.num(drain, "duration_s") if drained >= 0 else None,
                "growth_bytes": round(growth),
            },
            interval=span([p[0] for p in points]),
            charts=("resources", "sessions"),
        )
    ]


def session_affinity(view: RunView) -> list[Finding]:
    rows = [iv for iv in view.usable if view.num(iv, "calls") > 0]
    if not rows:
        return []
    expired = [view.errors(iv).get("session_expired", 0) for iv in rows]
    total, calls = sum(expired), sum(view.num(iv, "calls") for iv in rows)
    hit = [iv for iv, n in zip(rows, expired, strict=True) if n]
    if total < 5 or total < 0.01 * calls or len(hit) < 0.5 * len(rows):
        return []
    first = view.t(hit[0])
    end = view.t(rows[-1])
    if first > max(3.0, 0.25 * end):
        return []  # they start late: sessions that age out (idle timeout), not routing
    share = total / calls
    return [
        Finding(
            "session-affinity",
            "critical" if share >= 0.05 else "warning",
            f"{total} calls ({share:.1%}) hit a session the server did not know, from t={first:g} s on and in "
            f"{len(hit)} of {len(rows)} intervals: requests of one session reach different replicas",
            "Route by Mcp-Session-Id (sticky sessions) at the load balancer, share session state between "
            "replicas, or serve the stateless protocol (2026-07-28), which has no sessions.",
            evidence={
                "session_expired": total,
                "share_of_calls": round(share, 4),
                "intervals_with_errors": len(hit),
                "intervals": len(rows),
                "first_at_s": first,
            },
            interval=span(hit),
            charts=("errors_time", "sessions"),
        )
    ]


def unknown_session_status(view: RunView) -> list[Finding]:
    statuses: dict[int, int] = {}
    for err in view.entries("top_errors"):
        if not isinstance(err, dict) or err.get("kind") != "session_expired":
            continue
        match = _STATUS.match(str(err.get("message", "")))
        count = err.get("count")
        if match and int(match[1]) != 404 and isinstance(count, int):
            statuses[int(match[1])] = statuses.get(int(match[1]), 0) + count
    if not statuses:
        return []
    status = max(statuses, key=lambda s: statuses[s])
    return [
        Finding(
            "unknown-session-status",
            "warning",
            f"the server answered an unknown or expired session with HTTP {status}, not the 404 the spec requires "
            f"({sum(statuses.values())} times)",
            "Answer 404 to a request whose session the server does not know (expired, restarted, another "
            "replica): it is the client's signal to initialize again. mcpload recovers from other statuses when "
            "their text names the session; real clients mostly do not.",
            evidence={"statuses": {str(k): v for k, v in sorted(statuses.items())}, "expected": 404},
            charts=("errors_time",),
        )
    ]
