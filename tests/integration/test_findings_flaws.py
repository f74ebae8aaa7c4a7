"""Each finding fires on a demo server that has its flaw, and a healthy demo server run draws none.

Runs are a few seconds of load on loopback; the flaws are tuned to show at once and the same way
every time (fixed latencies, limits far from the healthy figures)."""

from __future__ import annotations

from tests.integration.flawed import ids, run_demo, scenario

SEARCH = {"call": "search_docs", "args": {"query": "x", "limit": 2}}
GET_DOC = {"call": "get_doc", "args": {"doc_id": "d"}}
RAMP = {"type": "ramping-agents", "start_agents": 2, "stages": [{"duration": "4s", "target": 10}]}


async def test_a_healthy_demo_server_draws_no_finding():
    # The same shapes the flaw tests use: a ramp (load findings), a session per conversation (leak,
    # affinity), monitoring (RSS): a healthy server shows none of the signatures.
    results = await run_demo(
        ["--latency", "5"], lambda url: scenario(url, [SEARCH, GET_DOC], RAMP, conversations_per_session=1, idle="50ms")
    )
    assert results["totals"]["calls"] > 100 and results["totals"]["failed"] == 0
    # generator-bound is about the machine running mcpload (a busy test host), not the server
    server_findings = [f for f in results["findings"] if f["id"] != "generator-bound"]
    assert server_findings == [], server_findings
    assert all(iv["loop_lag_ms"] >= 0 for iv in results["intervals"])


async def test_timeout_cliff_names_the_cut():
    results = await run_demo(
        ["--latency", "get_doc=400", "--flaw", "timeout-at=400ms"],
        lambda url: scenario(url, [GET_DOC], {"type": "constant-agents", "agents": 6, "duration": "3s"}),
    )
    (cliff,) = [f for f in results["findings"] if f["id"] == "timeout-cliff"]
    assert 400 <= cliff["evidence"]["cliff_ms"] <= 440
    assert cliff["evidence"]["failures"] >= 5 and "0.4" in cliff["title"]


async def test_session_leak_reports_the_memory_kept_per_session():
    results = await run_demo(
        ["--latency", "2", "--flaw", "leak-sessions=256KiB"],
        lambda url: scenario(
            url, [SEARCH], {"type": "constant-agents", "agents": 8, "duration": "5s"}, conversations_per_session=1,
            idle="50ms",
        ),
    )  # fmt: skip
    (leak,) = [f for f in results["findings"] if f["id"] == "session-leak"]
    per_session = leak["evidence"]["retained_bytes_per_session"]
    assert 128 * 1024 <= per_session <= 384 * 1024  # 256 KiB kept per session, give or take the sampling
    assert leak["evidence"]["sessions_opened"] >= 100


async def test_connection_limit_states_the_number():
    results = await run_demo(
        ["--latency", "5", "--flaw", "max-connections=10"],
        lambda url: scenario(
            url, [SEARCH], {"type": "ramping-agents", "start_agents": 2, "stages": [{"duration": "4s", "target": 20}]},
            idle="20ms",
        ),
    )  # fmt: skip
    assert "connection-limit" in ids(results)
    (limit,) = [f for f in results["findings"] if f["id"] == "connection-limit"]
    assert 10 <= limit["evidence"]["server_peak_connections"] <= 12  # sampled: a closing one may count
    assert 6 <= limit["evidence"]["first_failure_at_agents"] <= 14
    assert "error-burst-at-spike" not in ids(results)  # transport failures are the limit's, not a burst


async def test_error_burst_follows_the_load():
    results = await run_demo(
        ["--latency", "20", "--latency-sigma", "0", "--max-concurrency", "4", "--reject-above", "2"],
        lambda url: scenario(
            url, [SEARCH], {"type": "ramping-agents", "start_agents": 1, "stages": [{"duration": "4s", "target": 20}]}
        ),
    )
    (burst,) = [f for f in results["findings"] if f["id"] == "error-burst-at-spike"]
    # 4 running + 2 waiting: no failure at 5 agents or fewer, failures from the next level on
    assert burst["evidence"]["baseline_error_rate"] == 0
    assert 6 <= burst["evidence"]["starts_at_agents"] <= 12


async def test_capacity_knee_follows_the_load():
    results = await run_demo(
        ["--latency", "20", "--latency-sigma", "0", "--max-concurrency", "4"],
        lambda url: scenario(
            url, [SEARCH], {"type": "ramping-agents", "start_agents": 1, "stages": [{"duration": "4s", "target": 16}]}
        ),
    )
    (knee,) = [f for f in results["findings"] if f["id"] == "capacity-knee"]
    assert knee["evidence"]["max_p95_ms"] >= 3 * knee["evidence"]["baseline_p95_ms"]
    assert 4 <= knee["evidence"]["starts_at_agents"] <= 12  # 4 slots of 20 ms: queueing from 5 agents
    assert results["totals"]["failed"] == 0
