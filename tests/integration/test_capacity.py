"""`mcpload capacity` against demo servers with known limits: the ceiling found matches the configured
one within a stated tolerance, recovery is measured, the first SLO to break and the dominant error are
named, and the generator-bound guard stops a search whose bottleneck is mcpload itself."""

from __future__ import annotations

import json
import sys

import pytest

from mcpload.capacity import Resolution, Settings, parse_slos, run_capacity
from mcpload.demo.launch import demo_server, free_port
from mcpload.scenario import Scenario
from tests.helpers import mcpload, mcpload_in_process

SEARCH_ARGS = ("--tool", "search_docs", "--args", '{"query": "x", "limit": 1}')

# The known limit: 4 tool executions at once, each exactly 200 ms → at most 20 calls/s. Agents call
# back to back, so N agents wait ceil(N / 4) service times: p95 is 200 ms up to 4 agents, 400 ms up
# to 8, 600 ms up to 12. Under "p95 <= 500ms" the ceiling is 8 agents at 20 calls/s, with 100 ms of
# margin on either side of the SLO for scheduling noise.
SLOTS, LATENCY_MS, SLO = 4, 200, "p95 <= 500ms"
KNOWN_AGENTS, KNOWN_CALLS_PER_S = 8, SLOTS * 1000 / LATENCY_MS
AGENTS_TOLERANCE = 1  # the resolution of the search below is 2 agents: 8 found, at worst 7 or 9
CALLS_TOLERANCE = 0.2  # calls/s within 20 % of 20


@pytest.mark.slow
def test_ceiling_of_a_server_with_a_known_limit(tmp_path):
    port = free_port()
    server = (
        f"{sys.executable} -m mcpload.cli serve-demo --port {port} --latency {LATENCY_MS} --latency-sigma 0 "
        f"--max-concurrency {SLOTS}"
    )
    # ramp 4 → 8 → 16 (fails), bisect 12, 10; then 16 agents for 3 s and back to 4
    proc = mcpload(
        "capacity",
        *("--url", f"http://127.0.0.1:{port}/mcp", *SEARCH_ARGS),
        *("--slo", SLO, "--slo", "success_rate >= 0.9"),
        *("--start", "4", "--step", "x2", "--resolution", "2", "--min-calls", "30"),
        *("--step-duration", "2s", "--warmup", "1s", "--recovery-timeout", "4s"),
        *("--server-cmd", server, "--out", "cap.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "cap.json").read_text())
    cap = results["capacity"]
    assert cap["stopped"] == "ceiling found" and cap["generator_bound"] is None
    ceiling = cap["ceiling"]
    assert abs(ceiling["load"] - KNOWN_AGENTS) <= AGENTS_TOLERANCE, cap["steps"]
    assert ceiling["calls_per_s"] == pytest.approx(KNOWN_CALLS_PER_S, rel=CALLS_TOLERANCE)
    assert ceiling["p95_ms"] <= 500 and cap["breaking_point"]["p95_ms"] > 500
    assert cap["first_broken"]["slo"] == SLO and cap["first_broken"]["load"] <= 12
    # latency climbs once agents outnumber the slots: the knee is the first load past 4 measured
    assert cap["knee"]["load"] == 8 and cap["knee"]["baseline_load"] == 4
    for step in cap["steps"]:
        # 30-odd clean calls show "success_rate >= 0.9" with 95 % confidence, so every step is decided at
        # once; 0.99 would take ~300, stretching each passing step 3-fold as an inconclusive one (that path
        # is test_demo_capacity's, and the verdict logic is in tests/unit/test_capacity_confidence.py)
        assert step["verdict"] in ("pass", "fail") and step["generator_cpu"] < 0.9
        assert {"load", "calls_per_s", "success_rate", "latency_ms", "slos", "phase", "calls"} <= set(step)
        assert step["calls"] >= 30 and step["success_rate"] == 1.0
    assert [s["phase"] for s in cap["steps"]].count("ramp") == 3
    recovery = cap["recovery"]
    assert recovery["overload"] == 16 and recovery["load"] == pytest.approx(ceiling["load"] / 2, abs=0.5)
    assert not recovery["overload_held"]  # 16 agents really broke the SLO …
    assert recovery["recovered"] and recovery["recovery_s"] <= 3  # … and a closed loop recovers at once
    # the server mcpload started is the process that was monitored
    procs = results["resources"]["processes"]
    assert len(procs) == 1 and procs[0]["source"] == "server-cmd" and f"--port {port}" in procs[0]["cmdline"]
    assert results["resources"]["summary"]["rss_bytes"]["peak"] > 10_000_000
    # the terminal shows the table and the answers
    assert "maximum sustainable load" in proc.stdout and "recovery" in proc.stdout and "knee" in proc.stdout


@pytest.mark.slow
async def test_a_server_that_rejects_breaks_success_rate_first(tmp_path):
    # 2 slots, no queue: a call that finds both busy is refused at once with a tool error
    extra = ("--latency", "50", "--latency-sigma", "0", "--max-concurrency", "2", "--reject-above", "0")
    with demo_server(extra_args=extra) as url:
        scenario = Scenario.from_dict(
            {
                "target": {"url": url},
                "agents": {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x"}}]}},
                "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
            },
            source="<test>",
        )
        settings = Settings(
            start=1, step_s=1, warmup_s=1, min_calls=10, resolution=Resolution.parse("1"), recovery_timeout_s=0
        )
        # 0.8, not 0.95: the ~20 clean calls of a 1 s step decide it (0.95 takes ~75, and every passing step
        # was run again, 4 s longer, to reach them); the agent refused at 3 slots fails far more than 20 %
        slos = parse_slos(["p95 <= 300ms", "success_rate >= 0.8"])
        cap, results = await run_capacity(scenario, slos, settings, seed=1)
    assert cap["ceiling"]["load"] == 2 and cap["breaking_point"]["load"] == 3, cap["steps"]
    assert cap["first_broken"]["slo"] == "success_rate >= 0.8"
    error = cap["dominant_error"]
    assert error["kind"] == "tool_error" and "server busy" in error["message"]
    assert cap["recovery"] is None and results["capacity"] is cap


def test_generator_bound_guard_stops_the_search(demo_url, tmp_path):
    # a CPU budget no process can stay under: the first step is the generator's limit, not the server's
    proc = mcpload(
        "capacity",
        *("--url", demo_url, *SEARCH_ARGS),
        *("--start", "2", "--step-duration", "1s", "--warmup", "0s", "--guard-cpu", "0.0001", "--out", "cap.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    cap = json.loads((tmp_path / "cap.json").read_text())["capacity"]
    assert cap["stopped"] == "generator-bound" and len(cap["steps"]) == 1
    assert cap["steps"][0]["verdict"] == "generator-bound" and cap["ceiling"] is None and cap["recovery"] is None
    assert "mcpload used" in cap["generator_bound"]["reason"]
    assert "no server ceiling" in cap["verdict"] and "stopped early" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--slo", "p95 400ms"), "--slo 'p95 400ms': expected e.g."),
        (("--slo", "p97 <= 1s"), "unknown metric 'p97'"),
        (("--step", "x1"), "--step 'x1'"),
        (("--by", "vus"), "--by 'vus'"),
        (("--resolution", "zero"), "--resolution 'zero'"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, message):
    proc = mcpload_in_process("capacity", "--url", "http://127.0.0.1:9/mcp", *SEARCH_ARGS, *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and message in proc.stderr
