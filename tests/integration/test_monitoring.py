"""Target resource monitoring against real servers: the sampled process is the right one (the server
``--server-cmd`` started, or the one ``--monitor-name`` names), its figures are plausible under load,
they reach the intervals (NDJSON too) and the results, and stdio targets add up over their processes."""

from __future__ import annotations

import functools
import json
import sys

import psutil

from mcpload.demo.launch import free_port
from mcpload.engine.execute import run_scenario
from mcpload.metrics import read_intervals
from mcpload.monitor import MonitorConfig, monitoring
from mcpload.scenario import Scenario
from tests.helpers import mcpload

SEARCH = {"call": "search_docs", "args": {"query": "x", "limit": 2}}


mcpload = functools.partial(mcpload, timeout=60)


async def test_server_cmd_is_started_sampled_and_stopped(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    config = MonitorConfig(
        server_cmd=f"{sys.executable} -m mcpload.cli serve-demo --port {port} --latency 1", extrapolate_agents=100
    )
    scenario = Scenario.from_dict(
        {
            "target": {"url": url},
            "agents": {"a": {"workflow": [SEARCH]}},
            "profiles": {"type": "constant-agents", "agents": 6, "duration": "3s"},
        },
        source="<test>",
    )
    with monitoring(config, url) as mon:
        server_pid = mon.sampler.selection.server_pid
        assert psutil.pid_exists(server_pid)
        report = await run_scenario(scenario, annotators=[mon.annotator()], intervals=tmp_path / "r.ndjson")
    assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE
    res = report.results["resources"]
    assert [p["pid"] for p in res["processes"]] == [server_pid]
    assert res["processes"][0]["source"] == "server-cmd" and f"--port {port}" in res["processes"][0]["cmdline"]
    samples = res["samples"]
    assert len(samples) >= 2 and all(0 <= s["t"] <= report.results["duration_s"] + 0.01 for s in samples)
    assert all(s["processes"] == 1 and s["rss_bytes"] > 10_000_000 for s in samples)
    assert res["summary"]["cpu_percent"]["peak"] > 5  # six agents calling back to back keep it busy
    assert res["summary"]["connections"]["peak"] >= 6  # one per agent at least
    assert res["baseline"] is not None and res["baseline"]["rss_bytes"] > 0  # idle, before the load
    derived = res["derived"]
    assert derived["cpu_seconds_per_1k_calls"] > 0 and derived["peak_active_agents"] == 6
    extra = derived["extrapolation"]
    assert extra["agents"] == 100 and extra["cores"] > 0 and extra["memory_gib"] > 0
    assert "to serve 100 agents" in extra["statement"] and extra["assumptions"]
    # every full interval carries the latest sample, in the results and in the NDJSON log alike
    _, intervals, _ = read_intervals(tmp_path / "r.ndjson")
    assert all("resources" in iv for iv in intervals[:2])
    assert intervals[0]["resources"]["rss_bytes"] > 0
    assert report.results["intervals"][0]["resources"] == intervals[0]["resources"]


def test_monitor_name_finds_the_running_server(demo_url, tmp_path):
    port = demo_url.rsplit(":", 1)[1].split("/")[0]
    server = [p for p in psutil.Process().children() if f"--port {port}" in " ".join(p.cmdline())]
    assert len(server) == 1
    proc = mcpload(
        "run",
        *("--url", demo_url, "--tool", "search_docs", "--args", '{"query": "x"}', "--agents", "4"),
        *("--duration", "2s", "--quiet", "--out", "r.json", "--monitor-name", f"serve-demo.*--port {port}\\b"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "r.json").read_text())["resources"]
    assert [(p["pid"], p["source"]) for p in res["processes"]] == [(server[0].pid, "name")]
    assert res["summary"]["cpu_percent"]["peak"] > 0 and res["summary"]["rss_bytes"]["peak"] > 0
    assert "resources of 1 target process" in proc.stdout


def test_stdio_targets_add_up_over_their_server_processes(tmp_path):
    cmd = f"{sys.executable} -m mcpload.cli serve-demo --transport stdio --latency 1"
    proc = mcpload(
        "run",
        *("--stdio-cmd", cmd, "--tool", "search_docs", "--args", '{"query": "x"}', "--agents", "3"),
        *("--duration", "3s", "--quiet", "--out", "r.json"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "r.json").read_text())["resources"]
    # one server process per session: three agents, three processes summed in every sample
    assert res["summary"]["processes"]["peak"] == 3
    assert all(p["source"] == "stdio" and "--transport stdio" in p["cmdline"] for p in res["processes"])
    during = [s for s in res["samples"] if s["processes"] == 3]
    assert during and all(s["rss_bytes"] > 3 * 10_000_000 for s in during)  # three Python servers' memory
    assert res["summary"]["cpu_percent"]["peak"] > 0
    assert res["derived"]["rss_per_active_session_bytes"] > 10_000_000  # each session is a whole process
