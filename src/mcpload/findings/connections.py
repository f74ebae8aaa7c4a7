"""``connection-limit``: connections refused or reset once the load passes a number of concurrent
sessions or streams, while the connections already open keep working."""

from __future__ import annotations

from mcpload.findings.base import Finding, RunView, span
from mcpload.findings.load import connection_failures, levels, rises, varies

SIGNATURE = (
    "transport failures (refused, reset) and failed session opens per load level rising above the lowest "
    "level's (Wilson intervals apart) while calls still succeed there; the last clean level is the number"
)


def detect(view: RunView) -> list[Finding]:
    found = levels(view, connection_failures)
    if not varies(found):
        return []
    base = found[0]
    for i, level in enumerate(found[1:], start=1):
        if not rises(base, level):
            continue
        bad = [iv for lv in found[i:] for iv in lv.intervals]
        if sum(1 for iv in bad if view.num(iv, "ok") > 0) < 0.5 * len(bad):
            return []  # nothing works at all: an outage (restart-recovery), not a limit
        limit = found[i - 1].high
        peak = _peak_connections(view)
        total = sum(connection_failures(iv) for iv in bad)
        stated = f"≈ {peak:g} open connections" if peak is not None else f"≈ {limit:g} concurrent agents"
        return [
            Finding(
                "connection-limit",
                "critical",
                f"connections refused or reset above {stated}: {total} failures from {level.low:g} agents on "
                f"({level.rate:.1%} there, {base.rate:.1%} at {base.label()})",
                "A connection limit is reached (server max connections, proxy limit, ulimit -n, accept backlog); "
                "legacy SSE and GET streams hold a connection each. Raise it, or share connections "
                "(connections: shared in the scenario target).",
                evidence={
                    "limit_agents": limit,
                    "server_peak_connections": peak,
                    "first_failure_at_agents": level.low,
                    "failures": total,
                    "failure_rate": round(level.rate, 4),
                    "baseline_failure_rate": round(base.rate, 4),
                },
                interval=span(bad),
                charts=("errors_time", "agents", "resources"),
            )
        ]
    return []


def _peak_connections(view: RunView) -> float | None:
    samples = view.section("resources").get("samples")
    if not isinstance(samples, list):
        return None
    values = [view.num(s, "connections", -1.0) for s in samples if isinstance(s, dict)]
    values = [v for v in values if v >= 0]
    return max(values) if values else None
