"""Traffic analysis: the statistics recover what a synthetic trace was built with."""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil
import subprocess

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.traffic import stats
from mcpload.traffic.analysis import analyze
from mcpload.traffic.page import render_page, write_page
from mcpload.traffic.sessions import batches
from mcpload.traffic.trace import TraceError, read_trace, read_traces
from tests.traffic.synth import synth_trace


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    path = synth_trace(tmp_path_factory.mktemp("t") / "t.jsonl", sessions=150, seed=3)
    return analyze(read_trace(path), keep_gaps=True)


def test_think_and_idle_fits_recover_the_generating_parameters(analysis):
    think, idle = analysis["gaps"]["think"], analysis["gaps"]["idle"]
    assert think["best"]["kind"] == "lognormal" and idle["best"]["kind"] == "lognormal"
    assert think["best"]["params"]["median"] == pytest.approx(0.5, rel=0.12)
    assert think["best"]["params"]["sigma"] == pytest.approx(0.5, rel=0.15)
    assert idle["best"]["params"]["median"] == pytest.approx(20, rel=0.15)
    assert think["best"]["ks"] < think["ks_critical_5pct"]


def test_idle_threshold_separates_think_from_idle(analysis):
    threshold = analysis["idle_threshold"]["seconds"]
    assert max(analysis["gap_values"]["think"]) < threshold < min(analysis["gap_values"]["idle"])
    assert analysis["conversations"]["count"] == 150 * 3
    assert analysis["conversations"]["chain_length"]["p50"] == 2


def test_tool_mix_transitions_batches_and_personas(analysis):
    tools = analysis["tools"]
    assert tools["get_doc"]["calls"] == 2 * tools["search_docs"]["calls"]
    assert analysis["transitions"]["search_docs"] == {"get_doc": tools["search_docs"]["calls"]}
    assert analysis["batches"]["by_state"]["get_doc"] == {"2": tools["search_docs"]["calls"]}
    assert tools["search_docs"]["argument_variety"]["distinct"] == 3
    names = {p["name"]: p for p in analysis["personas"]}
    assert set(names) == {"get_doc", "send_message"}
    assert sum(p["share"] for p in names.values()) == pytest.approx(1)
    assert names["get_doc"]["share"] == pytest.approx(0.67, abs=0.12)


def test_a_poisson_stream_reads_as_poisson():
    rng = random.Random(5)
    t, times = 0.0, []
    while t < 2000:
        t += rng.expovariate(5.0)
        times.append(t)
    b = stats.cv([y - x for x, y in itertools.pairwise(times)])
    assert b == pytest.approx(1.0, abs=0.05)
    assert stats.index_of_dispersion(times, 1.0, 2000) == pytest.approx(1.0, abs=0.15)


def test_ks_statistic_against_known_values():
    assert stats.ks_statistic([0.5], lambda x: x) == pytest.approx(0.5)
    values = [(i + 0.5) / 100 for i in range(100)]
    assert stats.ks_statistic(values, lambda x: min(1, max(0, x))) == pytest.approx(0.005)
    assert stats.ks_critical(100) == pytest.approx(0.1358, abs=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 100), st.floats(0.05, 2.0), st.integers(0, 10_000))
def test_lognormal_mle_matches_the_closed_form(median, sigma, seed):
    rng = random.Random(seed)
    values = [median * math.exp(sigma * rng.gauss(0, 1)) for _ in range(50)]
    fit = stats.fit_lognormal(values)
    logs = [math.log(v) for v in values]
    mu = sum(logs) / len(logs)
    assert fit.params["median"] == pytest.approx(math.exp(mu))
    assert fit.params["sigma"] == pytest.approx(math.sqrt(sum((x - mu) ** 2 for x in logs) / len(logs)))
    assert 0 <= fit.ks <= 1


def test_one_class_of_gaps_gives_no_threshold():
    rng = random.Random(2)
    threshold, separation = stats.otsu_threshold([rng.lognormvariate(0, 1) for _ in range(2000)])
    assert threshold is None and separation < stats.SEPARATION


def test_batches_group_calls_sent_before_any_answer():
    calls = [{"t": 0.0, "latency": 1.0, "tool": "a"}, {"t": 0.1, "latency": 1.0, "tool": "b"},
             {"t": 2.0, "latency": 0.5, "tool": "a"}]  # fmt: skip
    assert [len(b.calls) for b in batches(calls)] == [2, 1]
    assert batches(calls)[0].state == "a+b"


