"""The NDJSON interval log: written line by line, read back even when the run died mid-line."""

from __future__ import annotations

from typing import Any

import pytest

from mcpload.metrics import IntervalWriter, read_intervals
from mcpload.metrics.intervals import COUNT_FIELDS, INTERVAL_FIELDS
from mcpload.metrics.rebuild import results_from_intervals


def test_round_trip(tmp_path):
    path = tmp_path / "run.ndjson"
    with IntervalWriter(path, {"run": "r1", "target": "t"}) as writer:
        writer.write_interval({"t": 1.0, "calls": 3})
        # Flushed at once: a reader (or a crash) sees every line written so far.
        assert read_intervals(path) == ({"run": "r1", "target": "t"}, [{"t": 1.0, "calls": 3}], None)
        writer.write_interval({"t": 2.0, "calls": 4})
        writer.write_summary({"totals": {"calls": 7}})
    lines = path.read_bytes().splitlines()
    assert lines[0].startswith(b'{"type":"meta"')
    assert lines[1].startswith(b'{"type":"interval"')
    meta, intervals, summary = read_intervals(path)
    assert meta == {"run": "r1", "target": "t"}
    assert intervals == [{"t": 1.0, "calls": 3}, {"t": 2.0, "calls": 4}]
    assert summary == {"totals": {"calls": 7}}


def test_caller_dict_is_not_changed(tmp_path):
    interval = {"t": 1.0}
    with IntervalWriter(tmp_path / "x.ndjson") as writer:
        writer.write_meta({})
        writer.write_interval(interval)
    assert interval == {"t": 1.0}


def test_truncated_last_line_is_ignored(tmp_path):
    path = tmp_path / "run.ndjson"
    with IntervalWriter(path, {"run": "r2"}) as writer:
        for t in range(1, 4):
            writer.write_interval({"t": float(t), "calls": t})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 9])  # the process died while writing the third interval
    meta, intervals, summary = read_intervals(path)
    assert meta == {"run": "r2"}
    assert [i["t"] for i in intervals] == [1.0, 2.0]
    assert summary is None


def test_bad_line_in_the_middle_raises(tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(b'{"type":"meta"}\n{"type":"interv\n{"type":"interval","t":1}\n')
    with pytest.raises(ValueError, match=r"run.ndjson:2"):
        read_intervals(path)


def test_unknown_record_type_raises(tmp_path):
    path = tmp_path / "run.ndjson"
    path.write_bytes(b'{"type":"meta"}\n{"type":"bogus"}\n{"type":"interval"}\n')
    with pytest.raises(ValueError, match="unknown record type 'bogus'"):
        read_intervals(path)


def test_write_after_close_raises(tmp_path):
    writer = IntervalWriter(tmp_path / "x.ndjson")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write_interval({})


def _recorded_run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Three intervals of a recorder that saw every kind of count, and its snapshot."""
    from mcpload.metrics import Recorder
    from mcpload.outcome import Outcome

    rec = Recorder()
    intervals = []
    for second in range(1, 4):
        for i in range(5 * second):
            kind = "ok" if i % 4 else "timeout"
            rec.record(Outcome(kind, "tools/call", "search", 0.0, 0.001 * (i + 1), bytes_sent=7, bytes_received=11))
        rec.record(Outcome("rpc_error", "tools/call", "search", 0.0, 0.002), retry=True)
        rec.session_opened(True, 0.01)
        rec.session_opened(False, 0.02, "transport")
        rec.conversation_finished(second % 2 == 0)
        rec.arrival(True, 0.001)
        rec.arrival(False)
        intervals.append(rec.interval(float(second)))
    return intervals, rec.snapshot(3.0)


def test_the_recorder_writes_the_interval_fields_in_their_order() -> None:
    intervals, _ = _recorded_run()
    for interval in intervals:
        keys = list(interval)
        assert keys == [*INTERVAL_FIELDS[:4], "errors", *INTERVAL_FIELDS[4:], "ops"]
        assert all(isinstance(interval[name], int | float) for name in INTERVAL_FIELDS)


def test_the_counts_of_the_intervals_add_up_to_the_run() -> None:
    intervals, snapshot = _recorded_run()
    assert set(COUNT_FIELDS) < set(INTERVAL_FIELDS)
    assert {"t", "calls_per_s", "p95_ms", "active_agents"}.isdisjoint(COUNT_FIELDS)
    sums = {name: sum(iv[name] for iv in intervals) for name in COUNT_FIELDS}
    assert all(sums[name] > 0 for name in COUNT_FIELDS)  # the run above saw every kind of count
    rebuilt = results_from_intervals({}, intervals)
    for section in ("totals", "sessions", "conversations", "arrivals"):
        for key, value in rebuilt[section].items():
            if isinstance(value, int) and key in snapshot[section]:
                assert value == snapshot[section][key], (section, key)
    assert rebuilt["totals"]["calls"] == sums["calls"] == snapshot["totals"]["calls"]
