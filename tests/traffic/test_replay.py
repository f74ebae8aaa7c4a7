"""mcpload replay: recorded sessions with their timing, faster (--speed), more (--scale), with divergence."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import yaml

from mcpload.demo.launch import demo_server
from mcpload.scenario import RenderContext, Scenario
from mcpload.traffic.replay import per_call_divergence, replay_scenario
from mcpload.traffic.trace import FORMAT, read_trace
from tests.helpers import ENV


def trace_file(path: Path, sessions: int = 3, gap: float = 0.4) -> Path:
    """Sessions of search → think `gap` → two get_doc in parallel, starting 0.5 s apart."""
    lines = [{"type": "header", "format": FORMAT, "started": 0}]
    for s in range(sessions):
        t0 = 0.5 * s
        call = {"type": "call", "session": f"s{s}", "direction": "client", "method": "tools/call", "outcome": "ok"}
        lines.append({**call, "t": t0, "tool": "search_docs", "arguments": {"query": "{{ not a template }}"},
                      "latency": 0.01})  # fmt: skip
        for doc in ("a", "b"):
            lines.append({**call, "t": t0 + 0.01 + gap, "tool": "get_doc", "arguments": {"doc_id": doc},
                          "latency": 0.01})  # fmt: skip
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_replay_scenario_keeps_timing_batches_and_literal_arguments(tmp_path):
    trace = read_trace(trace_file(tmp_path / "t.jsonl"))
    text, rows = replay_scenario(trace, speed=2, scale=3)
    assert rows == []
    scenario = Scenario.from_dict(yaml.safe_load(text))
    assert len(scenario.agents) == 3 and len(scenario.profiles) == 3
    first = scenario.agents["session-00001"].workflow
    assert [s.kind for s in first] == ["call", "think", "parallel"]
    assert first[1].duration.sample(random.Random()) == pytest.approx(0.2)  # 0.4 s recorded ÷ speed 2
    ctx = RenderContext(random.Random(0), agent={"id": "a", "type": "t", "index": 0})
    ctx.start_conversation("c", 0)
    assert first[0].args.render(ctx) == {"query": "{{ not a template }}"}  # sent as recorded
    starts = sorted(p.start for p in scenario.profiles)
    assert starts == pytest.approx([0, 0.25, 0.5])  # recorded offsets ÷ speed
    assert all(p.rate == 3 for p in scenario.profiles)


def test_varied_arguments_draw_from_the_tools_recorded_values(tmp_path):
    trace = read_trace(trace_file(tmp_path / "t.jsonl"))
    text, rows = replay_scenario(trace, data_file="args.jsonl")
    (tmp_path / "args.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (tmp_path / "r.yaml").write_text(text)
    scenario = Scenario.from_dict(yaml.safe_load(text), str(tmp_path / "r.yaml"), base_dir=tmp_path)
    get_doc = next(s for s in scenario.agents["session-00001"].workflow if s.kind == "parallel").steps[0]
    ctx = RenderContext(random.Random(0), agent={"id": "a", "type": "t", "index": 0}, data=scenario.data)
    drawn = set()
    for n in range(40):
        ctx.start_conversation(f"c{n}", n)
        drawn.add(get_doc.args.render(ctx)["doc_id"])
    assert drawn == {"a", "b"}  # both recorded values, whichever session recorded them


@pytest.mark.parametrize(("speed", "scale", "jitter"), [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_bad_replay_options_are_refused(tmp_path, speed, scale, jitter):
    with pytest.raises(ValueError):
        replay_scenario(read_trace(trace_file(tmp_path / "t.jsonl")), speed=speed, scale=scale, jitter=jitter)


@pytest.mark.slow
def test_replay_against_the_demo_server_with_speed_scale_and_divergence(tmp_path):
    trace = trace_file(tmp_path / "t.jsonl", sessions=3, gap=1.0)
    with demo_server(extra_args=("--latency", "2", "--failure-rate", "get_doc=1")) as url:
        begun = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "mcpload.cli", "replay", str(trace), "--url", url, "--speed", "4", "--scale", "2",
             "--jitter", "200ms", "-q", "--out", str(tmp_path / "r.json")],
            env=ENV, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        took = time.monotonic() - begun
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["operations"]["tools/call search_docs"]["calls"] == 3 * 2
    assert results["operations"]["tools/call get_doc"]["calls"] == 3 * 2 * 2
    assert took < 30  # 2 s of recorded traffic at speed 4, plus start-up
    line = next(x for x in done.stdout.splitlines() if "tools/call get_doc" in x and "errors" in x)
    assert "0.0 % → 100.0 %" in line and "fails more now" in line


def test_per_call_divergence_pairs_clones_with_their_original(tmp_path):
    recorded = read_trace(trace_file(tmp_path / "t.jsonl", sessions=2))
    lines = [{"type": "header", "format": FORMAT, "started": 0}]
    call = {"type": "call", "direction": "client", "method": "tools/call", "latency": 0.01}
    for clone in range(2):  # two clones of each recorded session; in the second, get_doc fails now
        for s in range(2):
            sid, t0 = f"n{clone}{s}", 10 * clone + s
            lines.append({**call, "session": sid, "t": t0, "tool": "search_docs", "outcome": "ok"})
            lines.append({**call, "session": sid, "t": t0 + 0.5, "tool": "get_doc",
                          "outcome": "tool_error" if clone else "ok"})  # fmt: skip
            if not clone:
                lines.append({**call, "session": sid, "t": t0 + 0.5, "tool": "get_doc", "outcome": "ok"})
    lines.append({**call, "session": "stranger", "t": 30, "tool": "send_message", "outcome": "ok"})
    (tmp_path / "now.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    found = per_call_divergence(recorded, read_trace(tmp_path / "now.jsonl"))
    assert found["ok_then_fail_now"] == {"get_doc": 2} and found["fail_then_ok_now"] == {}
    assert found["matched"] == 2 * 3 + 2 * 2 and found["not_sent"] == 2 and found["unmatched_sessions"] == 1


@pytest.mark.slow
def test_replay_per_call_through_the_recording_proxy(tmp_path):
    trace = trace_file(tmp_path / "t.jsonl", sessions=2, gap=0.2)
    with demo_server(extra_args=("--latency", "2", "--failure-rate", "get_doc=1")) as url:
        done = subprocess.run(
            [sys.executable, "-m", "mcpload.cli", "replay", str(trace), "--url", url, "--protocol", "2025-11-25",
             "--per-call", "-q", "--out", str(tmp_path / "r.json")],
            env=ENV, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("per call"))
    assert "0 sessions unmatched" in line and "4 succeeded when recorded and fail now" in line
    assert "fail now: get_doc × 4" in done.stdout
