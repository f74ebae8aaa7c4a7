"""Each finding fires on a demo server that has its flaw, and a healthy demo server run draws none.

Runs are a few seconds of load on loopback; the flaws are tuned to show at once and the same way
every time (fixed latencies, limits far from the healthy figures)."""

from __future__ import annotations

import sys

import pytest

from mcpload.demo.launch import free_port
from mcpload.monitor import MonitorConfig, monitoring
from tests.integration.flawed import ids, run_demo, run_with_restart, scenario

SEARCH = {"call": "search_docs", "args": {"query": "x", "limit": 2}}
GET_DOC = {"call": "get_doc", "args": {"doc_id": "d"}}
CANARY = {"call": "ping", "every": "100ms"}
GATES = {"findings": ["severity < warning"], "findings{id:session-leak}": ["count == 0"]}
RAMP = {"type": "ramping-agents", "start_agents": 2, "stages": [{"duration": "4s", "target": 6}]}


async def test_a_healthy_demo_server_draws_no_finding():
    # The same shapes the flaw tests use: a ramp (load findings), a session per conversation (leak,
    # affinity), monitoring (RSS): a healthy server shows none of the signatures.
    results = await run_demo(
        ["--latency", "5"],
        lambda url: scenario(
            url, [SEARCH, GET_DOC], RAMP, canary=CANARY, thresholds=GATES, conversations_per_session=1, idle="200ms"
        ),
    )
    assert results["canary"]["calls"] >= 10
    assert results["totals"]["calls"] > 100 and results["totals"]["failed"] == 0
    # generator-bound is about the machine running mcpload (a busy test host), not the server
    server_findings = [f for f in results["findings"] if f["id"] != "generator-bound"]
    assert server_findings == [], server_findings
    assert all(iv["loop_lag_ms"] >= 0 for iv in results["intervals"])
    assert results["resources"]["drain"]["samples"]  # the drain was sampled, and drew no leak


async def test_timeout_cliff_names_the_cut():
    results = await run_demo(
        ["--latency", "get_doc=400", "--flaw", "timeout-at=400ms"],
        lambda url: scenario(
            url, [GET_DOC], {"type": "constant-agents", "agents": 6, "duration": "3s"}, thresholds=GATES
        ),
    )
    (cliff,) = [f for f in results["findings"] if f["id"] == "timeout-cliff"]
    gates = {t["metric"]: t for t in results["thresholds"]}  # CI can gate on findings
    assert not gates["findings"]["passed"] and gates["findings"]["value"] == 3  # critical
    assert gates["findings{id:session-leak}"]["passed"]
    assert 400 <= cliff["evidence"]["cliff_ms"] <= 440
    assert cliff["evidence"]["failures"] >= 5 and "0.4" in cliff["title"]


async def test_session_leak_reports_the_memory_kept_per_session():
    results = await run_demo(
        ["--latency", "2", "--flaw", "leak-sessions=256KiB"],
        lambda url: scenario(
            # 8 s: intervals where mcpload itself lagged (a busy machine) are left out of the fit, which
            # needs 4 usable ones; 5 s left too few once in a loaded CI run
            url, [SEARCH], {"type": "constant-agents", "agents": 8, "duration": "8s"}, conversations_per_session=1,
            idle="50ms",
        ),
    )  # fmt: skip
    (leak,) = [f for f in results["findings"] if f["id"] == "session-leak"]
    evidence = leak["evidence"]
    # measured after the drain: every session had ended (DELETE) and the memory stayed
    drain = results["resources"]["drain"]
    assert drain["samples"] and not drain["cut_short"] and evidence["rss_after_drain_bytes"] == drain["rss_bytes"]
    assert evidence["drain_s"] >= 2.5
    per_session = evidence["retained_bytes_per_session"]
    assert 128 * 1024 <= per_session <= 384 * 1024  # 256 KiB kept per session, give or take the sampling
    assert evidence["sessions_opened"] >= 100
    assert evidence["retained_bytes"] >= 0.5 * evidence["growth_bytes"]


