"""``AdaptiveLoad``'s policy (``distributed/adaptive.py``): when ``--workers auto`` adds a worker, and which
process hands over half of its segment.

The real ``AdaptiveLoad`` runs with a real ``RemoteLoad`` whose workers are stand-ins (``ProcessHandle``
replaced: no process is started; a new worker becomes ready, or fails, when the test says) and, when
this process runs agents, a real ``LocalLoad`` whose lag and CPU readings are the test's. Its clock is
virtual. Generated runs feed a (lag, CPU) sample per process per second and resolve additions after a
generated delay; a small reference model written from the policy's documented rules must make the same
decisions, and every run must keep the rules' invariants: a donor hot ``hot_intervals`` seconds in a
row and the hottest (CPU, then lag) of the candidates; no change within ``cooldown_s`` of the last, within
``min_left_s`` of the end, at the worker cap, during an addition, after a failed one or once stopping; no
segment shorter than ``2 · min_share`` split; the segments always a partition of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

from hypothesis import example, given, settings
from hypothesis import strategies as st

import mcpload.distributed.adaptive as adaptive_module
from mcpload.distributed.adaptive import AdaptiveLoad, AdaptPolicy
from mcpload.distributed.remote import RemoteLoad
from mcpload.engine.agent import SharedRunState
from mcpload.engine.load import LocalLoad
from mcpload.engine.recording import OutcomeSink
from mcpload.mcp.connect import Target
from mcpload.metrics import Recorder
from mcpload.profiles import Segment, ShareSchedule
from mcpload.profiles.shares import NOTICE_S
from mcpload.scenario import Scenario

T0 = 500.0
SCENARIO = Scenario.from_dict(
    {
        "target": {"url": "http://127.0.0.1:1/mcp"},
        "agents": {"a": {"workflow": [{"call": "echo"}]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class FakeWorker:
    """A ``ProcessHandle`` that starts nothing: ready (or failed) when the test resolves ``gate``."""

    made: ClassVar[list[FakeWorker]] = []

    def __init__(self, segment: Segment, build: Any, index: int) -> None:
        self.segment = segment
        self.name = f"worker-{index + 1}"
        self.gate: asyncio.Future[bool] | None = None
        self.reshared: list[tuple[float, Segment | None, int]] = []
        self.killed = False
        FakeWorker.made.append(self)

    def start(self, epoch: float) -> None:
        pass

    def stop(self) -> None:
        pass

    def cancel(self) -> None:
        pass

    async def messages(self) -> Any:
        await asyncio.get_running_loop().create_future()  # a worker that says nothing until the end
        yield {}

    def lost_reason(self) -> str:
        return "gone"

    async def close(self) -> None:
        pass

    async def connect(self) -> None:
        pass

    async def ready(self, timeout: float) -> None:
        self.gate = asyncio.get_running_loop().create_future()
        if not await self.gate:
            raise RuntimeError("could not build the scenario")

    def kill(self) -> None:
        self.killed = True

    def reshare(self, at_s: float, segment: Segment | None, epoch: int) -> None:
        if segment is not None:
            self.segment = segment
        self.reshared.append((at_s, segment, epoch))


class Reading:
    """This process's loop lag or CPU, as the test sets it."""

    def __init__(self) -> None:
        self.value = 0.0

    def cut(self) -> Any:
        return self.value


class LagReading(Reading):
    def cut(self) -> Any:
        return {"loop_lag_ms": self.value}


# --- a generated run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Second:
    samples: tuple[tuple[float, float], ...]  # (lag ms, CPU) per process, in order (extra ones unused)
    stop: bool = False  # the run is stopped before this second's cut


@dataclass(frozen=True)
class Case:
    local: bool  # agents run in this process too
    workers: int  # forked workers at the start
    policy: AdaptPolicy
    end_s: float
    seconds: tuple[Second, ...]
    outcomes: tuple[tuple[int, bool, float], ...]  # per addition: seconds it takes, success, when in its last second


LAGS = st.sampled_from([0.0, 5.0, 24.9, 25.0, 80.0, 300.0])
CPUS = st.sampled_from([0.0, 0.3, 0.79, 0.8, 0.95, 1.0])


