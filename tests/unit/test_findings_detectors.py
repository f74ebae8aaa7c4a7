"""Each detector on synthetic results: it fires on its signature, stays silent on a near miss, and
never raises on results edited into odd shapes (findings are recomputed from files)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.findings import analyze
from mcpload.findings.base import RunView
from mcpload.findings.blocking import detect as blocking
from mcpload.findings.connections import detect as connection_limit
from mcpload.findings.load import baseline_error_rate, capacity_knee, error_burst
from mcpload.findings.recovery import detect as restart
from mcpload.findings.sessions import session_affinity, session_leak, unknown_session_status
from mcpload.findings.timeouts import detect as timeout_cliff

MIB = 1 << 20


def iv(t: float, agents: int = 5, calls: int = 100, failed: int = 0, **extra) -> dict:
    errors = extra.pop("errors", {"tool_error": failed} if failed else {})
    return {
        "t": t,
        "calls": calls,
        "ok": calls - failed,
        "failed": failed,
        "errors": errors,
        "target_agents": agents,
        "active_agents": agents,
        "p95_ms": extra.pop("p95_ms", 20.0),
        "sessions_started": extra.pop("sessions_started", 0),
        "sessions_failed": extra.pop("sessions_failed", 0),
        "loop_lag_ms": 1.0,
        **extra,
    }


def view(intervals: list[dict], **results) -> RunView:
    return RunView({"intervals": intervals, **results})


def ramp(p95=None, failed=None, errors=None) -> list[dict]:
    out = []
    for i, agents in enumerate((2, 4, 6, 8, 10, 12)):
        fail = failed[i] if failed else 0
        err = errors[i] if errors else None
        extra = {"errors": err} if err is not None else {}
        out.append(iv(i + 1.0, agents, 100, fail, p95_ms=p95[i] if p95 else 20.0, **extra))
    return out


# --- load shape --------------------------------------------------------------------------------


def test_error_burst_starts_where_errors_leave_the_baseline():
    (found,) = error_burst(view(ramp(failed=[0, 0, 0, 20, 40, 60])))
    assert found.evidence["starts_at_agents"] == 8 and found.severity == "critical"


def test_a_steady_error_rate_is_a_baseline_not_a_burst():
    intervals = ramp(failed=[3, 3, 3, 3, 3, 3])
    assert error_burst(view(intervals)) == []
    (base,) = baseline_error_rate(view(intervals))
    assert base.evidence["error_rate"] == 0.03


def test_no_load_variation_no_load_finding():
    flat = [iv(t, 5, 100, 30 if t > 3 else 0) for t in range(1, 7)]
    assert error_burst(view(flat)) == [] and capacity_knee(view(flat)) == []


def test_capacity_knee_needs_a_persistent_rise():
    (knee,) = capacity_knee(view(ramp(p95=[20, 22, 40, 90, 150, 200])))
    assert knee.evidence["starts_at_agents"] == 6
    assert capacity_knee(view(ramp(p95=[20, 22, 300, 25, 24, 23]))) == []  # one slow second
    # one slow second on a busy host, the server a little slower around it: still not a knee
    assert capacity_knee(view(ramp(p95=[20, 31, 300, 35, 32, 31]))) == []
    (knee,) = capacity_knee(view(ramp(p95=[20, 31, 300, 35, 32, 130])))  # two seconds at the rise: a knee
    assert knee.evidence["starts_at_agents"] == 4
    assert capacity_knee(view(ramp(p95=[20, 25, 30, 40, 50, 59]))) == []  # 3x but not +100 ms


# --- connections, restarts, sessions ------------------------------------------------------------


def test_connection_limit_is_the_last_clean_level():
    intervals = ramp(
        failed=[0, 0, 0, 10, 20, 30], errors=[{}, {}, {}, {"transport": 10}, {"transport": 20}, {"transport": 30}]
    )
    (limit,) = connection_limit(view(intervals))
    assert limit.evidence["limit_agents"] == 6 and limit.evidence["first_failure_at_agents"] == 8
    assert error_burst(view(intervals)) == []  # transport failures are the limit's


def test_an_outage_is_a_restart_not_a_limit():
    intervals = [iv(t, 5, 100) for t in range(1, 4)]
    intervals += [iv(4.0, 5, 100, 100, errors={"transport": 100}), iv(5.0, 5, 100, 100, errors={"transport": 100})]
    intervals += [iv(t, 5, 100) for t in range(6, 9)]
    (found,) = restart(view(intervals))
    assert found.evidence["down_at_s"] == 3.0 and found.evidence["recovered_at_s"] == 6.0
    assert connection_limit(view(intervals)) == []


def test_a_quick_restart_is_every_session_expiring_at_once():
    intervals = [iv(t, 6, 100) for t in range(1, 5)]
    intervals += [iv(5.0, 6, 100, 6, errors={"session_expired": 6})] + [iv(t, 6, 100) for t in range(6, 9)]
    (found,) = restart(view(intervals))
    assert found.evidence["sessions_expired"] == 6
    trickle = [iv(t, 6, 100, 3, errors={"session_expired": 3}) for t in range(1, 9)]
    assert restart(view(trickle)) == []  # from the start on: affinity, not a restart


def test_a_server_answering_errors_did_not_go_away():
    intervals = [iv(t, 5, 100) for t in range(1, 4)] + [iv(4.0, 5, 100, 100)] + [iv(t, 5, 100) for t in range(5, 8)]
    assert restart(view(intervals)) == []  # 100 tool errors: it answered


def test_session_leak_follows_sessions_opened_not_active():
    leak = [
        iv(t, 8, sessions_started=100, resources={"rss_bytes": 70 * MIB + int(t * 100 * 200 * 1024)})
        for t in range(1, 7)
    ]
    (found,) = session_leak(view(leak))
    assert 150 * 1024 <= found.evidence["retained_bytes_per_session"] <= 250 * 1024
    flat = [iv(t, 8, sessions_started=100, resources={"rss_bytes": 70 * MIB + (t % 2) * MIB}) for t in range(1, 7)]
    assert session_leak(view(flat)) == []


def test_session_leak_is_the_memory_still_held_after_the_drain():
    # 600 sessions, RSS 70 → ~187 MiB during the load
    grows = [
        iv(t, 8, sessions_started=100, resources={"rss_bytes": 70 * MIB + int(t * 100 * 200 * 1024)})
        for t in range(1, 7)
    ]
    base = {"baseline": {"rss_bytes": 70 * MIB}}
    kept = {**base, "drain": {"duration_s": 3.0, "rss_bytes": 70 * MIB + 600 * 190 * 1024}}
    (found,) = session_leak(view(grows, resources=kept))
    assert 185 * 1024 <= found.evidence["retained_bytes_per_session"] <= 195 * 1024
    assert found.evidence["rss_after_drain_bytes"] == kept["drain"]["rss_bytes"] and "after it ended" in found.title
    # the memory came back once the sessions ended: it was in use, not leaked
    freed = {**base, "drain": {"duration_s": 3.0, "rss_bytes": 75 * MIB}}
    assert session_leak(view(grows, resources=freed)) == []
    half = {**base, "drain": {"duration_s": 3.0, "rss_bytes": 70 * MIB + 600 * 80 * 1024}}
    assert session_leak(view(grows, resources=half)) == []  # less than half stayed
    # no drain sampled (or an older results file): the slope stands in, and the title says so
    (slope,) = session_leak(view(grows, resources={**base, "drain": None}))
    assert 150 * 1024 <= slope.evidence["retained_bytes_per_session"] <= 250 * 1024
    assert slope.evidence["rss_after_drain_bytes"] is None and "no drain" in slope.title


def test_session_affinity_from_the_start_and_not_late():
    early = [iv(t, 5, 100, 10, errors={"session_expired": 10}) for t in range(1, 9)]
    assert session_affinity(view(early))
    late = [iv(t, 5, 100) for t in range(1, 7)] + [
        iv(t, 5, 100, 10, errors={"session_expired": 10}) for t in range(7, 13)
    ]
    assert session_affinity(view(late)) == []  # they start late: sessions aging out


def test_unknown_session_status_reads_the_status_of_session_errors():
    errors = [
        {"kind": "session_expired", "operation": "x", "message": "HTTP 400 code -32000 no session", "count": 7},
        {"kind": "session_expired", "operation": "x", "message": "HTTP 404 Session not found", "count": 50},
    ]
    (found,) = unknown_session_status(view([], top_errors=errors))
    assert found.evidence["statuses"] == {"400": 7}
    assert unknown_session_status(view([], top_errors=errors[1:])) == []


# --- latency shapes ------------------------------------------------------------------------------


def test_timeout_cliff_needs_a_narrow_band_and_nothing_beyond():
    cliff = {"transport": {"count": 30, "p10": 1990.0, "p50": 2001.0, "p90": 2010.0}}
    (found,) = timeout_cliff(view([], failure_latency_ms=cliff, totals={"calls": 100, "failed": 30}))
    assert found.evidence["cliff_ms"] == 2001.0
    spread = {"tool_error": {"count": 30, "p10": 100.0, "p50": 900.0, "p90": 2000.0}}
    assert timeout_cliff(view([], failure_latency_ms=spread, totals={"calls": 100, "failed": 30})) == []
    fast = {"transport": {"count": 30, "p10": 1.0, "p50": 1.1, "p90": 1.2}}  # refused at once: not a timeout
    assert timeout_cliff(view([], failure_latency_ms=fast, totals={"calls": 100, "failed": 30})) == []


def _canary(p10, p95, slow_p50, slow_p95):
    return {
        "canary": {"call": "ping", "latency_ms": {"count": 40, "p10": p10, "p95": p95}},
        "operations": {"tools/call slow": {"latency_ms": {"p50": slow_p50, "p95": slow_p95}}},
    }


def test_event_loop_blocking_needs_slow_calls_to_wait_for():
    assert blocking(view([], **_canary(1.0, 140.0, 150.0, 160.0)))
    assert blocking(view([], **_canary(1.0, 4.0, 150.0, 160.0))) == []  # the canary stayed quick
    assert blocking(view([], **_canary(1.0, 60.0, 10.0, 30.0))) == []  # no slow calls: saturation
    assert blocking(view([], **_canary(1.0, 900.0, 150.0, 160.0))) == []  # slower than them all: saturation


# --- robustness ----------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
KEYS = st.sampled_from(
    ["t", "calls", "ok", "failed", "errors", "target_agents", "p95_ms", "resources", "canary", "ops", "loop_lag_ms"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.dictionaries(KEYS, JSON, max_size=8), max_size=8),
    st.dictionaries(
        st.sampled_from(
            ["totals", "operations", "failure_latency_ms", "canary", "top_errors", "resources", "findings"]
        ),
        JSON,
        max_size=5,
    ),
)
def test_odd_results_never_break_the_analysis(intervals, rest):
    found = analyze({"intervals": intervals, **rest})
    assert isinstance(found, list)