FAILURE_RATE = 0.1  # injected at random at every load (serve-demo --failure-rate)
FAILING = ["--latency", "5", "--latency-sigma", "0", "--failure-rate", f"search_docs={FAILURE_RATE}", "--seed", "7"]


def near_the_configured_rate(rate: float, calls: int) -> bool:
    """Within 4 standard errors of ``FAILURE_RATE`` over ``calls`` draws (a miss: ~1 in 16,000)."""
    return abs(rate - FAILURE_RATE) <= 4 * (FAILURE_RATE * (1 - FAILURE_RATE) / calls) ** 0.5


async def test_baseline_error_rate_is_the_servers_at_every_load():
    # 10 % of calls fail at random whatever the load: the lowest load already shows it, and the
    # higher ones show no more (no burst: the errors do not follow the load).
    profile = {
        "type": "ramping-agents",
        "start_agents": 2,
        "stages": [{"duration": "3s", "target": 2}, {"duration": "3s", "target": 6}],
    }
    results = await run_demo(FAILING, lambda url: scenario(url, [SEARCH], profile), monitor=False)
    (base,) = [f for f in results["findings"] if f["id"] == "baseline-error-rate"]
    evidence = base["evidence"]
    assert evidence["agents"].startswith("2") and evidence["calls"] >= 100
    assert near_the_configured_rate(evidence["error_rate"], evidence["calls"]), evidence
    assert evidence["error_rate_low"] > 0 and evidence["operations"][0]["operation"] == "tools/call search_docs"
    assert "error-burst-at-spike" not in ids(results)


async def test_capacity_states_the_baseline_apart_from_the_load():
    # The same server, searched by `capacity`: the baseline step measures the 10 %, the rate SLO judges
    # the errors above it, so the search is not stopped by them.
    from mcpload.capacity import Growth, Resolution, Settings, parse_slos, run_capacity

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    server = " ".join([sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), *FAILING])
    settings = Settings(
        start=2, growth=Growth.parse("x2"), step_s=2.0, warmup_s=0.5, min_calls=60,
        resolution=Resolution.parse("2"), max_load=4, recovery_timeout_s=0,
    )  # fmt: skip
    one = {"type": "constant-agents", "agents": 1, "duration": "1s"}
    with monitoring(MonitorConfig(server_cmd=server), url):
        capacity, _ = await run_capacity(scenario(url, [SEARCH], one), parse_slos(["success_rate >= 0.95"]), settings)
    base = capacity["baseline"]
    assert base["load"] == 1 and base["applied"] and base["calls"] >= 60
    assert near_the_configured_rate(base["error_rate"], base["calls"]), base
    assert base["interval"][0] > 0
    # 90 % success fails ">= 0.95" on its face; over the baseline, no step broke it
    assert capacity["stopped"] == "max load reached" and capacity["first_broken"] is None, capacity["steps"]
    judged = [slo for step in capacity["steps"] for slo in step["slos"]]  # (the baseline step is apart)
    assert judged and all(slo.get("baseline_error") for slo in judged)
    assert capacity["verdict"].startswith("baseline error rate ")


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
    # A baseline of seconds at 2 agents (not one second of a ramp: a busy machine may leave that one out,
    # generator-bound, or give it too few calls to be a level, and the baseline would then hold the
    # failures), then a ramp slow enough for a level every 2 agents.
    profile = {
        "type": "ramping-agents",
        "start_agents": 2,
        "stages": [{"duration": "2s", "target": 2}, {"duration": "6s", "target": 14}],
    }
    results = await run_demo(
        ["--latency", "20", "--latency-sigma", "0", "--max-concurrency", "4", "--reject-above", "2"],
        lambda url: scenario(url, [SEARCH], profile),
    )
    (burst,) = [f for f in results["findings"] if f["id"] == "error-burst-at-spike"]
    # 4 running + 2 waiting: no failure at 6 agents or fewer, failures from 7 (as soon as a busy client
    # keeps 7 calls at the server at once)
    assert burst["evidence"]["baseline_error_rate"] == 0
    assert 7 <= burst["evidence"]["starts_at_agents"] <= 12, burst["evidence"]["levels"]


