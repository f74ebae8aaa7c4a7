"""A capacity search on a demo server with a known limit *and* failures at every load (as the demo's
``send_message`` has): the random failures are reported as the baseline error rate, rate SLOs are
decided with confidence intervals over it, and the ceiling still lands on the configured limit."""

from __future__ import annotations

import sys

import pytest

from mcpload.capacity import Growth, Resolution, Settings, parse_slos, run_capacity
from mcpload.demo.launch import free_port
from mcpload.monitor import MonitorConfig, monitoring
from mcpload.scenario import Scenario

# 2 slots of exactly 40 ms: at most 50 calls/s; N agents back to back wait ceil(N/2) × 40 ms, so
# "p95 <= 200ms" holds up to 10 agents. 5 % of calls fail at random at any load.
SLOTS, LATENCY_MS, FAILURES = 2, 40, 0.05
KNOWN_AGENTS, KNOWN_CALLS_PER_S = 10, SLOTS * 1000 / LATENCY_MS
AGENTS_TOLERANCE = 2  # the search's resolution is 2 agents
CALLS_TOLERANCE = 0.25  # ceiling calls/s within 25 % of 50


@pytest.mark.slow
async def test_ceiling_near_the_limit_with_a_baseline_error_rate():
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    server = (
        f"{sys.executable} -m mcpload.cli serve-demo --port {port} --latency {LATENCY_MS} --latency-sigma 0 "
        f"--max-concurrency {SLOTS} --failure-rate search_docs={FAILURES} --seed 3"
    )
    scenario = Scenario.from_dict(
        {
            "target": {"url": url},
            "agents": {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x", "limit": 1}}]}},
            "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        }
    )
    settings = Settings(
        start=4,
        growth=Growth.parse("x2"),
        step_s=2.0,
        warmup_s=1.0,
        min_calls=60,
        resolution=Resolution.parse("2"),
        max_load=32,
        recovery_timeout_s=0,
    )
    with monitoring(MonitorConfig(server_cmd=server), url):
        capacity, _ = await run_capacity(
            scenario, parse_slos(["success_rate >= 0.9", "p95 <= 200ms"]), settings, seed=1
        )
    base = capacity["baseline"]
    assert base["load"] == 1 and base["applied"]
    assert 0.01 <= base["error_rate"] <= 0.12  # 5 %, from a few dozen calls
    assert capacity["stopped"] == "ceiling found"
    ceiling = capacity["ceiling"]
    assert abs(ceiling["load"] - KNOWN_AGENTS) <= AGENTS_TOLERANCE, capacity["steps"]
    assert ceiling["calls_per_s"] == pytest.approx(KNOWN_CALLS_PER_S, rel=CALLS_TOLERANCE)
    assert capacity["first_broken"]["slo"] == "p95 <= 200ms"  # the load broke latency, not the rate
    assert capacity["verdict"].startswith("baseline error rate ")
