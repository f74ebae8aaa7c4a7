"""Split runs against the real demo server: worker processes (--workers), segments run separately and
merged (--segment + mcpload merge), a worker lost mid-run, and Ctrl-C with workers.

The scenario is deterministic in what it sends: an even arrival rate (60 arrivals in 3 s), each arrival
one session doing two calls, so every way of splitting it must count exactly the same calls.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mcpload.distributed.loads import run_scenario
from mcpload.metrics import decode_histogram
from mcpload.scenario import load_scenario
from tests.helpers import mcpload

SCENARIO = """
name: split
target: {{url: "{url}"}}
agents:
  worker:
    workflow:
      - call: search_docs
        args: {{query: "q {{{{ agent.index }}}}"}}
      - call: get_doc
        args: {{doc_id: "doc-1"}}
profiles:
  - type: agent-arrival-rate
    rate: 20
    duration: 3s
    distribution: even
thresholds:
  success_rate: ["rate > 0.9"]
"""
CALLS = 60 * 2  # tools/call only


@pytest.fixture
def scenario_file(tmp_path: Path, demo_url: str) -> Path:
    path = tmp_path / "split.yaml"
    path.write_text(SCENARIO.format(url=demo_url))
    return path


mcpload = functools.partial(mcpload, module=True, timeout=90)


def tool_calls(results: dict) -> int:
    return sum(op["calls"] for name, op in results["operations"].items() if name.startswith("tools/call"))


def test_workers_count_what_one_process_counts(scenario_file: Path, tmp_path: Path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    for out, workers in ((one, "1"), (two, "2")):
        done = mcpload("run", scenario_file, "--workers", workers, "--seed", "3", "--out", out, "-q")
        assert done.returncode == 0, done.stderr
    single, split = json.loads(one.read_text()), json.loads(two.read_text())
    assert tool_calls(single) == tool_calls(split) == CALLS
    assert single["conversations"]["completed"] == split["conversations"]["completed"] == 60
    assert split["execution"]["backend"] == "processes"
    assert split["execution"]["segments"] == ["0:1/2", "1/2:1"]
    assert split["execution"]["lost"] == []
    per_worker = split["execution"]["per_worker"]
    assert sum(w["calls"] for w in per_worker) == split["totals"]["calls"]
    assert all(w["calls"] > 0 for w in per_worker)  # both halves did work
    # the per-second intervals the coordinator cut hold every call once
    assert sum(i["calls"] for i in split["intervals"]) == split["totals"]["calls"]
    assert decode_histogram(split["histograms"]["__all__"]).total_count == split["totals"]["calls"]


def test_segments_run_apart_merge_exactly(scenario_file: Path, tmp_path: Path):
    parts = []
    for i in (1, 2):
        out = tmp_path / f"seg{i}.json"
        done = mcpload("run", scenario_file, "--segment", f"{i}/2", "--seed", "3", "--out", out, "-q")
        assert done.returncode == 0, done.stderr
        parts.append(json.loads(out.read_text()))
        assert "state" in parts[-1]["intervals"][0]
    merged_path, html = tmp_path / "merged.json", tmp_path / "merged.html"
    done = mcpload("merge", tmp_path / "seg1.json", tmp_path / "seg2.json", "-o", merged_path, "--html", html)
    assert done.returncode == 0, done.stderr
    merged = json.loads(merged_path.read_text())
    assert tool_calls(merged) == CALLS
    assert merged["totals"]["calls"] == sum(p["totals"]["calls"] for p in parts)
    assert merged["totals"]["ok"] == sum(p["totals"]["ok"] for p in parts)
    for name in merged["operations"]:
        assert merged["operations"][name]["calls"] == sum(p["operations"].get(name, {}).get("calls", 0) for p in parts)
    # the merged histogram is the exact HDR sum of the segments' histograms
    expected = decode_histogram(parts[0]["histograms"]["__all__"])
    expected.add(decode_histogram(parts[1]["histograms"]["__all__"]))
    got = decode_histogram(merged["histograms"]["__all__"])
    assert got.total_count == expected.total_count
    for q in (50, 90, 99, 99.9, 100):
        assert got.get_value_at_percentile(q) == expected.get_value_at_percentile(q)
    assert sum(i["calls"] for i in merged["intervals"]) == merged["totals"]["calls"]
    assert merged["execution"]["missing"] == [] and merged["execution"]["covered"] == 1.0
    assert merged["thresholds"] and merged["thresholds"][0]["passed"]
    assert "2 merged segment files: 0:1/2, 1/2:1" in html.read_text()


def test_merge_refuses_what_is_not_one_runs_segments(scenario_file: Path, tmp_path: Path):
    seg = tmp_path / "seg1.json"
    whole = tmp_path / "whole.json"
    assert mcpload("run", scenario_file, "--segment", "1/2", "--seed", "3", "--out", seg, "-q").returncode == 0
    assert mcpload("run", scenario_file, "--workers", "1", "--seed", "3", "--out", whole, "-q").returncode == 0

    twice = mcpload("merge", seg, seg, "-o", tmp_path / "m.json")
    assert twice.returncode == 2
    assert "overlaps" in twice.stderr and "Traceback" not in twice.stderr
    no_state = mcpload("merge", whole, "-o", tmp_path / "m.json")
    assert no_state.returncode == 2
    assert f"{whole}: intervals[0].state: missing" in no_state.stderr
    other_seed = tmp_path / "seed4.json"
    assert mcpload("run", scenario_file, "--segment", "2/2", "--seed", "4", "--out", other_seed, "-q").returncode == 0
    mixed = mcpload("merge", seg, other_seed, "-o", tmp_path / "m.json")
    assert mixed.returncode == 2 and "seed" in mixed.stderr
    # one segment alone merges, and says what is missing
    alone = mcpload("merge", seg, "-o", tmp_path / "alone.json")
    assert alone.returncode == 0, alone.stderr
    assert "missing segments: 1/2:1" in alone.stderr
    assert json.loads((tmp_path / "alone.json").read_text())["execution"]["covered"] == 0.5


def test_a_lost_worker_is_reported_not_hidden(demo_url: str, tmp_path: Path):
    path = tmp_path / "closed.yaml"
    path.write_text(
        SCENARIO.format(url=demo_url).replace(
            "  - type: agent-arrival-rate\n    rate: 20\n    duration: 3s\n    distribution: even",
            "  - type: constant-agents\n    agents: 4\n    duration: 4s",
        )
    )
    me = psutil.Process()
    killed: list[int] = []

    def on_interval(interval, snapshot):
        if killed or interval["t"] < 1.5:
            return
        # the forked workers run our own command line; the demo server does not
        workers = [c for c in me.children() if c.cmdline() == me.cmdline()]
        assert len(workers) == 2
        os.kill(workers[-1].pid, signal.SIGKILL)
        killed.append(workers[-1].pid)

    report = asyncio.run(run_scenario(load_scenario(path), seed=1, workers=2, on_interval=on_interval))
    assert killed
    lost = report.results["execution"]["lost"]
    assert len(lost) == 1
    assert lost[0]["segment"] == "1/2:1" and lost[0]["share"] == 0.5
    assert "SIGKILL" in lost[0]["reason"]
    assert report.results["totals"]["calls"] > 0  # the other half kept measuring


def test_ctrl_c_stops_workers_and_keeps_the_results(demo_url: str, tmp_path: Path):
    path = tmp_path / "long.yaml"
    path.write_text(
        SCENARIO.format(url=demo_url).replace("duration: 3s", "duration: 60s").replace("rate: 20", "rate: 10")
    )
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcpload.cli", "run", str(path), "--workers", "2", "--out", str(out), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        deadline = time.time() + 30
        ndjson = out.with_suffix(".ndjson")
        while time.time() < deadline and (not ndjson.exists() or ndjson.read_text().count("\n") < 3):
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the coordinator and its workers
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    results = json.loads(out.read_text())
    assert results["stopped_by_user"] is True
    assert results["totals"]["calls"] > 0
    assert results["execution"]["lost"] == []
