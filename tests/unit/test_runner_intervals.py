"""The runner's interval cutting (``engine/runner.py``) on a virtual clock.

The runner cuts an interval at each whole second after the start (it sleeps until ``t0 + n``) and
once more when the load ends. Here its clock and its sleeps are virtual: a scripted load records each
call at a chosen virtual time and moves the clock forward, waking the runner's ticker exactly when its
sleep is due. So every call's interval is known in advance and nothing races real time. Asserted as
properties over any schedule: each call lands in the interval of its second, boundaries included; the
last interval is the partial one up to the end; nothing is lost or counted twice, in the intervals, the
totals, the interval log and what ``on_interval`` was shown.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import types
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import mcpload.engine.runner as runner_module
from mcpload.engine.runner import Runner, RunOptions
from mcpload.metrics import Recorder, read_intervals
from mcpload.outcome import OK, TIMEOUT, Outcome
from mcpload.scenario import Scenario

T0 = 1000.0  # the virtual clock's reading when the run starts


class VirtualClock:
    """``perf_counter`` and ``asyncio.sleep`` for the runner module: time moves only in ``advance_to``."""

    def __init__(self) -> None:
        self.now = T0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # (equal wake times wake in the order they slept)

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float, result: Any = None) -> Any:
        if delay <= 0:
            await _real_sleep(0)
            return result
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._order), fut))
        await fut
        return result

    async def sleeper(self) -> None:
        """Return once something sleeps on this clock (bounded)."""
        for _ in range(1000):
            if self._sleepers:
                return
            await _real_sleep(0)
        raise AssertionError("nothing ever slept on the virtual clock")

    async def advance_to(self, t: float) -> None:
        """Move to ``t``, waking each sleeper due on the way at its own time and letting it run until it
        sleeps again (the ticker: cut, then sleep until the next second)."""
        while self._sleepers and self._sleepers[0][0] <= t:
            wake, _, fut = heapq.heappop(self._sleepers)
            self.now = wake
            if fut.done():  # cancelled
                continue
            fut.set_result(None)
            await self.sleeper()  # the ticker has cut and gone back to sleep
        self.now = max(self.now, t)


_real_sleep = asyncio.sleep


class ScriptedLoad:
    """A ``Load`` that records ``schedule`` (seconds after the start, outcome kind) and ends at ``end``."""

    def __init__(self, clock: VirtualClock, schedule: list[tuple[float, str]], end: float) -> None:
        self.recorder = Recorder()
        self.clock, self.schedule, self.end = clock, schedule, end
        self.t0 = 0.0

    def begin(self, t0: float) -> None:
        self.t0 = t0

    async def wait(self) -> None:
        await self.clock.sleeper()  # the runner's ticker has started and sleeps until the first second
        for at, kind in self.schedule:
            await self.clock.advance_to(self.t0 + at)
            started = self.clock.now - 0.001
            self.recorder.record(Outcome(kind, "tools/call", "echo", started, 0.001))
        await self.clock.advance_to(self.t0 + self.end)

    def stop(self) -> None:
        pass

    def cancel_all(self) -> None:
        pass

    def halt(self) -> None:
        pass

    async def before_cut(self, n: int) -> None:
        pass

    def take_loop_lag_ms(self) -> float | None:
        return None  # the agents' loop is the runner's

    def extras(self) -> dict[str, Any]:
        return {}

    def execution(self) -> dict[str, Any]:
        return {"backend": "local", "workers": 1, "segments": ["1/1"], "lost": []}


SCENARIO = Scenario.from_dict(
    {
        "target": {"url": "http://127.0.0.1:1/mcp"},
        "agents": {"a": {"workflow": [{"call": "echo"}]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
)


def run_on_virtual_time(schedule: list[tuple[float, str]], end: float, log: Path | None = None):
    clock = VirtualClock()
    shown: list[dict[str, Any]] = []
    patched = types.SimpleNamespace(**{**vars(asyncio), "sleep": clock.sleep})
    saved = runner_module.asyncio, runner_module._clock
    runner_module.asyncio, runner_module._clock = patched, clock.clock
    try:
        load = ScriptedLoad(clock, schedule, end)
        options = RunOptions(on_interval=lambda interval, _snap: shown.append(interval))
        options.intervals_path = str(log) if log else None
        report = asyncio.run(Runner(SCENARIO, load, load.recorder, options).run())
    finally:
        runner_module.asyncio, runner_module._clock = saved
    return report.results, shown


def expected_cuts(end: float) -> list[float]:
    """A cut at every whole second up to the end, then the last one at the end (of length 0 when the end
    is a whole second: the ticker cut there first)."""
    return [float(n) for n in range(1, math.floor(end) + 1)] + [end]


# whole and fractional seconds both, so boundaries come up often
TIMES = st.one_of(st.integers(0, 5).map(float), st.floats(0, 5.99, allow_nan=False).map(lambda x: round(x, 3)))


@settings(max_examples=40, deadline=None)
@given(
    at=st.lists(TIMES, max_size=40),
    kinds=st.lists(st.sampled_from([OK, OK, TIMEOUT]), min_size=40, max_size=40),
    extra=st.floats(0.001, 1.5),
)
def test_each_call_lands_in_the_interval_of_its_second_and_none_is_lost(at, kinds, extra):
    schedule = [(t, kind) for t, kind in zip(sorted(at), kinds, strict=False)]
    end = round(max(at, default=0.0) + extra, 3)
    results, shown = run_on_virtual_time(schedule, end)
    intervals = results["intervals"]

    assert [i["t"] for i in intervals] == expected_cuts(end)
    # a call at k.xxx lands in the interval that ends at k+1 (a call exactly at k: the ticker cut at k first)
    per_interval = [0] * len(intervals)
    for t, _ in schedule:
        per_interval[min(math.floor(t), len(intervals) - 1)] += 1
    assert [i["calls"] for i in intervals] == per_interval
    # nothing lost or counted twice: intervals, kinds and the run's totals agree
    assert sum(i["calls"] for i in intervals) == len(schedule)
    assert sum(i["errors"].get(TIMEOUT, 0) for i in intervals) == sum(k == TIMEOUT for _, k in schedule)
    assert sum(i["ok"] for i in intervals) == sum(k == OK for _, k in schedule)
    assert sum(op["calls"] for op in results["operations"].values()) == len(schedule)
    # the rate of each interval is over its own length: the last, partial one included
    for prev, interval in zip([0.0, *[i["t"] for i in intervals]], intervals, strict=False):
        length = interval["t"] - prev
        if length > 0:
            assert interval["calls_per_s"] == round(interval["calls"] / length, 3)
    # what was shown live: every interval the ticker cut; the last cut reaches the results alone
    assert [s["t"] for s in shown] == [i["t"] for i in intervals[:-1]]
    assert [s["calls"] for s in shown] == [i["calls"] for i in intervals[:-1]]


def test_the_interval_log_holds_exactly_the_results_intervals(tmp_path):
    schedule = [(0.0, OK), (0.5, OK), (1.0, TIMEOUT), (1.999, OK), (2.0, OK), (3.25, OK)]
    results, _ = run_on_virtual_time(schedule, 3.5, tmp_path / "i.ndjson")
    _, logged, summary = read_intervals(tmp_path / "i.ndjson")
    assert [i["calls"] for i in results["intervals"]] == [2, 2, 1, 1]
    assert [i["t"] for i in results["intervals"]] == [1.0, 2.0, 3.0, 3.5]
    assert logged == results["intervals"]
    assert summary is not None and summary["duration_s"] == 3.5


def test_a_run_shorter_than_a_second_is_one_partial_interval():
    results, shown = run_on_virtual_time([(0.1, OK), (0.2, OK)], 0.25)
    assert [(i["t"], i["calls"], i["calls_per_s"]) for i in results["intervals"]] == [(0.25, 2, 8.0)]
    assert shown == []
    assert results["duration_s"] == 0.25