async def test_capacity_knee_follows_the_load():
    results = await run_demo(
        ["--latency", "50", "--latency-sigma", "0", "--max-concurrency", "2"],
        lambda url: scenario(
            url,
            [SEARCH],
            {
                "type": "ramping-agents",
                "start_agents": 1,
                # held at 14 (7 calls queued per slot, p95 ~7x the baseline's): the rise persists over
                # seconds, as a saturated server's does and a busy host's slow second does not
                "stages": [
                    {"duration": "2s", "target": 2},
                    {"duration": "3s", "target": 14},
                    {"duration": "2s", "target": 14},
                ],
            },
        ),
    )
    (knee,) = [f for f in results["findings"] if f["id"] == "capacity-knee"]
    assert knee["evidence"]["max_p95_ms"] >= 3 * knee["evidence"]["baseline_p95_ms"]
    assert 2 <= knee["evidence"]["starts_at_agents"] <= 9  # 2 slots of 50 ms: queueing from 3 agents
    assert results["totals"]["failed"] == 0


async def test_restart_recovery_times_the_outage():
    restart = await run_with_restart(
        lambda url: scenario(url, [SEARCH], {"type": "constant-agents", "agents": 6, "duration": "10s"}, idle="20ms"),
        down_at=2.2,
        down_for=2.5,  # a whole interval (1 s) without a success, wherever the interval edges fall
        server_args=("--latency", "5"),
    )
    results = restart.results
    (finding,) = [f for f in results["findings"] if f["id"] == "restart-recovery"]
    evidence = finding["evidence"]
    assert evidence["recovered"] is True
    assert 1 <= evidence["down_at_s"] <= 3.5
    # the outage as it happened (2.5 s, and the restarted server's start), measured at interval granularity
    # (a second at either end) by agents that back off up to 2 s between tries while it is down
    assert max(1.0, restart.outage_s - 2) <= evidence["time_to_recover_s"] <= restart.outage_s + 5
    assert evidence["sessions_expired"] + evidence["sessions_reopened"] >= 1
    # every agent lost its session: the restarted server knew none (counted to the end of the run: an agent
    # still backing off when calls succeeded again comes back in a later second)
    after = [iv for iv in results["intervals"] if iv["t"] > evidence["down_at_s"]]
    lost = sum(iv["errors"].get("session_expired", 0) + iv["sessions_started"] - iv["sessions_failed"] for iv in after)
    assert lost >= 6, after


async def test_session_affinity_behind_a_front_without_it():
    # Two replicas behind a round-robin front; the sessions share a pool of connections (a gateway),
    # so a session's requests reach the replica that never saw its initialize.
    def build(url: str):
        profile = {"type": "constant-agents", "agents": 6, "duration": "4s"}
        return scenario(url, [SEARCH, GET_DOC], profile, connections="shared:8", idle="20ms")

    results = await run_demo(["--latency", "5", "--replicas", "2"], build, monitor=False, preflight_tries=10)
    (affinity,) = [f for f in results["findings"] if f["id"] == "session-affinity"]
    assert affinity["evidence"]["first_at_s"] <= 2
    assert affinity["evidence"]["share_of_calls"] >= 0.05
    assert "restart-recovery" not in ids(results)


async def test_unknown_session_status_seen_in_a_run_after_a_restart():
    # After the restart every session is unknown: this server says so with 400 instead of 404.
    results = (
        await run_with_restart(
            lambda url: scenario(
                url, [SEARCH], {"type": "constant-agents", "agents": 4, "duration": "8s"}, idle="20ms"
            ),
            down_at=1.5,
            down_for=2.5,  # a whole interval down (restart-recovery); then seconds for the agents to come back
            server_args=("--latency", "5", "--flaw", "unknown-session-400"),
        )
    ).results
    (status,) = [f for f in results["findings"] if f["id"] == "unknown-session-status"]
    assert status["evidence"]["statuses"] == {"400": status["evidence"]["statuses"]["400"]}
    assert "restart-recovery" in ids(results)


