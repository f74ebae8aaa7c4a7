"""``restart-recovery``: the server went away (connections refused, every session expired at once)
and came back; how long until calls succeeded again, and whether sessions were opened anew."""

from __future__ import annotations

from mcpload.findings.base import Finding, RunView, span

SIGNATURE = (
    "after healthy intervals, an interval where under 10 % of the calls succeed (transport / session_expired "
    "failures, or no calls while agents run), then a return to the earlier success rate"
)
DOWN = 0.1  # a server that went away answers (almost) nothing
HEALTHY = 0.9


def _rate(view: RunView, iv: dict) -> float | None:
    calls = view.num(iv, "calls") + view.num(iv, "sessions_failed")
    if calls <= 0:
        return 0.0 if view.num(iv, "active_agents") > 0 else None
    return view.num(iv, "ok") / calls


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
    return []


def _finding(view: RunView, rows: list[dict], rates: list[float | None], start: int) -> Finding:
    down_at = view.t(rows[start]) - 1.0
    back = next((j for j in range(start + 1, len(rows)) if (rates[j] or 0.0) >= HEALTHY), None)
    outage = rows[start : back if back is not None else len(rows)]
    errors: dict[str, int] = {}
    for iv in outage:
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
    return Finding(
        "restart-recovery",
        "warning",
        f"the server went away at t≈{max(down_at, 0):g} s and calls succeeded again after "
        f"{recovered_at - max(down_at, 0):.0f} s; {reopened} sessions were opened anew",
        "Shorten the restart (readiness probes, graceful shutdown that drains sessions) and make sure clients "
        "re-initialize on 404; with sessions, a restart loses every session in flight.",
        evidence={
            "down_at_s": max(down_at, 0.0),
            "recovered_at_s": recovered_at,
            "time_to_recover_s": round(recovered_at - max(down_at, 0.0), 3),
            "sessions_reopened": reopened,
            "recovered": True,
            "errors": errors,
        },
        interval=span(outage),
        charts=("throughput", "errors_time", "sessions"),
    )
