"""``LocalLoad`` under ``--workers auto``: several processes' loads, whose shares change during the run,
together run exactly the load of one process.

Every process here is a ``LocalLoad`` in one event loop, on the same ``t0``, with the real ``_spawn``
starting a stand-in agent (``engine.load.RunningAgent`` replaced: it records itself, and an open
profile's agent ends at once while a closed profile's runs until it is cancelled). Changes come the way
``AdaptiveLoad`` makes them: a process halves its segment and a new process, whose schedule starts with
nothing and which begins when the change is announced, takes the upper half, both from ``at_s`` on. A
change is announced more than ``NOTICE_S`` ahead (``AdaptiveLoad`` gives at least 1.5 s).

Most cases run on a virtual clock (the load module's ``_clock`` and ``asyncio.sleep``): time moves only
from one sleeper's wake-up to the next, so the properties hold exactly, with no timing luck, over many
generated runs. One case runs on the real clock with nothing patched but the agent.

Asserted: an open profile's arrivals, over all processes, are exactly the single-process sequence of the
seed, none twice, each in the process whose share held at its intended time, started on time, and decided
at most ``NOTICE_S`` before it; a closed profile's targets are each process's share of the whole target at
its tick, add up to the whole whenever the processes' last ticks saw the same share and level, are met by
running agents, and agent numbers never repeat across processes and epochs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
import types
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import mcpload.engine.load as load_module
from mcpload.engine.agent import SharedRunState
from mcpload.engine.load import LocalLoad
from mcpload.engine.recording import OutcomeSink
from mcpload.mcp.connect import Target
from mcpload.metrics import Recorder
from mcpload.profiles import ClosedProfile, OpenProfile, Segment, ShareSchedule
from mcpload.profiles.shares import EPOCH_SPAN, NOTICE_S
from mcpload.scenario import Scenario

T0 = 1000.0  # the virtual clock's reading when the run starts
_real_sleep = asyncio.sleep


class VirtualTime:
    """``perf_counter`` and ``asyncio.sleep`` for the load module: time moves only in ``run``."""

    def __init__(self) -> None:
        self.now = T0
        self._sleepers: list[tuple[float, int, asyncio.Future[None], asyncio.Task[Any] | None]] = []
        self._order = itertools.count()  # equal wake times wake in the order they slept
        self.asleep: set[asyncio.Task[Any] | None] = set()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float, result: Any = None) -> Any:
        if delay <= 0:
            await _real_sleep(0)
            return result
        task = asyncio.current_task()
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._order), fut, task))
        self.asleep.add(task)
        try:
            await fut
        finally:
            self.asleep.discard(task)
        return result

    async def settle(self, tasks: Callable[[], list[asyncio.Task[Any]]]) -> None:
        """Let everything run until each task sleeps on this clock or has ended (bounded)."""
        for _ in range(10_000):
            if all(t.done() or t in self.asleep for t in tasks()):
                for _ in range(5):  # agents ending, their done callbacks, ramp-down cancels
                    await _real_sleep(0)
                if all(t.done() or t in self.asleep for t in tasks()):
                    return
            await _real_sleep(0)
        raise AssertionError("a task neither slept on the virtual clock nor ended")

    async def run(self, tasks: Callable[[], list[asyncio.Task[Any]]], on_time: Callable[[float], None]) -> None:
        """From wake-up to wake-up until every task has ended; ``on_time`` once all due at a moment ran."""
        await self.settle(tasks)
        on_time(self.now)
        for _ in range(100_000):
            if all(t.done() for t in tasks()):
                return
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
                heapq.heappop(self._sleepers)
            assert self._sleepers, "the loads wait on something other than the virtual clock"
            wake = self._sleepers[0][0]
            assert wake >= self.now
            self.now = wake
            while self._sleepers and self._sleepers[0][0] == wake:
                _, _, fut, task = heapq.heappop(self._sleepers)
                if not fut.done():
                    self.asleep.discard(task)
                    fut.set_result(None)
            await self.settle(tasks)
            on_time(self.now)
        raise AssertionError("the run never ended")


class SpySchedule(ShareSchedule):
    """A ``ShareSchedule`` that notes every ``at`` the load asks: (asking task, the moment asked, now)."""

    def __init__(self, segment: Segment | None, clock: Callable[[], float], *, fixed: bool) -> None:
        super().__init__(segment, fixed=fixed)
        self.clock = clock
        self.asked: list[tuple[float, float]] = []  # (the moment asked, now)
        self.last: dict[asyncio.Task[Any] | None, tuple[float, float]] = {}  # the same, per asking task

    def at(self, t: float) -> Any:
        now = self.clock()
        self.asked.append((t, now))
        self.last[asyncio.current_task()] = (t, now)
        return super().at(t)


@dataclass
class Started:
    """One agent the real ``LocalLoad._spawn`` started (a stand-in's record)."""

    world: SharedRunState
    number: int
    intended: float | None
    at: float  # the clock when it started


def stand_in_class(log: list[Started], clock: Callable[[], float]) -> type:
    class StandIn:
        """What ``_spawn``, ``_closed``, ``_open`` and ``_drain`` use of a ``RunningAgent``."""

        task: asyncio.Task[None]

        def __init__(self, index: int, spec: Any, world: SharedRunState, rng: Any, intended: float | None = None):
            self.index, self.spec, self.world, self.rng = index, spec, world, rng
            self.intended_start = intended
            self.retiring = False
            self.idle = False
            log.append(Started(world, index, intended, clock()))

        async def run(self) -> None:
            if self.intended_start is None:  # a closed profile's agent: one long conversation
                await asyncio.get_running_loop().create_future()

        def retire(self) -> None:
            self.retiring = True
            if self.idle:
                self.task.cancel()

    return StandIn


@contextmanager
def patched(clock: Callable[[], float] | None, sleep: Any, log: list[Started], agent_clock: Callable[[], float]):
    saved = load_module._clock, load_module.asyncio, load_module.RunningAgent
    if clock is not None:
        load_module._clock = clock
        load_module.asyncio = types.SimpleNamespace(**{**vars(asyncio), "sleep": sleep})  # type: ignore[assignment]
    load_module.RunningAgent = stand_in_class(log, agent_clock)  # type: ignore[misc]
    try:
        yield
    finally:
        load_module._clock, load_module.asyncio, load_module.RunningAgent = saved


# --- runs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    at_s: float  # when it takes effect, seconds after the start
    announce_s: float  # when it is announced (< 0: before the run begins)
    donor: int  # which process (by creation order) halves its segment


@dataclass(frozen=True)
class Plan:
    parts: tuple[Segment, ...]  # the processes at the start
    fixed: bool  # no change can come (--workers N)
    changes: tuple[Change, ...]


@dataclass
class Process:
    load: LocalLoad
    shares: SpySchedule
    begun_at: float | None = None


@dataclass
class Run:
    scenario: Scenario
    seed: int
    processes: list[Process] = field(default_factory=list)
    started: list[Started] = field(default_factory=list)
    notices: list[float] = field(default_factory=list)
    snapshots: int = 0  # moments checked
    summed: int = 0  # moments where the processes' targets were compared with the whole

    def process_of(self, world: SharedRunState) -> int:
        return next(p for p, proc in enumerate(self.processes) if proc.load.world is world)

    def add_process(self, segment: Segment | None, fixed: bool, clock: Callable[[], float]) -> Process:
        recorder = Recorder()
        target = Target.stdio(["unused"])
        world = SharedRunState(self.scenario, target, "stdio", "2025-11-25", recorder, OutcomeSink(recorder))
        shares = SpySchedule(segment, clock, fixed=fixed)
        proc = Process(LocalLoad(self.scenario, world, self.seed, shares=shares), shares)
        self.processes.append(proc)
        return proc

    def announce(self, epoch: int, change: Change, clock: Callable[[], float], begun: bool) -> None:
        """What ``AdaptiveLoad._add_worker`` does: the donor keeps the lower half, a new worker (begun now)
        takes the upper half, both from ``at_s`` on under a new epoch."""
        donor = self.processes[change.donor]
        whole = donor.shares.latest.segment
        assert whole is not None
        middle = whole.start + whole.length / 2
        taker = self.add_process(None, False, clock)
        notice = donor.load.reshare(change.at_s, Segment(whole.start, middle), epoch)
        if begun:
            taker.load.begin(T0)
            taker.begun_at = clock()
            self.notices.append(notice)
        taker.load.reshare(change.at_s, Segment(middle, whole.end), epoch)


def scenario(profiles: list[dict[str, Any]]) -> Scenario:
    return Scenario.from_dict(
        {
            "target": {"url": "http://127.0.0.1:1/mcp"},
            "agents": {"a": {"workflow": [{"call": "echo"}]}},
            "profiles": profiles,
        }
    )


def run_virtual(scen: Scenario, plan: Plan, seed: int) -> Run:
    vt = VirtualTime()
    run = Run(scen, seed)
    for part in plan.parts:
        run.add_process(part, plan.fixed, vt.clock)
    early = [(e, c) for e, c in enumerate(plan.changes, 1) if c.announce_s < 0]
    late = [(e, c) for e, c in enumerate(plan.changes, 1) if c.announce_s >= 0]
    for epoch, change in early:
        run.announce(epoch, change, vt.clock, begun=False)

    async def announcer() -> None:
        for epoch, change in late:
            await vt.sleep(T0 + change.announce_s - vt.now)
            run.announce(epoch, change, vt.clock, begun=True)

    def tasks() -> list[asyncio.Task[Any]]:
        return [announcing, *(t for proc in run.processes for t in proc.load._controllers)]

    async def main() -> None:
        nonlocal announcing
        for proc in run.processes:
            proc.load.begin(T0)
            proc.begun_at = T0
        announcing = asyncio.ensure_future(announcer())
        await vt.run(tasks, lambda now: check_closed_at(run, now))

    announcing: asyncio.Task[None]
    with patched(vt.clock, vt.sleep, run.started, vt.clock):
        asyncio.run(main())
    return run


# --- what must hold -------------------------------------------------------------------------------


def open_arrivals(run: Run, pi: int, profile: OpenProfile, t0: float) -> list[tuple[int, float]]:
    """The single-process arrival sequence of the seed, as ``LocalLoad._open`` computes it."""
    start = t0 + profile.start
    end = start + profile.duration
    out = []
    for index, offset in profile.indexed_arrivals(random.Random(f"{run.seed}:arrivals:{pi}")):
        intended = start + offset
        if intended >= end:
            break
        out.append((index, intended))
    return out


def check_open(run: Run, t0: float, on_time: float) -> int:
    """Every open profile's arrivals, over all processes: exactly the one-process sequence, each once, in
    the process whose share held at its intended time; returns how many there were."""
    profiles = run.scenario.profiles
    total = 0
    for pi, profile in enumerate(profiles):
        if not isinstance(profile, OpenProfile):
            continue
        expected = open_arrivals(run, pi, profile, t0)
        got = sorted(
            (s.number // len(profiles), s.intended, run.process_of(s.world), s.at)
            for s in run.started
            if s.number % len(profiles) == pi
        )
        assert [(i, at) for i, at, _, _ in got] == expected
        for index, intended, p, started in got:
            owners = [
                q for q, proc in enumerate(run.processes) if ShareSchedule.at(proc.shares, intended - t0).owns(index)
            ]
            assert owners == [p], (index, intended - t0, owners, p, [proc.shares for proc in run.processes])
            assert started >= intended - 1e-9 and started <= intended + on_time
        total += len(expected)
    for proc in run.processes:
        if not proc.shares.fixed:  # decided at most NOTICE_S before it is due, so a change in time is seen
            assert all(t - (now - t0) <= NOTICE_S + 1e-9 for t, now in proc.shares.asked)
    return total


def check_closed_numbers(run: Run, t0: float) -> int:
    """Closed agents' numbers: never twice across processes; each from the share in force at its start."""
    profiles = run.scenario.profiles
    numbers = [s.number for s in run.started if s.intended is None]
    assert len(numbers) == len(set(numbers))
    for s in run.started:
        if s.intended is not None:
            continue
        assert isinstance(profiles[s.number % len(profiles)], ClosedProfile)
        epoch, index = divmod(s.number // len(profiles), EPOCH_SPAN)
        share = ShareSchedule.at(run.processes[run.process_of(s.world)].shares, s.at - t0)
        assert share.epoch == epoch and share.segment is not None and share.segment.owns(index)
    return len(numbers)


def check_closed_at(run: Run, now: float, t0: float = T0) -> None:
    """At one moment (every process has run what was due): each process's target is its share of the whole
    target at its last tick and is met by running agents; when every process's last tick saw the share
    and level of this moment, the targets add up to the whole."""
    profiles = run.scenario.profiles
    run.snapshots += 1
    for pi, profile in enumerate(profiles):
        if not isinstance(profile, ClosedProfile):
            continue
        start = t0 + profile.start
        whole_now = profile.target_at(now - start)
        targets: list[int] = []
        comparable = True
        for proc in run.processes:
            load = proc.load
            target = load.targets.get(pi, 0)
            running = sum(
                1
                for agent in load._agents
                if agent.index % len(profiles) == pi and not agent.retiring and not agent.task.done()
            )
            assert running == target, (pi, now - t0, running, target)
            controller = load._controllers[pi] if load._controllers else None
            share_now = ShareSchedule.at(proc.shares, now - t0)
            last = proc.shares.last.get(controller) if controller is not None else None
            if last is None or controller is None or controller.done():
                # not begun, waiting for the profile's start, or ended: no target
                assert target == 0, (pi, now - t0, target)
                comparable &= share_now.scale(whole_now) == 0
            else:
                t = last[0]  # the tick's own moment (``now - t0`` as the load computed it)
                share = ShareSchedule.at(proc.shares, t)
                whole = profile.target_at(t + t0 - start)
                if target == share.scale(whole):
                    comparable &= share is share_now and whole == whole_now
                else:  # the profile has ended (target 0) and its controller is draining its agents
                    assert target == 0 and now >= start + profile.duration, (pi, now - t0, target, share, whole)
                    comparable &= share_now.scale(whole_now) == 0
            targets.append(target)
        if comparable:
            run.summed += 1
            assert sum(targets) == whole_now, (pi, now - t0, targets, whole_now)


# --- the tests ------------------------------------------------------------------------------------


@st.composite
def partitions(draw: st.DrawFn) -> tuple[Segment, ...]:
    parts = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return tuple(Segment.full().split(parts))
    cuts = draw(st.sets(st.fractions(0, 1, max_denominator=12), max_size=parts - 1))
    points = [Fraction(0), *sorted(c for c in cuts if 0 < c < 1), Fraction(1)]
    return tuple(Segment(a, b) for a, b in itertools.pairwise(points))


@st.composite
def plans(draw: st.DrawFn, horizon: float) -> Plan:
    parts = draw(partitions())
    processes = len(parts)
    changes: list[Change] = []
    at, announced = 0.0, -math.inf
    for _ in range(draw(st.integers(0, 4))):
        at += draw(st.one_of(st.floats(0.001, horizon / 2), st.sampled_from([0.1, 0.25, 0.5, 1.0])))
        notice = draw(st.one_of(st.floats(NOTICE_S + 0.01, 2.5), st.just(NOTICE_S + 0.01)))
        announced = max(announced, at - notice)
        changes.append(Change(at, announced, draw(st.integers(0, processes - 1))))
        processes += 1
    return Plan(parts, not changes and draw(st.booleans()), tuple(changes))


def ms(draw: st.DrawFn, low: int, high: int) -> str:
    return f"{draw(st.integers(low, high))}ms"


@st.composite
def open_profiles(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "type": "agent-arrival-rate",
        "rate": draw(st.integers(40, 300)),
        "duration": ms(draw, 300, 1500),
        "start": ms(draw, 0, 600),
        "distribution": draw(st.sampled_from(["even", "poisson", "bursty"])),
        "max_agents": 100_000,
        "graceful_stop": "0s",
    }


@st.composite
def closed_profiles(draw: st.DrawFn) -> dict[str, Any]:
    stages = [{"duration": ms(draw, 100, 800), "target": draw(st.integers(1, 40))}]
    stages += [
        {"duration": ms(draw, 0, 800), "target": draw(st.integers(0, 40))} for _ in range(draw(st.integers(0, 2)))
    ]
    return {
        "type": "ramping-agents",
        "start_agents": draw(st.integers(1, 20)),  # agents from the profile's start
        "stages": stages,
        "start": ms(draw, 0, 600),
        "graceful_ramp_down": "0s",
        "graceful_stop": "0s",
    }


@settings(max_examples=60, deadline=None)
@given(profile=open_profiles(), plan=plans(horizon=2.0), seed=st.integers(0, 2**32))
def test_open_arrivals_over_all_processes_are_the_one_process_sequence(profile, plan, seed):
    run = run_virtual(scenario([profile]), plan, seed)
    check_open(run, T0, on_time=1e-9)  # exact sets (a bursty sequence may be empty)
    assert all(n >= NOTICE_S for n in run.notices)


@settings(max_examples=80, deadline=None)
@given(profile=closed_profiles(), plan=plans(horizon=2.0), seed=st.integers(0, 2**32))
def test_closed_targets_over_all_processes_add_up_to_the_whole(profile, plan, seed):
    run = run_virtual(scenario([profile]), plan, seed)
    assert check_closed_numbers(run, T0) > 0
    assert run.summed > 0  # some moments are away from a change's tick boundary


@settings(max_examples=40, deadline=None)
@given(
    profiles=st.lists(st.one_of(open_profiles(), closed_profiles()), min_size=2, max_size=3),
    plan=plans(horizon=2.0),
    seed=st.integers(0, 2**32),
)
def test_several_profiles_share_changes_without_a_collision(profiles, plan, seed):
    run = run_virtual(scenario(profiles), plan, seed)
    check_open(run, T0, on_time=1e-9)
    check_closed_numbers(run, T0)
    numbers = [s.number for s in run.started]
    assert len(numbers) == len(set(numbers))


def test_on_the_real_clock_the_processes_run_exactly_the_load_of_one():
    """Nothing patched but the agent: three processes from a two-part start and three changes set before
    the run (all announced in time), an open and a closed profile together, about 1.3 s."""
    scen = scenario(
        [
            {
                "type": "agent-arrival-rate",
                "rate": 250,
                "duration": "1200ms",
                "start": "100ms",
                "max_agents": 100_000,
                "graceful_stop": "0s",
            },
            {
                "type": "ramping-agents",
                "start_agents": 6,
                "stages": [
                    {"duration": "400ms", "target": 6},
                    {"duration": "0s", "target": 21},
                    {"duration": "500ms", "target": 21},
                    {"duration": "0s", "target": 9},
                    {"duration": "400ms", "target": 9},
                ],
                "graceful_ramp_down": "0s",
                "graceful_stop": "0s",
            },
        ]
    )
    run = Run(scen, seed=7)
    clock = time.perf_counter
    for part in Segment.full().split(2):
        run.add_process(part, False, clock)
    for epoch, change in enumerate([Change(0.25, -1, 0), Change(0.65, -1, 1), Change(1.05, -1, 0)], 1):
        run.announce(epoch, change, clock, begun=False)

    async def main() -> float:
        t0 = clock() + 0.05
        for proc in run.processes:
            proc.load.begin(t0)
        controllers = [t for proc in run.processes for t in proc.load._controllers]
        while not all(t.done() for t in controllers):  # sample the targets while the loads run
            check_closed_at(run, clock(), t0)
            await asyncio.sleep(0.02)
        await asyncio.gather(*(proc.load.wait() for proc in run.processes))
        return t0

    with patched(None, None, run.started, clock):
        t0 = asyncio.run(main())
    assert len(run.processes) == 5
    assert check_open(run, t0, on_time=math.inf) == len(open_arrivals(run, 0, scen.profiles[0], t0)) > 200
    numbers = [s.number for s in run.started if s.intended is None]
    assert len(numbers) == len(set(numbers)) >= 21
    for s in run.started:
        if s.intended is None:  # started by a tick at most a moment before it was recorded
            epoch, index = divmod(s.number // 2, EPOCH_SPAN)
            shares = run.processes[run.process_of(s.world)].shares
            assert any(
                share.epoch == epoch and share.segment is not None and share.segment.owns(index)
                for share in {ShareSchedule.at(shares, s.at - t0), ShareSchedule.at(shares, s.at - t0 - 0.1)}
            )
    assert run.summed > 0
    assert all(not proc.load._agents for proc in run.processes)