@st.composite
def cases(draw: st.DrawFn) -> Case:
    local = draw(st.booleans())
    workers = draw(st.integers(0 if local else 1, 3))
    policy = AdaptPolicy(
        hot_intervals=draw(st.integers(1, 3)),
        cooldown_s=draw(st.sampled_from([0.0, 1.0, 2.5, 3.0])),
        min_left_s=draw(st.sampled_from([0.0, 0.0, 2.0, 5.0])),
        max_workers=draw(st.integers(1, 7)),
        min_share=draw(st.sampled_from([Fraction(1, 2), Fraction(1, 8), Fraction(1, 64)])),
    )
    count = draw(st.integers(4, 24))
    hot_bias = draw(st.sampled_from([0.0, 0.5, 0.9]))
    seconds = []
    for _ in range(count):
        samples = []
        for _ in range(8):
            if draw(st.floats(0, 1)) < hot_bias:
                samples.append((draw(LAGS), 1.0 if draw(st.booleans()) else draw(CPUS)))
            else:
                samples.append((draw(LAGS), draw(CPUS)))
        seconds.append(Second(tuple(samples), stop=draw(st.integers(0, 40)) == 0))
    outcomes = draw(
        st.lists(
            st.tuples(st.integers(1, 3), st.integers(0, 9).map(lambda n: n > 0), st.floats(0.05, 0.95)),
            min_size=8,
            max_size=8,
        )
    )
    return Case(local, workers, policy, draw(st.sampled_from([5.0, 8.0, 15.0, 40.0])), tuple(seconds), tuple(outcomes))


@dataclass
class Observed:
    load: AdaptiveLoad
    decided: list[tuple[float, int]] = field(default_factory=list)  # (second, donor) of each addition
    segments_each_second: list[list[Segment]] = field(default_factory=list)


def segments_of(load: AdaptiveLoad) -> list[Segment]:
    return [load._segment(i) for i in range(len(load._parts))]


def run_case(case: Case) -> Observed:
    clock = Clock()
    saved = adaptive_module._clock, adaptive_module.ProcessHandle
    adaptive_module._clock, adaptive_module.ProcessHandle = clock, FakeWorker  # type: ignore[assignment,misc]
    FakeWorker.made = []
    try:
        return asyncio.run(_run_case(case, clock))
    finally:
        adaptive_module._clock, adaptive_module.ProcessHandle = saved


async def _run_case(case: Case, clock: Clock) -> Observed:
    parts = Segment.full().split(case.workers + case.local)
    local = None
    lag, cpu = LagReading(), Reading()
    if case.local:
        recorder = Recorder()
        world = SharedRunState(
            SCENARIO, Target.stdio(["unused"]), "stdio", "2025-11-25", recorder, OutcomeSink(recorder)
        )
        local = LocalLoad(SCENARIO, world, 1, shares=ShareSchedule(parts[0], fixed=False))
        local.t0 = T0
    handles = [FakeWorker(part, None, i) for i, part in enumerate(parts[case.local :])]
    remote = RemoteLoad(handles, "processes", recorder=local.recorder if local else None)
    load = AdaptiveLoad(local, remote, spawn=None, end_s=case.end_s, policy=case.policy)  # type: ignore[arg-type]
    load.t0 = T0
    remote.begin(T0)
    if local is not None:  # begin() would start the real readings
        load._lag, load._cpu = lag, cpu  # type: ignore[assignment]
    seen = Observed(load)
    outcomes = iter(case.outcomes)
    pending: tuple[FakeWorker, int, bool, float] | None = None  # the addition under way: worker, due, ok, when
    for k, second in enumerate(case.seconds, 1):
        if pending is not None and pending[1] == k:  # it ends before this second's cut
            worker, _, ok, frac = pending
            clock.now = T0 + k - 1 + frac
            assert worker.gate is not None
            worker.gate.set_result(ok)
            await settle(lambda: load._adding is None or load._adding.done())
            pending = None
        if second.stop and not load._stopping:
            load.stop()  # cancels an addition under way
            await settle(lambda: load._adding is None or load._adding.done())
            pending = None
        n = len(load._parts)
        if local is not None:
            lag.value, cpu.value = second.samples[0]
        for i in range(len(remote.handles)):
            remote.samples[i] = second.samples[i + case.local]
        clock.now = T0 + k
        before, made = load._adding, len(FakeWorker.made)
        load._observe(float(k))
        if load._adding is not None and load._adding is not before:
            await settle(lambda made=made: len(FakeWorker.made) > made and FakeWorker.made[-1].gate is not None)
            took, ok, frac = next(outcomes)
            pending = (FakeWorker.made[-1], k + took, ok, frac)
            seen.decided.append((float(k), n))
        seen.segments_each_second.append(segments_of(load))
    await load._drop_adding()
    return seen


