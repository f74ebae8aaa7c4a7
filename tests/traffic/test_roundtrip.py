"""The acceptance test of traffic analysis: record → fit → run → record, against the demo server.

A known scenario runs through the recording proxy; ``fit`` turns its trace into a scenario; that
scenario runs through the proxy again; both traces are analysed and must agree within the stated
tolerances (docs/traffic.md gives the figures measured). A few seconds of load each, HTTP and stdio.
"""

from __future__ import annotations

import functools
import json
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from mcpload.demo.launch import demo_server, free_port, stop_process, wait_for_port
from tests.helpers import ENV, MCPLOAD_MODULE, mcpload, mcpload_in_process

HERE = Path(__file__).parent
MCPLOAD = MCPLOAD_MODULE

# The tolerances the round trip must meet (and docs/traffic.md states).
MIX_POINTS = 8.0  # tool share, percentage points
GAP_P50 = 0.35  # think and idle medians, relative
BURST_CV = 0.40  # CV of inter-arrival gaps, relative

pytestmark = pytest.mark.slow


mcpload = functools.partial(mcpload, module=True, timeout=90, expect_ok=True)


def run_through_proxy(scenario: Path, upstream: str, trace: Path, seed: int) -> None:
    port = free_port()
    recorder = subprocess.Popen(
        [*MCPLOAD, "record", "--upstream", upstream, "--listen", f"127.0.0.1:{port}", "-o", str(trace)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port("127.0.0.1", port, 30, recorder)
        url = f"http://127.0.0.1:{port}/mcp"
        mcpload("run", str(scenario), "--url", url, "--protocol", "2025-11-25", "--seed", str(seed), "-q",
                "--out", str(trace.with_suffix(".results.json")))  # fmt: skip
    finally:
        recorder.send_signal(signal.SIGINT)  # the recorder's normal stop: sessions closed, trace complete
        recorder.wait(15)
        stop_process(recorder)


def offline(*args: str | Path) -> None:
    """A command that only reads and writes files (fit, analyze): in this process, no interpreter start."""
    done = mcpload_in_process(*args)
    assert done.returncode == 0, done.stderr[-2000:]


def analysis(*traces: Path) -> dict:
    out = traces[0].with_suffix(".analysis.json")
    offline("analyze", *traces, "--json", out)
    return json.loads(out.read_text())


def assert_close(before: dict, after: dict) -> None:
    tools = set(before["tools"]) | set(after["tools"])
    for tool in tools:
        a = before["tools"].get(tool, {"share": 0})["share"] * 100
        b = after["tools"].get(tool, {"share": 0})["share"] * 100
        assert abs(a - b) <= MIX_POINTS, f"{tool}: share {a:.1f} % recorded, {b:.1f} % fitted"
    for kind in ("think", "idle"):
        a, b = before["gaps"][kind]["summary"]["p50"], after["gaps"][kind]["summary"]["p50"]
        assert abs(b - a) <= GAP_P50 * a, f"{kind} p50 {a:.3f}s recorded, {b:.3f}s fitted"
    a, b = before["burstiness"]["gap_cv"], after["burstiness"]["gap_cv"]
    assert abs(b - a) <= BURST_CV * a, f"gap CV {a} recorded, {b} fitted"


def test_round_trip_over_http(tmp_path):
    with demo_server(extra_args=("--latency", "5", "--latency-sigma", "0.2")) as upstream:
        run_through_proxy(HERE / "roundtrip.yaml", upstream, tmp_path / "t1.jsonl", seed=1)
        offline("fit", tmp_path / "t1.jsonl", "-o", tmp_path / "fitted.yaml")
        run_through_proxy(tmp_path / "fitted.yaml", upstream, tmp_path / "t2.jsonl", seed=2)
    before, after = analysis(tmp_path / "t1.jsonl"), analysis(tmp_path / "t2.jsonl")
    assert before["sessions"]["count"] == 9 and before["conversations"]["count"] > 30
    assert_close(before, after)


def test_round_trip_over_stdio(tmp_path):
    # Each agent's session starts its own recorder (a stdio server) which starts its own demo server:
    # one trace per process, analysed together.
    server = shlex.join([*MCPLOAD, "serve-demo", "--transport", "stdio", "--latency", "5", "--latency-sigma", "0.2"])

    def recorder(folder: Path) -> str:
        folder.mkdir()
        return shlex.join(["env", f"PYTHONPATH={ENV['PYTHONPATH']}", *MCPLOAD, "record", "--stdio-cmd", server,
                           "-o", str(folder / "t-{pid}.jsonl")])  # fmt: skip

    known = yaml.safe_load((HERE / "roundtrip.yaml").read_text())
    # Each session starts two Python processes (~2-10 s on a busy machine, inside the duration), so
    # conversations are made denser than over HTTP to gather as many in the time that is left.
    known["profiles"][0].update(agents=3, duration="20s")
    for agent in known["agents"].values():
        agent["idle"] = {"lognormal": {"median": "250ms", "sigma": 0.3}}
        for step in agent["workflow"]:
            if "think" in step:
                step["think"] = {"lognormal": {"median": "40ms", "sigma": 0.3}}
    known["target"] = {"command": recorder(tmp_path / "one")}
    (tmp_path / "known.yaml").write_text(yaml.safe_dump(known))
    mcpload("run", str(tmp_path / "known.yaml"), "--seed", "1", "-q", "--out", str(tmp_path / "r1.json"), timeout=120)
    first = sorted((tmp_path / "one").glob("t-*.jsonl"))
    assert len(first) >= 3
    fitted = tmp_path / "fitted.yaml"
    offline("fit", *first, "-o", fitted)
    fitted.write_text(fitted.read_text() + yaml.safe_dump({"target": {"command": recorder(tmp_path / "two")}}))
    mcpload("run", str(fitted), "--seed", "2", "-q", "--out", str(tmp_path / "r2.json"), timeout=120)
    before, after = analysis(*first), analysis(*sorted((tmp_path / "two").glob("t-*.jsonl")))
    assert before["conversations"]["count"] > 30
    assert_close(before, after)
