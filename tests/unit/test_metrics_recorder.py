"""The recorder: counts, timings, retries, corrected latency, intervals, merging, error messages."""

from __future__ import annotations

import random

import pytest

from mcpload.metrics import Recorder
from mcpload.metrics.recorder import MAX_MESSAGE_CHARS, MAX_MESSAGES
from mcpload.outcome import Outcome


def call(kind="ok", latency=0.010, name="search_docs", started=100.0, **kw):
    return Outcome(kind, "tools/call", name, started, latency, **kw)


def test_counts_and_latency_per_operation():
    rec = Recorder()
    for ms in range(1, 101):
        rec.record(call(latency=ms / 1000, bytes_sent=10, bytes_received=100))
    rec.record(call("timeout", latency=5.0, error_message="timed out"))
    rec.record(Outcome("ok", "initialize", None, 0.0, 0.002))
    snap = rec.snapshot(10.0)
    totals = snap["totals"]
    assert totals["calls"] == 102
    assert totals["ok"] == 101
    assert totals["failed"] == 1
    assert totals["success_rate"] == pytest.approx(101 / 102)
    assert totals["calls_per_s"] == 10.2
    assert totals["bytes_sent"] == 1000
    assert totals["bytes_received"] == 10000
    assert totals["out_of_range"] == 0
    assert snap["errors"] == {"timeout": 1}
    op = snap["operations"]["tools/call search_docs"]
    assert op["calls"] == 101
    assert op["errors"] == {"timeout": 1}
    assert op["latency_ms"]["p50"] == pytest.approx(51.0, rel=1e-3)
    assert op["latency_ms"]["max"] == pytest.approx(5000.0, rel=1e-3)
    assert snap["operations"]["initialize"]["latency_ms"]["max"] == 2.0
    assert snap["latency_ms"]["count"] == 102


def test_out_of_range_is_clamped_and_counted():
    rec = Recorder()
    rec.record(call(latency=7200.0))  # two hours
    rec.record(call(latency=0.0))
    rec.record(call(latency=0.5))
    snap = rec.snapshot(1.0)
    assert snap["totals"]["out_of_range"] == 2
    assert snap["latency_ms"]["count"] == 3  # kept, not dropped
    assert snap["latency_ms"]["max"] >= 3_600_000
    assert snap["latency_ms"]["min"] == 0.001


def test_retries_are_calls_but_timed_apart():
    rec = Recorder()
    rec.record(call("http_error", latency=0.010, http_status=503))
    rec.record(call("ok", latency=0.050), retry=True)
    snap = rec.snapshot(1.0)
    assert snap["totals"]["calls"] == 2
    assert snap["totals"]["ok"] == 1
    assert snap["totals"]["success_rate"] == 0.5
    assert snap["totals"]["retries"] == 1
    assert snap["latency_ms"]["count"] == 1
    assert snap["latency_ms"]["max"] == pytest.approx(10.0, rel=1e-3)
    assert snap["retry_latency_ms"]["count"] == 1
    assert snap["retry_latency_ms"]["max"] == pytest.approx(50.0, rel=1e-3)
    op = snap["operations"]["tools/call search_docs"]
    assert op["retries"] == 1
    assert op["retry_latency_ms"]["count"] == 1
    interval = Recorder()
    interval.record(call(), retry=True)
    assert interval.interval(1.0)["retries"] == 1


def test_no_retries_no_retry_section():
    rec = Recorder()
    rec.record(call())
    snap = rec.snapshot(1.0)
    assert "retry_latency_ms" not in snap
    assert "retry_latency_ms" not in snap["operations"]["tools/call search_docs"]


def test_corrected_latency_from_intended_start():
    rec = Recorder()
    rec.record(call(latency=0.010))
    assert "latency_corrected_ms" not in rec.snapshot(1.0)
    # Scheduled at 99.5 s, sent at 100.0 s (the generator was behind), answered in 10 ms.
    rec.record(call(latency=0.010, started=100.0), intended_start=99.5)
    snap = rec.snapshot(1.0)
    assert snap["latency_corrected_ms"]["count"] == 1
    assert snap["latency_corrected_ms"]["max"] == pytest.approx(510.0, rel=1e-3)
    assert snap["latency_ms"]["max"] == pytest.approx(10.0, rel=1e-3)