async def settle(condition: Any) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the addition did not get there")


# --- the reference model --------------------------------------------------------------------------


@dataclass
class ModelPart:
    segment: Segment
    streak: int = 0
    lag: float = 0.0
    cpu: float = 0.0


def model(case: Case) -> tuple[list[dict[str, Any]], list[ModelPart]]:
    """The policy's rules, as documented, with nothing shared with the code under test."""
    p = case.policy
    parts = [ModelPart(s) for s in Segment.full().split(case.workers + case.local)]
    changes: list[dict[str, Any]] = []
    adding: tuple[int, float, int, bool, float] | None = None  # donor, decided, due second, ok, when
    cancelled = gave_up = stopping = blocked = False
    last_at = -math.inf
    outcomes = iter(case.outcomes)
    for k, second in enumerate(case.seconds, 1):
        if adding is not None and not cancelled and adding[2] == k:
            donor, decided, _, ok, frac = adding
            at_s = float(math.ceil(k - 1 + frac + NOTICE_S + 0.5))
            if ok and at_s >= case.end_s:  # ready too late to take over before the load ends: stopped unused
                blocked = True  # and no other worker after it (any later one would be later still)
                changes.append({"decided_at_s": decided, "failed": "after the load's end"})  # said in the results
            elif ok:
                whole = parts[donor].segment
                middle = whole.start + whole.length / 2
                parts[donor].segment = Segment(whole.start, middle)
                parts.append(ModelPart(Segment(middle, whole.end)))
                last_at = at_s
                changes.append({"decided_at_s": decided, "at_s": at_s, "donor": donor, "workers": len(parts)})
            else:
                gave_up = True
                changes.append({"decided_at_s": decided, "failed": "could not build the scenario"})
            adding = None
        if second.stop:
            stopping = True
            cancelled = cancelled or adding is not None
        for i, part in enumerate(parts):
            part.lag, part.cpu = second.samples[i]
            hot = part.lag >= p.lag_ms or part.cpu >= p.cpu
            part.streak = part.streak + 1 if hot else 0
        now = float(k)
        if adding is not None or stopping or gave_up or blocked:
            continue
        if len(parts) >= p.max_workers or now - last_at < p.cooldown_s or case.end_s - now < p.min_left_s:
            continue
        candidates = [
            i
            for i, part in enumerate(parts)
            if part.streak >= p.hot_intervals and part.segment.length >= 2 * p.min_share
        ]
        if candidates:
            hottest = max((parts[i].cpu, parts[i].lag) for i in candidates)
            donor = next(i for i in candidates if (parts[i].cpu, parts[i].lag) == hottest)
            took, ok, frac = next(outcomes)
            adding = (donor, now, k + took, ok, frac)
    return changes, parts


HOT = Second(((300.0, 1.0),) * 8)
#: a worker ready at 5.5 s could take over at 7 s, after the load's end at 6 s: it is stopped unused, and
#: no worker is added after it
LATE = Case(
    True,
    0,
    AdaptPolicy(hot_intervals=1, cooldown_s=0, min_left_s=0, max_workers=8),
    6.0,
    (HOT,) * 8,
    ((1, True, 0.5),) * 8,
)


@settings(max_examples=150, deadline=None)
@given(case=cases())
@example(case=LATE)
def test_the_policy_makes_the_reference_models_decisions(case):
    seen = run_case(case)
    load = seen.load
    changes, parts = model(case)
    assert len(load.changes) == len(changes)
    for got, want in zip(load.changes, changes, strict=True):
        assert got["decided_at_s"] == want["decided_at_s"]
        if "failed" in want:
            assert "failed" in got and want["failed"] in got["failed"]
            continue
        assert "failed" not in got
        assert got["at_s"] == want["at_s"] and got["workers"] == want["workers"]
        assert got["from"]["name"] == load._parts[want["donor"]].name
    assert segments_of(load) == [part.segment for part in parts]
    assert len({part.name for part in load._parts}) == len(load._parts)
    assert [part.streak for part in load._parts] == [part.streak for part in parts]