PROBES = {"unknown-session-status": "unknown session", "delete-ignored": "DELETE", "origin-not-validated": "Origin"}


@pytest.mark.parametrize(
    ("flaw", "expected"),
    [
        (None, None),
        ("unknown-session-400", "unknown-session-status"),
        ("ignore-delete", "delete-ignored"),
        ("no-origin-check", "origin-not-validated"),
    ],
)
async def test_diagnose_probes_fire_on_their_flaw_and_only_there(flaw, expected):
    from mcpload.demo.launch import demo_server
    from mcpload.diagnose import diagnose
    from mcpload.mcp.connect import Target

    flaws = ("--flaw", flaw) if flaw else ()
    with demo_server(extra_args=("--latency", "1", *flaws)) as url:
        diag = await diagnose(Target(url=url, protocol="2025-11-25"), call_tools=False)
    findings = {f["id"]: f for f in diag.findings}
    assert set(findings) == ({expected} if expected else set())
    names = {c.name: c.status for c in diag.checks}
    for finding, probe in PROBES.items():  # the probe of the flaw warns; every other one passes
        assert names[f"probe: {probe}"] == ("WARN" if finding == expected else "PASS"), (probe, names)
    if expected == "delete-ignored":  # answered as if ended, and the session went on answering
        assert findings[expected]["evidence"] == {"delete_status": 200, "after_status": 200}
    if expected == "origin-not-validated":
        assert 200 <= findings[expected]["evidence"]["status"] < 300
    assert not diag.failed  # a spec deviation is a warning, the server still works


async def test_event_loop_blocking_seen_by_the_canary():
    results = await run_demo(
        ["--latency", "search_docs=150,get_doc=2", "--latency-sigma", "0", "--flaw", "blocking-tool=search_docs"],
        lambda url: scenario(
            url, [SEARCH], {"type": "constant-agents", "agents": 2, "duration": "3s"}, canary=CANARY, idle="50ms"
        ),
    )
    (blocking,) = [f for f in results["findings"] if f["id"] == "event-loop-blocking"]
    assert blocking["evidence"]["slow_operation"] == "tools/call search_docs"
    assert blocking["evidence"]["canary_p95_ms"] >= 75  # waits for a 150 ms synchronous sleep


@pytest.mark.parametrize("workers", [1, 2])
async def test_generator_bound_marks_the_seconds_mcpload_itself_stalled(tmp_path, workers):
    # An agent that blocks mcpload's event loop (a synchronous sleep in its code): the seconds it
    # stalls are marked, the finding says so, and the server is not blamed for them.
    (tmp_path / "stall.py").write_text(
        "import time\n"
        "import mcpload\n\n\n"
        "class Stall(mcpload.Agent):\n"
        "    async def run(self, session):\n"
        "        await session.call_tool('get_doc', {'doc_id': 'd'})\n"
        "        time.sleep(0.3)\n"
    )

    def build(url: str):
        from mcpload.scenario import Scenario

        data = {
            "target": {"url": url},
            "agents": {"a": {"python": "stall.py:Stall"}},
            "profiles": {"type": "constant-agents", "agents": workers, "duration": "3s"},
        }
        return Scenario.from_dict(data, base_dir=tmp_path)

    results = await run_demo(["--latency", "2"], build, monitor=False, workers=workers)
    (bound,) = [f for f in results["findings"] if f["id"] == "generator-bound"]
    assert bound["evidence"]["max_loop_lag_ms"] >= 250
    if workers > 1:  # the agents run in the workers: their loops stall, the coordinator's does not
        assert max(iv.get("workers_loop_lag_ms", 0) for iv in results["intervals"]) >= 250
    marked = [iv for iv in results["intervals"] if iv.get("generator_bound")]
    assert len(marked) >= 2 and bound["evidence"]["intervals"] == len(marked)
    assert [f["id"] for f in results["findings"]] == ["generator-bound"]