def test_not_a_trace_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"type": "call"}\n')
    with pytest.raises(TraceError, match="not an mcpload trace"):
        read_trace(bad)
    bad.write_bytes(orjson.dumps({"type": "header", "format": "mcpload.trace/9"}) + b"\n")
    with pytest.raises(TraceError, match="not supported"):
        read_trace(bad)


def test_page_escapes_what_came_from_the_network(tmp_path):
    path = tmp_path / "t.jsonl"
    lines = [{"type": "header", "format": "mcpload.trace/1"}]
    lines += [{"type": "call", "t": i, "session": "s", "method": "tools/call", "tool": "<script>x</script>",
               "latency": 0.1, "outcome": "ok"} for i in range(5)]  # fmt: skip
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    page = render_page(analyze(read_trace(path)), [], [])
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_page_renders_in_chromium(analysis, tmp_path):
    page = write_page(tmp_path / "a.html", analysis, analysis["gap_values"]["think"], analysis["gap_values"]["idle"])
    shot = tmp_path / "a.png"
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path}/p",
           "--window-size=1300,2400", f"--screenshot={shot}", page.as_uri()]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert shot.exists() and shot.stat().st_size > 20_000
    dom = subprocess.run([*cmd[:-2], "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert "Burstiness against a Poisson process" in dom.stdout and "<svg" in dom.stdout


def test_sessions_with_the_same_tools_but_another_pace_are_another_persona(tmp_path):
    fast = synth_trace(tmp_path / "fast.jsonl", sessions=30, seed=4, think_median=0.1, idle_median=60)
    slow = synth_trace(tmp_path / "slow.jsonl", sessions=30, seed=5, think_median=1.0, idle_median=60)
    found = analyze(read_traces([fast, slow]))
    names = {p["name"]: p for p in found["personas"]}
    assert {"get_doc-fast", "get_doc-slow"} <= set(names)
    fast_p50 = names["get_doc-fast"]["gaps"]["think"]["summary"]["p50"]
    slow_p50 = names["get_doc-slow"]["gaps"]["think"]["summary"]["p50"]
    assert fast_p50 < 0.3 < 0.6 < slow_p50


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.lists(st.integers(), max_size=3),
)  # fmt: skip


def _either(typical, *, values=_values):
    return st.one_of(typical, values)


_call = st.fixed_dictionaries(
    {"type": st.sampled_from(["call", "call", "session_start", "session_end", "notification", "odd"])},
    optional={
        "t": _either(st.floats(-1e12, 1e12)),
        "session": _either(st.sampled_from(["a", "b"])),
        "method": _either(st.just("tools/call")),
        "tool": _either(st.sampled_from(["x", "y"])),
        "latency": _either(st.floats(-1, 1e6)),
        "arguments": _either(st.dictionaries(st.text(max_size=3), _values)),
        "outcome": _either(st.just("ok")),
        "direction": _either(st.just("client")),
    },
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_call.map(lambda d: json.dumps(d).encode()), st.binary(max_size=40)), max_size=30))
def test_any_trace_file_reads_and_analyses_without_crashing(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "t.jsonl"
    header = orjson.dumps({"type": "header", "format": "mcpload.trace/1", "started": 0})
    path.write_bytes(b"\n".join([header, *(line.replace(b"\n", b" ") for line in lines)]) + b"\n")
    trace = read_trace(path)
    if trace.tool_calls():
        result = analyze(trace, keep_gaps=True)
        assert len(result["sessions"]["concurrency"]["series"]) <= 3600
        orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS)  # the JSON output is writable
        render_page(result, result["gap_values"]["think"], result["gap_values"]["idle"])


@pytest.mark.parametrize(("shape", "scale"), [(0.25, 8.0), (1.0, 2.0), (4.0, 0.5)])
def test_gamma_fit_recovers_its_shape_and_its_cdf_is_right(shape, scale):
    rng = random.Random(11)
    values = [rng.gammavariate(shape, scale) for _ in range(4000)]
    fit = stats.fit_gamma(values)
    assert fit.params["shape"] == pytest.approx(shape, rel=0.1)
    assert fit.params["cv"] == pytest.approx(1 / math.sqrt(shape), rel=0.06)
    assert fit.ks < stats.ks_critical(len(values))
    assert stats.best_fit(values)["best"].kind in ("gamma", "exponential" if shape == 1.0 else "gamma")
    assert stats.gamma_cdf(3.0, 1.0, 2.0) == pytest.approx(1 - math.exp(-1.5), abs=1e-12)