@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_every_run_keeps_the_policys_invariants(case):
    seen = run_case(case)
    load, p = seen.load, case.policy
    made = [c for c in load.changes if "failed" not in c]
    failed = [c for c in load.changes if "failed" in c]
    assert len(failed) <= 1 and (not failed or load.changes[-1] is failed[0])  # nothing after a failed start
    assert len(load._parts) == case.workers + case.local + len(made) <= max(p.max_workers, case.workers + case.local)
    stopped = next((k for k, s in enumerate(case.seconds, 1) if s.stop), math.inf)
    last_at = -math.inf
    for (second, _), change in zip(seen.decided, load.changes, strict=False):
        assert second < stopped  # nothing once stopping
        assert second - last_at >= p.cooldown_s and case.end_s - second >= p.min_left_s
        # the donor was hot hot_intervals seconds in a row before this cut, and the hottest of those that were
        k = int(second)
        window = case.seconds[k - p.hot_intervals : k] if k >= p.hot_intervals else None
        assert window is not None
        if "failed" in change:
            continue
        donor = next(i for i, part in enumerate(load._parts) if part.name == change["from"]["name"])
        assert all(p.hot(*s.samples[donor]) for s in window)
        whole = Fraction(change["from"]["segment"].split(":")[1]) - Fraction(change["from"]["segment"].split(":")[0])
        assert whole >= 2 * p.min_share
        last_at = change["at_s"]
        assert change["at_s"] == math.ceil(change["at_s"]) and change["at_s"] - second >= NOTICE_S + 0.5
    # the segments partition the run after every second, and never more processes than the cap
    for segments in seen.segments_each_second:
        ordered = sorted(segments, key=lambda s: s.start)
        assert ordered[0].start == 0 and ordered[-1].end == 1
        assert all(a.end == b.start for a, b in itertools.pairwise(ordered))


def test_an_addition_prints_nothing_on_stdout():
    """stdout carries what the user asked for (a summary, ``--json -``): a worker added during the run must
    not write a line of its own there."""
    policy = AdaptPolicy(hot_intervals=1, cooldown_s=0, min_left_s=0, max_workers=4)
    case = Case(
        local=True,
        workers=1,
        policy=policy,
        end_s=40.0,
        seconds=tuple(Second(((300.0, 1.0),) * 8) for _ in range(4)),
        outcomes=((1, True, 0.5),) * 8,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        seen = run_case(case)
    assert len([c for c in seen.load.changes if "failed" not in c]) >= 1
    assert out.getvalue() == ""


def test_a_worker_is_read_once_per_tick_and_never_once_it_has_ended():
    """A worker whose tick missed the cut, or that ended or was lost, gives no sample: its last one is not
    read again (it would count a hot second twice, or make a dead worker the donor)."""
    handles = [FakeWorker(part, None, i) for i, part in enumerate(Segment.full().split(3))]
    remote = RemoteLoad(handles, "processes")
    remote.samples[0], remote.samples[1], remote.samples[2] = (30.0, 0.9), (1.0, 0.1), (40.0, 1.0)
    remote._done[2] = True  # lost (or ended)
    assert remote.take_samples() == [(30.0, 0.9), (1.0, 0.1), None]
    assert remote.take_samples() == [None, None, None]  # no tick since: nothing new

    # and the policy: a second without news resets the streak
    policy = AdaptPolicy(hot_intervals=2, cooldown_s=0, min_left_s=0, max_workers=8)
    load = AdaptiveLoad(None, remote, spawn=None, end_s=100.0, policy=policy)  # type: ignore[arg-type]
    remote.samples[0] = (30.0, 0.9)
    load._observe(1.0)
    load._observe(2.0)  # worker-1 sent nothing for this second
    remote.samples[0] = (30.0, 0.9)
    load._observe(3.0)
    assert load._parts[0].streak == 1 and load._adding is None