def test_interval_cuts_and_resets():
    rec = Recorder()
    rec.active_agents, rec.target_agents = 3, 5
    for _ in range(10):
        rec.record(call(latency=0.020, bytes_sent=1, bytes_received=2))
    rec.record(call("rpc_error", error_code=-32602, error_message="bad"))
    first = rec.interval(2.0)
    assert first["t"] == 2.0
    assert first["calls"] == 11
    assert first["ok"] == 10
    assert first["failed"] == 1
    assert first["errors"] == {"rpc_error": 1}
    assert first["calls_per_s"] == 5.5
    assert first["p50_ms"] == pytest.approx(20.0, rel=1e-3)
    assert first["active_agents"] == 3
    assert first["target_agents"] == 5
    assert first["bytes_sent"] == 10
    assert first["ops"] == {"tools/call search_docs": {"calls": 11, "ok": 10, "failed": 1, "p95_ms": first["p95_ms"]}}
    for _ in range(3):
        rec.record(call(latency=0.100))
    second = rec.interval(3.0004)
    assert second["t"] == 3.0
    assert second["calls"] == 3
    assert second["calls_per_s"] == pytest.approx(3 / 1.0004, abs=1e-3)
    assert second["errors"] == {}
    assert second["p50_ms"] == pytest.approx(100.0, rel=1e-3)
    empty = rec.interval(4.0)
    assert empty["calls"] == 0
    assert empty["calls_per_s"] == 0.0
    assert empty["p50_ms"] is None and empty["max_ms"] is None
    assert empty["ops"] == {}
    assert empty["bytes_sent"] == 0
    snap = rec.snapshot()  # elapsed defaults to the last cut
    assert snap["totals"]["calls"] == 14
    assert snap["totals"]["calls_per_s"] == 3.5
    assert snap["latency_ms"]["count"] == 14


def test_snapshot_mid_interval_sees_everything_and_extra_percentiles():
    rec = Recorder()
    for ms in range(1, 11):
        rec.record(call(latency=ms / 1000))
    rec.interval(1.0)
    for ms in range(11, 21):
        rec.record(call(latency=ms / 1000))
    snap = rec.snapshot(2.0, percentiles=(97.5,))
    assert snap["latency_ms"]["count"] == 20
    assert snap["latency_ms"]["p97.5"] == pytest.approx(20.0, rel=1e-3)  # HDR: 3 significant figures
    assert snap["operations"]["tools/call search_docs"]["latency_ms"]["p97.5"] == snap["latency_ms"]["p97.5"]
    assert rec.interval(2.0)["calls"] == 10  # the snapshot did not cut the interval


def test_sessions_conversations_arrivals():
    rec = Recorder()
    rec.session_opened(True, 0.030)
    rec.session_opened(True, 0.050)
    rec.session_opened(False, 5.0)
    rec.session_closed()
    rec.conversation_finished(True, tokens=100)
    rec.conversation_finished(False, tokens=40, wasted_tokens=40)
    rec.arrival(True, 0.0)
    rec.arrival(True, 0.200)
    rec.arrival(False)
    iv = rec.interval(1.0)
    assert (iv["sessions_started"], iv["sessions_failed"]) == (3, 1)
    assert (iv["conversations_ok"], iv["conversations_failed"]) == (1, 1)
    assert (iv["arrivals"], iv["dropped"]) == (3, 1)
    snap = rec.snapshot()
    assert snap["sessions"] == {
        "started": 3,
        "completed": 1,
        "failed": 1,
        "success_rate": pytest.approx(2 / 3),
        "setup_ms": {
            "p50": pytest.approx(30.0, rel=1e-3),
            "p95": pytest.approx(50.0, rel=1e-3),
            "max": pytest.approx(50.0, rel=1e-3),
        },
    }
    assert snap["conversations"] == {
        "completed": 2,
        "ok": 1,
        "failed": 1,
        "success_rate": 0.5,
        "tokens": 140,
        "wasted_tokens": 40,
    }
    assert snap["arrivals"]["scheduled"] == 3
    assert snap["arrivals"]["started"] == 2
    assert snap["arrivals"]["dropped"] == 1
    assert snap["arrivals"]["late_p99_ms"] == pytest.approx(200.0, rel=1e-3)
    assert snap["totals"]["out_of_range"] == 0  # on time (0 s late) is not out of range
    assert "arrivals" not in Recorder().snapshot()


