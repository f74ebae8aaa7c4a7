"""The Prometheus output without a Prometheus server: address parsing, the exposition text (names,
labels, exact buckets), serving and shutting down, the final state after ``stop``."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mcpload.demo.launch import free_port
from mcpload.metrics import Recorder, build_results
from mcpload.outcome import KINDS, Outcome
from mcpload.outputs.prometheus import BUCKETS_S, PrometheusOutput, RunCollector, parse_address

SEARCH = "tools/call search_docs"
META = {"scenario": "research", "run_id": "r1", "target": {"url": "http://127.0.0.1:1/mcp", "command": None}}


def call(kind="ok", latency=0.010, name="search_docs"):
    return Outcome(kind, "tools/call", name, 100.0, latency, bytes_sent=10, bytes_received=100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("0.0.0.0:1", ("0.0.0.0", 1)),
        ("localhost:65535", ("localhost", 65535)),
        ("[::1]:9464", ("::1", 9464)),
        ("9464", ("127.0.0.1", 9464)),
    ],
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "text", ["", ":9464", "host:", "host:0", "host:65536", "host:port", "::1:9464", "a b:1", "h:-1"]
)
def test_parse_address_refuses(text):
    with pytest.raises(ValueError, match=r"HOST:PORT|1 … 65535"):
        parse_address(text)


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams: dict, family: str, sample: str | None = None) -> dict:
    """``{frozenset(labels.items()): value}`` of one sample name of a family."""
    sample = sample or family
    return {frozenset(s.labels.items()): s.value for s in fams[family].samples if s.name == sample}


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


def test_exposition_names_labels_and_exact_buckets():
    rec = Recorder()
    out = PrometheusOutput(f"127.0.0.1:{free_port()}")
    out.start(META, rec)
    try:
        for ms in range(1, 101):  # 1 … 100 ms: integers in ms, so every bucket count is known exactly
            rec.record(call(latency=ms / 1000))
        rec.record(call("timeout", latency=5.0))
        rec.record(call("http_error", latency=0.002), retry=True)
        rec.record(call(latency=0.003, name="get_doc"))
        rec.session_opened(True, 0.01)
        rec.session_opened(False, 0.0)
        rec.conversation_finished(True, tokens=100)
        rec.conversation_finished(False, tokens=50, wasted_tokens=50)
        rec.arrival(True)
        rec.arrival(False)
        rec.active_agents, rec.target_agents = 3, 4
        iv = rec.interval(1.0)
        out.interval(iv, rec.snapshot())
        text = scrape(out.url)
    finally:
        out.stop({"intervals": [iv], **rec.snapshot()})
    fams = families(text)
    assert set(fams) == {f.name for f in RunCollector().describe()}
    assert samples(fams, "mcpload_run_info") == {
        frozenset({"run_id": "r1", "scenario": "research", "target": "http://127.0.0.1:1/mcp"}.items()): 1.0
    }
    calls = samples(fams, "mcpload_calls", "mcpload_calls_total")
    assert calls[frozenset({"operation": SEARCH, "outcome": "ok"}.items())] == 100
    assert calls[frozenset({"operation": SEARCH, "outcome": "timeout"}.items())] == 1
    assert calls[frozenset({"operation": SEARCH, "outcome": "http_error"}.items())] == 1
    assert {dict(k)["outcome"] for k in calls} == set(KINDS)  # every outcome exported, zeros included
    assert sum(calls.values()) == 103
    assert samples(fams, "mcpload_retries", "mcpload_retries_total")[frozenset({"operation": SEARCH}.items())] == 1

    name = "mcpload_call_duration_seconds"
    buckets = {
        (dict(k)["operation"], float(dict(k)["le"])): v for k, v in samples(fams, name, name + "_bucket").items()
    }
    for op in (SEARCH, "tools/call get_doc"):
        values = [buckets[op, le] for le in (*BUCKETS_S, float("inf"))]
        assert values == sorted(values), "buckets must be cumulative"
    first = [ms / 1000 for ms in range(1, 101)] + [5.0]  # first attempts only: the retry is not in here
    for le in BUCKETS_S:
        assert buckets[SEARCH, le] == sum(v <= le for v in first), le
    assert samples(fams, name, name + "_count")[frozenset({"operation": SEARCH}.items())] == 101
    assert samples(fams, name, name + "_sum")[frozenset({"operation": SEARCH}.items())] == pytest.approx(
        sum(first), rel=1e-3
    )
    scalar = {n: next(iter(samples(fams, n).values())) for n in ("mcpload_active_agents", "mcpload_target_agents")}
    assert scalar == {"mcpload_active_agents": 3, "mcpload_target_agents": 4}
    assert samples(fams, "mcpload_sessions", "mcpload_sessions_total") == {
        frozenset({"result": "opened"}.items()): 1,
        frozenset({"result": "failed"}.items()): 1,
    }
    assert samples(fams, "mcpload_conversations", "mcpload_conversations_total") == {
        frozenset({"outcome": "ok"}.items()): 1,
        frozenset({"outcome": "failed"}.items()): 1,
    }
    assert samples(fams, "mcpload_arrivals", "mcpload_arrivals_total") == {
        frozenset({"result": "started"}.items()): 1,
        frozenset({"result": "dropped"}.items()): 1,
    }
    assert samples(fams, "mcpload_wasted_tokens", "mcpload_wasted_tokens_total") == {frozenset(): 50}
    assert samples(fams, "mcpload_tokens", "mcpload_tokens_total") == {frozenset(): 150}
    assert samples(fams, "mcpload_sent_bytes", "mcpload_sent_bytes_total") == {frozenset(): 1030}


def test_stop_publishes_the_final_state_and_closes_the_endpoint():
    rec = Recorder()
    out = PrometheusOutput(f"127.0.0.1:{free_port()}")
    out.start(META, rec)
    rec.record(call())
    rec.active_agents = 2
    out.interval(rec.interval(1.0), rec.snapshot())
    assert "mcpload_active_agents 2.0" in scrape(out.url)
    rec.record(call())  # after the last tick: only the final results have it
    rec.active_agents = 0
    iv = rec.interval(1.5)
    out.stop(build_results(rec, meta=META, intervals=[iv], thresholds=[], duration_s=1.5))
    with pytest.raises(urllib.error.URLError):
        scrape(out.url)
    fams = families(generate_latest(out.registry).decode())
    assert (
        samples(fams, "mcpload_calls", "mcpload_calls_total")[frozenset({"operation": SEARCH, "outcome": "ok"}.items())]
        == 2
    )
    assert samples(fams, "mcpload_active_agents") == {frozenset(): 0}
    out.close()  # idempotent


def test_before_the_first_interval_only_the_run_info_and_zeros():
    out = PrometheusOutput(f"127.0.0.1:{free_port()}")
    out.start({"scenario": "s", "target": {"url": None, "command": "python -m srv"}}, Recorder())
    try:
        fams = families(scrape(out.url))
    finally:
        out.stop({})
    (labels,) = samples(fams, "mcpload_run_info")
    assert dict(labels)["target"] == "python -m srv" and len(dict(labels)["run_id"]) == 12
    assert samples(fams, "mcpload_calls", "mcpload_calls_total") == {}
    assert samples(fams, "mcpload_active_agents") == {frozenset(): 0}


def test_port_in_use_fails_at_listen():
    port = free_port()
    first = PrometheusOutput(f"127.0.0.1:{port}")
    first.listen()
    try:
        with pytest.raises(OSError):
            PrometheusOutput(f"127.0.0.1:{port}").listen()
    finally:
        first.close()
