"""``restart-recovery``: the server went away (connections refused, every session expired at once)
and came back; how long until calls succeeded again, and whether sessions were opened anew."""

from __future__ import annotations

from typing import Any

from mcpload.findings.base import Finding, RunView, span

SIGNATURE = (
    "after healthy intervals, an interval where under 10 % of the calls succeed (transport / session_expired "
    "failures, or no calls while agents run), then a return to the earlier success rate; or, for a restart "
    "within a second, most sessions expiring in one interval after none had"
)
DOWN = 0.1  # a server that went away answers (almost) nothing
HEALTHY = 0.9


def _rate(view: RunView, iv: dict[str, Any]) -> float | None:
    calls = view.num(iv, "calls") + view.num(iv, "sessions_failed")
    if calls <= 0:
        return 0.0 if view.num(iv, "active_agents") > 0 else None
    return view.num(iv, "ok") / calls


def _below_healthy(rate: float | None) -> bool:
    """An interval without a success rate (no calls, no agents) counts as not healthy."""
    return rate is None or rate < HEALTHY


def detect(view: RunView) -> list[Finding]:
    rows = view.usable
    rates = [_rate(view, iv) for iv in rows]
    healthy_seen = False
    for i, rate in enumerate(rates):
        if rate is None:
            continue
        if rate >= HEALTHY:
            healthy_seen = True
            continue
        if rate >= DOWN or not healthy_seen:
            continue
        kinds = view.errors(rows[i])
        outage_kinds = kinds.get("transport", 0) + kinds.get("session_expired", 0) + kinds.get("timeout", 0)
        if kinds and outage_kinds < 0.5 * sum(kinds.values()):
            continue  # the server answered, with errors: not gone
        return [_finding(view, rows, rates, i)]
    return _expired_at_once(view, rows)


def _expired_at_once(view: RunView, rows: list[dict[str, Any]]) -> list[Finding]:
    """A restart quicker than an interval: no second without successes, but (nearly) every session
    expired in the same second, after seconds without any expiry (not the steady trickle of
    session-affinity)."""
    for i, iv in enumerate(rows):
        expired = view.errors(iv).get("session_expired", 0)
        agents = view.num(iv, "active_agents")
        if i < 2 or expired < 3 or expired < 0.5 * agents:
            continue
        if any(view.errors(prev).get("session_expired", 0) for prev in rows[:i]):
            return []
        return [
            Finding(
                "restart-recovery",
                "warning",
                f"{expired} sessions expired at once at t≈{view.t(iv):g} s ({agents:g} agents): the server restarted "
                "(or dropped its sessions) and came back within the second",
                "A restart loses every session in flight: drain sessions on shutdown, and make sure clients "
                "re-initialize on 404 (mcpload does; check your clients).",
                evidence={"down_at_s": view.t(iv) - 1.0, "sessions_expired": expired, "recovered": True},
                interval=span([iv]),
                charts=("errors_time", "sessions"),
            )
        ]
    return []


def _finding(view: RunView, rows: list[dict[str, Any]], rates: list[float | None], down: int) -> Finding:
    start = down  # the outage began after the last healthy interval before the worst one
    while start > 0 and _below_healthy(rates[start - 1]):
        start -= 1
    down_at = view.t(rows[start - 1]) if start > 0 else 0.0
    back = next((j for j in range(down + 1, len(rows)) if (rates[j] or 0.0) >= HEALTHY), None)
    outage = rows[start : back if back is not None else len(rows)]
    errors: dict[str, int] = {}
    for iv in rows[start : back + 1 if back is not None else len(rows)]:
        for kind, n in view.errors(iv).items():
            errors[kind] = errors.get(kind, 0) + n
    if back is None:
        return Finding(
            "restart-recovery",
            "critical",
            f"the server went away at t≈{max(down_at, 0):g} s and did not recover before the run ended",
            "Check why the server stopped (crash, OOM kill, restart) and how long it takes to come back.",
            evidence={"down_at_s": max(down_at, 0.0), "recovered": False, "errors": errors},
            interval=span(outage),
            charts=("throughput", "errors_time"),
        )
    recovered_at = view.t(rows[back])
    reopened = sum(int(view.num(iv, "sessions_started")) for iv in rows[start : back + 1])
    expired = errors.get("session_expired", 0)
    sessions = f"{expired} sessions expired and were re-created" if expired else f"{reopened} sessions were opened anew"
    return Finding(
        "restart-recovery",
        "warning",
        f"the server went away at t≈{max(down_at, 0):g} s and calls succeeded again within "
        f"{recovered_at - max(down_at, 0):.0f} s; {sessions}",
        "Shorten the restart (readiness probes, graceful shutdown that drains sessions) and make sure clients "
        "re-initialize on 404; with sessions, a restart loses every session in flight.",
        evidence={
            "down_at_s": max(down_at, 0.0),
            "recovered_at_s": recovered_at,
            "time_to_recover_s": round(recovered_at - max(down_at, 0.0), 3),
            "sessions_reopened": reopened,
            "sessions_expired": expired,
            "recovered": True,
            "errors": errors,
        },
        interval=span(outage),
        charts=("throughput", "errors_time", "sessions"),
    )