def test_no_calls_means_no_rates():
    snap = Recorder().snapshot(0.0)
    assert snap["totals"]["success_rate"] is None
    assert snap["totals"]["calls_per_s"] is None
    assert snap["latency_ms"] is None
    assert snap["sessions"]["setup_ms"] is None
    assert snap["conversations"]["success_rate"] is None


def _outcomes(n, seed):
    rng = random.Random(seed)
    kinds = ["ok"] * 8 + ["timeout", "rpc_error"]
    for i in range(n):
        kind = rng.choice(kinds)
        msg = f"err {rng.randint(0, 3)}" if kind != "ok" else None
        out = call(kind, latency=rng.lognormvariate(-4, 1), name=rng.choice(["a", "b", "c"]), error_message=msg)
        out.bytes_sent = i
        yield out, rng.random() < 0.1, (out.started - rng.random() if rng.random() < 0.3 else None)


def test_add_merges_exactly():
    whole, left, right = Recorder(), Recorder(), Recorder()
    batches = [list(_outcomes(400, seed)) for seed in range(4)]
    for i, batch in enumerate(batches):
        part = left if i % 2 == 0 else right
        for out, retry, intended in batch:
            whole.record(out, retry=retry, intended_start=intended)
            part.record(out, retry=retry, intended_start=intended)
        for r in (whole, part):
            r.session_opened(True, 0.01 * (i + 1))
            r.conversation_finished(i % 2 == 0, tokens=i)
            r.arrival(True, 0.001 * i)
        if i == 1:  # an interval cut in the middle: earlier parts and current parts both merge
            for r in (whole, left, right):
                r.interval(1.0)
    whole.active_agents, left.active_agents, right.active_agents = 4, 1, 3
    left.add(right)
    assert left.snapshot(2.0) == whole.snapshot(2.0)
    assert {k: h.encode() for k, h in left.histograms().items()} == {
        k: h.encode() for k, h in whole.histograms().items()
    }
    assert left.interval(2.0) == whole.interval(2.0)


def test_error_messages_are_capped_and_truncated():
    rec = Recorder()
    for _ in range(5):
        rec.record(call("http_error", http_status=503, error_message="x" * 500))
    for i in range(MAX_MESSAGES + 100):
        rec.record(call("rpc_error", error_code=-32000, error_message=f"id {i}"))
    assert len(rec._messages) == MAX_MESSAGES + 1  # the cap, plus one "other" per (kind, operation)
    assert sum(rec._messages.values()) == MAX_MESSAGES + 105  # nothing lost
    top = rec.snapshot(1.0)["top_errors"]
    assert len(top) == 10
    # One slot went to the HTTP message, so 101 rpc_error messages found the table full.
    assert top[0] == {"kind": "rpc_error", "operation": "tools/call search_docs", "message": "other", "count": 101}
    assert top[1]["kind"] == "http_error"
    assert top[1]["count"] == 5
    assert len(top[1]["message"]) == MAX_MESSAGE_CHARS
    assert top[1]["message"].startswith("HTTP 503 xxx")
    assert top[2]["message"] == "code -32000 id 0"


def test_top_errors_order():
    rec = Recorder()
    for msg, n in (("b", 3), ("a", 3), ("c", 7)):
        for _ in range(n):
            rec.record(call("tool_error", error_message=msg))
    top = rec.snapshot(1.0)["top_errors"]
    assert [(e["message"], e["count"]) for e in top] == [("c", 7), ("a", 3), ("b", 3)]
    assert top[0] == {"kind": "tool_error", "operation": "tools/call search_docs", "message": "c", "count": 7}
