"""A run's memory does not grow with its length (issue 18: the 10-minute soak grew +0.65 MiB a minute).

memray found the growth: the interval the runner keeps each second for the results was an orjson
``bytes`` of ~700 bytes sitting in an 8 KiB malloc block. The runner now spools the intervals to an
unlinked temporary file (``IntervalSpool``); these tests bound what thousands of seconds of a run
leave in Python's allocators (tracemalloc sees every ``PyMem``/``PyObject`` allocation, and orjson's
buffers are such), by count, never by time.
"""

from __future__ import annotations

import gc
import tracemalloc
from types import SimpleNamespace

import pytest

from mcpload.engine.runner import Runner, RunOptions
from mcpload.metrics import IntervalSpool, Recorder
from mcpload.outcome import Outcome

OPS = ("search_docs", "get_doc", "send_message", "get_delivery_report")


def _runner(**options) -> Runner:
    recorder = Recorder()
    load = SimpleNamespace(recorder=recorder, take_loop_lag_ms=lambda: None)  # the agents on the runner's loop
    return Runner(SimpleNamespace(thresholds=[]), load, recorder, RunOptions(**options))


def _second(runner: Runner, i: int) -> None:
    """One second of a soak-like run: a few calls of each operation, a session, a conversation."""
    rec = runner.recorder
    for k, name in enumerate(OPS):
        for j in range(3):
            rec.record(Outcome("ok", "tools/call", name, 0.0, 0.001 + 0.0001 * ((i + j + k) % 50), bytes_sent=300))
    rec.session_opened(True, 0.002)
    rec.conversation_finished(True)
    runner._cut_interval()


def _growth(runner: Runner, warm: int, seconds: int) -> int:
    for i in range(warm):
        _second(runner, i)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(seconds):
            _second(runner, warm + i)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_longer_run_holds_no_more_memory():
    runner = _runner()
    seconds = 300
    grown = _growth(runner, 30, seconds)
    # Before the fix: 300 kept intervals held ~2.4 MiB (8 KiB each); even compact copies of their JSON
    # would hold ~200 KiB. Spooled, only the recorder's own bounded state may move (a dict resize).
    assert grown < 64 * 1024, f"{seconds} intervals left {grown:,} bytes in memory"
    intervals = runner._intervals.read()
    assert len(intervals) == runner._intervals.count == 30 + seconds
    ts = [iv["t"] for iv in intervals]
    assert ts == sorted(ts)
    assert {op for iv in intervals for op in iv["ops"]} == {f"tools/call {op}" for op in OPS}
    assert all(iv["calls"] == 3 * len(OPS) for iv in intervals)


def test_spool_round_trip_on_disk(tmp_path):
    spool = IntervalSpool(tmp_path)
    records = [{"t": float(i), "calls": i, "ops": {"x": {"p95_ms": None, "n": [i, "é", 1e300]}}} for i in range(500)]
    for record in records:
        spool.append(record)
    assert spool.on_disk and spool.count == 500
    assert list(tmp_path.iterdir()) == []  # unlinked: nothing is left behind, even after SIGKILL
    assert spool.read() == records
    spool.append({"t": 500.0})  # reading does not end the spool
    assert spool.read() == [*records, {"t": 500.0}]
    spool.close()
    spool.close()


def test_spool_falls_back_to_memory_when_no_file_can_be_made(tmp_path):
    spool = IntervalSpool(tmp_path / "missing" / "folder")
    assert not spool.on_disk
    records = [{"t": float(i)} for i in range(50)]
    for record in records:
        spool.append(record)
    assert spool.read() == records and spool.count == 50


class _FailingFile:
    """A temporary file whose writes fail (disk full) after ``good`` of them, or write half a line."""

    def __init__(self, good: int, partial: bool) -> None:
        self.data = bytearray()
        self.pos = 0
        self.good = good
        self.partial = partial
        self.closed = False

    def write(self, line: bytes) -> int:
        if self.good == 0:
            if self.partial:
                self.data += line[: len(line) // 2]
                return len(line) // 2
            raise OSError(28, "No space left on device")
        self.good -= 1
        self.data += line
        return len(line)

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos
        return pos

    def read(self, n: int) -> bytes:
        return bytes(self.data[self.pos : self.pos + n])

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("good", [0, 1, 7])
def test_spool_keeps_every_interval_when_the_disk_fills(tmp_path, good, partial):
    spool = IntervalSpool(tmp_path)
    spool._file.close()
    failing = spool._file = _FailingFile(good, partial)
    records = [{"t": float(i), "s": "x" * (i % 13)} for i in range(20)]
    for record in records:
        spool.append(record)
    assert not spool.on_disk and failing.closed
    assert spool.read() == records and spool.count == 20
