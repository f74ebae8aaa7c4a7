"""The NDJSON interval log: written line by line, read back even when the run died mid-line."""

from __future__ import annotations

import pytest

from mcpload.metrics import IntervalWriter, read_intervals


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
