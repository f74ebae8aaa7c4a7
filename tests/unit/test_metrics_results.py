"""The results document: its fields, and histograms that decode back for later merging."""

from __future__ import annotations

import orjson
import pytest

from mcpload.metrics import SCHEMA, Recorder, build_results, decode_histogram
from mcpload.outcome import Outcome

META = {
    "started_at": "2025-01-01T00:00:00Z",
    "target": "http://127.0.0.1:8000/mcp",
    "scenario": "demo.yaml",
    "profiles": [{"kind": "closed"}],
    "seed": 42,
}


def make_recorder(open_model: bool = False) -> Recorder:
    rec = Recorder()
    for i in range(50):
        out = Outcome("ok", "tools/call", "search", 10.0, 0.001 * (i + 1), bytes_sent=100, bytes_received=200)
        rec.record(out, intended_start=9.9 if open_model else None)
    rec.record(Outcome("timeout", "tools/call", "search", 10.0, 30.0))
    rec.record(Outcome("ok", "initialize", None, 10.0, 0.004))
    rec.record(Outcome("ok", "tools/call", "search", 10.0, 0.02), retry=True)
    rec.session_opened(True, 0.01)
    rec.session_closed()
    rec.conversation_finished(True, tokens=10)
    if open_model:
        rec.arrival(True, 0.002)
        rec.arrival(False)
    return rec


def test_results_document_fields():
    rec = make_recorder()
    intervals = [rec.interval(1.0)]
    doc = build_results(rec, meta=META, intervals=intervals, thresholds=[{"metric": "x"}], duration_s=1.0004)
    assert doc["schema"] == SCHEMA == "mcpload.results/1"
    for key in ("started_at", "target", "scenario", "profiles", "seed"):
        assert doc[key] == META[key]
    assert doc["duration_s"] == 1.0
    assert doc["totals"] == {
        "calls": 53,
        "ok": 52,
        "failed": 1,
        "success_rate": pytest.approx(52 / 53),
        "calls_per_s": round(53 / 1.0004, 3),
        "retries": 1,
        "bytes_sent": 5000,
        "bytes_received": 10000,
        "out_of_range": 0,
        "tool_calls": 52,
        "tool_ok": 51,
        "tool_success_rate": pytest.approx(51 / 52),
    }
    assert set(doc["latency_ms"]) == {"min", "mean", "p50", "p90", "p95", "p99", "p999", "max", "count"}
    assert doc["latency_ms"]["count"] == 52
    assert "latency_corrected_ms" not in doc
    assert "arrivals" not in doc
    assert doc["retry_latency_ms"]["count"] == 1
    search = doc["operations"]["tools/call search"]
    assert set(search) == {
        "calls",
        "ok",
        "failed",
        "success_rate",
        "calls_per_s",
        "errors",
        "latency_ms",
        "retries",
        "retry_latency_ms",
    }
    assert search["errors"] == {"timeout": 1}
    assert doc["errors"] == {"timeout": 1}
    assert doc["top_errors"] == [{"kind": "timeout", "operation": "tools/call search", "message": "", "count": 1}]
    assert doc["sessions"]["started"] == doc["sessions"]["completed"] == 1
    assert doc["conversations"]["tokens"] == 10
    assert doc["intervals"] == intervals
    assert doc["thresholds"] == [{"metric": "x"}]
    assert set(doc["histograms"]) == {"tools/call search", "initialize", "__all__", "__retries__"}
    assert orjson.loads(orjson.dumps(doc))["totals"]["calls"] == 53  # plain JSON types only


def test_open_model_sections():
    doc = build_results(make_recorder(open_model=True), meta=META, intervals=[], thresholds=[], duration_s=1.0)
    assert doc["latency_corrected_ms"]["count"] == 50
    assert doc["latency_corrected_ms"]["min"] > doc["latency_ms"]["min"]
    assert doc["arrivals"] == {"scheduled": 2, "started": 1, "dropped": 1, "late_p99_ms": 2.0}
    assert "__corrected__" in doc["histograms"]


def test_histograms_decode_and_merge():
    rec = make_recorder()
    doc = build_results(rec, meta={}, intervals=[], thresholds=[], duration_s=1.0)
    assert doc["started_at"] is None
    everything = decode_histogram(doc["histograms"]["__all__"])
    assert everything.get_total_count() == 52
    search = decode_histogram(doc["histograms"]["tools/call search"])
    search.add(decode_histogram(doc["histograms"]["initialize"]))
    assert search.get_total_count() == 52
    assert search.get_value_at_percentile(99) == everything.get_value_at_percentile(99)
    assert round(everything.get_max_value() / 1000, 3) == doc["latency_ms"]["max"]


def test_decode_histogram_rejects_garbage():
    with pytest.raises(ValueError, match="not an encoded HdrHistogram"):
        decode_histogram("not a histogram")
