"""The load of one process: a scenario's profiles (this execution segment's share of them) driving
agents. The runner owns the clock and the metrics; a load only starts, stops and counts agents.

Agents are numbered so that a number means the same agent in every process of a split run: an open
profile's agent is its arrival's index in the whole run's sequence, a closed profile's k-th agent takes
the k-th index its segment owns (``Segment.owned_indices``). With several profiles the numbers
interleave (``index · profiles + profile``), so they never collide.

Under ``--workers auto`` a process's share may change during the run (``profiles.shares``): the load
reads its ``ShareSchedule`` at every closed-profile tick and for every arrival, so the process gives up
or takes over its part of the agents at the agreed moment.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mcpload.engine.agent import RunningAgent, SharedRunState
from mcpload.engine.agent_types import TypePicker
from mcpload.engine.preflight import Preflight
from mcpload.engine.recording import OutcomeSink
from mcpload.engine.rng import AgentRandom
from mcpload.engine.world import prepare_world
from mcpload.metrics import Recorder
from mcpload.profiles import ClosedProfile, OpenProfile, Profile, Segment, ShareSchedule
from mcpload.profiles.shares import NOTICE_S

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.scenario import AgentSpec, Scenario

_clock = time.perf_counter
TICK_S = 0.1  # how often closed profiles re-read their target


class Load(Protocol):
    """What the ``Runner`` drives: the agents of a run, wherever they run.

    ``LocalLoad`` (below) runs them in this process; ``mcpload.distributed`` implements the same
    contract with worker processes and Ray actors (``RemoteLoad``). The engine knows only this contract.
    """

    #: where the load records; when it is not the run's recorder, the runner drains it at each cut
    recorder: Recorder

    def begin(self, t0: float) -> None:
        """Start, ``t0`` being the run's start on the ``perf_counter`` clock."""

    async def wait(self) -> None:
        """Until all work has ended."""

    def stop(self) -> None:
        """Start no more work; running agents finish within the grace period."""

    def cancel_all(self) -> None:
        """Cancel every agent now."""

    def halt(self) -> None:
        """Called from the watchdog's thread when it breaks a stall: agents leave at their next step."""

    async def before_cut(self, n: int) -> None:
        """Awaited before interval ``n`` is cut (a remote load waits for its workers' data)."""

    def take_loop_lag_ms(self) -> float | None:
        """The worst event-loop lag where the agents run since the last cut, or None when that loop is
        the runner's own (measured by the runner)."""

    def extras(self) -> dict[str, Any]:
        """What the load counted besides the recorder (interrupted calls, template errors, …)."""

    def execution(self) -> dict[str, Any]:
        """How the run was split, for the results (``execution``)."""


@dataclass(frozen=True, slots=True)
class LoadContext:
    """What a load is built from, once preflight has settled the target.

    Attributes:
        scenario: the loaded scenario.
        target: the target to connect to.
        info: what preflight learnt (transport, protocol, tools).
        seed: the run's seed.
        segment: the share of the run this process executes.
        secrets: values redacted from error messages.
        recorder: the run's recorder.
    """

    scenario: Scenario
    target: Target
    info: Preflight
    seed: int
    segment: Segment
    secrets: frozenset[str]
    recorder: Recorder


#: builds the load of a run (``run_scenario(load=...)``); ``local_load`` is the default
LoadFactory = Callable[[LoadContext], Awaitable[Load]]


async def local_load(ctx: LoadContext) -> Load:
    """The agents of the run in this process (the default load)."""
    return build_local_load(ctx)


def build_local_load(ctx: LoadContext, shares: ShareSchedule | None = None) -> LocalLoad:
    """``local_load``, with the share over time when it may change during the run (``--workers auto``)."""
    # A segment records into its own recorder, drained at each cut: the interval keeps the drained state.
    staging = ctx.recorder if ctx.segment.is_full else Recorder()
    world = SharedRunState(
        ctx.scenario, ctx.target, ctx.info.transport, ctx.info.protocol, staging, OutcomeSink(staging, ctx.secrets)
    )
    return LocalLoad(ctx.scenario, prepare_world(world, ctx.info, ctx.scenario), ctx.seed, ctx.segment, shares)


class LocalLoad:
    """Runs the scenario's profiles in this process, recording into ``world.recorder``.

    Args:
        scenario: the loaded scenario.
        world: what the agents share (its recorder receives every outcome).
        seed: the run's seed; every generator derives from it and the agent's number.
        segment: the share of the run this process executes (the whole run by default).
        shares: the share over time when it may change during the run (``--workers auto``); it then
            replaces ``segment``.
    """

    def __init__(
        self,
        scenario: Scenario,
        world: SharedRunState,
        seed: int,
        segment: Segment | None = None,
        shares: ShareSchedule | None = None,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.recorder = world.recorder
        self.seed = seed
        self.shares = shares or ShareSchedule(segment or Segment.full())
        # whole profiles: the share is applied here, from the schedule, at each moment
        self.profiles = list(scenario.profiles)
        self.t0 = 0.0
        self.active = 0
        #: agents (active, target) running elsewhere that the recorder's gauges include (``--workers auto``:
        #: the workers that took over part of this process's share)
        self.elsewhere = (0, 0)
        self.targets: dict[int, int] = {}
        self._agents: set[RunningAgent] = set()
        self._stopping = False
        self._controllers: list[asyncio.Task[None]] = []

    # --- what the runner calls ----------------------------------------------------------------

    def begin(self, t0: float) -> None:
        """Start every profile, ``t0`` being the run's start on the ``perf_counter`` clock."""
        self.t0 = t0
        self.world.t0 = t0
        self._controllers = [asyncio.ensure_future(self._run_profile(i, p)) for i, p in enumerate(self.profiles)]

    async def wait(self) -> None:
        """Until every profile has ended and its agents have finished (or were cancelled)."""
        await asyncio.gather(*self._controllers, return_exceptions=True)

    def stop(self) -> None:
        """Start no more work; running agents finish within the scenario's grace period."""
        self._stopping = True
        for task in self._controllers:
            task.cancel()

    def cancel_all(self) -> None:
        """Cancel every agent now (their in-flight calls end as ``interrupted``)."""
        for agent in list(self._agents):
            _cancel(agent)

    def extras(self) -> dict[str, Any]:
        """What the load counted besides the recorder: interrupted calls, template and script errors."""
        world = self.world
        return {
            "interrupted_calls": world.sink.interrupted,
            "template_errors": dict(world.template_errors),
            "scripted_errors": dict(world.scripted_errors),
            "backoffs": dict(world.backoffs),
            "outages": world.outages.summary(),
            **({"slowest_traces": world.traces.summary()} if world.traces is not None else {}),
        }

    def execution(self) -> dict[str, Any]:
        """How the run was split, for the results (``execution``): here, one process."""
        return {"backend": "local", "workers": 1, "segments": [str(self.segment)], "lost": []}

    @property
    def segment(self) -> Segment:
        """The segment this process executes now (the whole run when it holds nothing: never reported)."""
        return self.shares.latest.segment or Segment.full()

    def reshare(self, at_s: float, segment: Segment | None, epoch: int) -> float:
        """From ``at_s`` (seconds after the run's start) on, execute ``segment`` (``--workers auto``).

        Returns:
            The notice it came with, in seconds: under ``NOTICE_S`` the change may meet arrivals already
            decided under the old share (then the run's arrivals are exact only to those few).
        """
        self.shares.change(at_s, segment, epoch)
        return at_s - (_clock() - self.t0)

    def set_elsewhere(self, active: int, target: int) -> None:
        """Agents running in other processes that this load's recorder counts in its gauges."""
        self.elsewhere = (active, target)
        self.recorder.active_agents = self.active + active
        self.recorder.target_agents = sum(self.targets.values()) + target

    def halt(self) -> None:
        """The watchdog broke a stall: every agent leaves at its next step (``SharedRunState.halted``)."""
        self.world.halted = True

    async def before_cut(self, n: int) -> None:
        """Nothing to wait for: the agents record into this process's recorder."""

    def take_loop_lag_ms(self) -> None:
        """None: the agents run on the runner's own loop, which the runner measures."""
        return None

    # --- agents -------------------------------------------------------------------------------

    def _spawn(self, spec: AgentSpec, number: int, intended: float | None = None) -> RunningAgent:
        rng = AgentRandom(f"{self.seed}:agent:{number}")
        agent = RunningAgent(number, spec, self.world, rng, intended)
        agent.task = asyncio.ensure_future(agent.run())
        self.active += 1
        self.recorder.active_agents = self.active + self.elsewhere[0]
        self._agents.add(agent)
        agent.task.add_done_callback(lambda task: self._agent_done(agent, task))
        return agent

    def _agent_done(self, agent: RunningAgent, task: asyncio.Task[None]) -> None:
        self._agents.discard(agent)
        self.active -= 1
        self.recorder.active_agents = self.active + self.elsewhere[0]
        if not task.cancelled() and task.exception() is not None:
            # a bug of ours must not pass silently, nor kill the run
            key = f"engine: {type(task.exception()).__name__}: {task.exception()}"[:200]
            self.world.scripted_errors[key] = self.world.scripted_errors.get(key, 0) + 1

    def _specs_for(self, profile: Profile) -> list[AgentSpec]:
        names = profile.agent_types
        specs = list(self.scenario.agents.values())
        return [s for s in specs if s.name in names] if names else specs

    async def _sleep_until(self, when: float) -> None:
        delay = when - _clock()
        if delay > 0:
            await asyncio.sleep(delay)

    # --- profiles -----------------------------------------------------------------------------

    async def _run_profile(self, pi: int, profile: Profile) -> None:
        agents: list[RunningAgent] = []
        try:
            await self._sleep_until(self.t0 + profile.start)
            if isinstance(profile, ClosedProfile):  # kind "closed"
                await self._closed(pi, profile, agents)
            elif isinstance(profile, OpenProfile):
                await self._open(pi, profile, agents)
            else:
                raise TypeError(f"a profile is closed or open, not {profile.kind!r}")
        except asyncio.CancelledError:
            pass
        finally:
            self.targets[pi] = 0
            self.recorder.target_agents = sum(self.targets.values()) + self.elsewhere[1]
            # a profile that ends on its own gives its graceful_stop; a run stopped early (Ctrl-C,
            # a threshold abort) gives the scenario's grace_period
            grace = self.scenario.options.grace_period if self._stopping else profile.graceful_stop
            await self._drain(agents, grace)

    def _number(self, pi: int, index: int) -> int:
        return index * len(self.profiles) + pi

    async def _closed(self, pi: int, profile: ClosedProfile, agents: list[RunningAgent]) -> None:
        picker = TypePicker(self._specs_for(profile))
        shares = self.shares
        share = shares.at(_clock() - self.t0)
        numbers = share.numbers()
        # on the run's clock, not when this process got here: a worker added during the run (--workers
        # auto) starts late and must keep the profile's times
        start = self.t0 + profile.start
        end = start + profile.duration
        ramp_down = profile.graceful_ramp_down
        loop = asyncio.get_running_loop()
        # Agents running and not retiring, kept by callbacks: a tick reads a counter instead of scanning
        # every agent (20,000 agents, ten ticks a second).
        active = 0

        def finished(task: asyncio.Task[None], agent: RunningAgent) -> None:
            nonlocal active
            if not agent.retiring:
                active -= 1

        while (now := _clock()) < end:
            if (current := shares.at(now - self.t0)) is not share:  # a change took effect (--workers auto)
                share, numbers = current, current.numbers()
            target = share.scale(profile.target_at(now - start))
            if self.targets.get(pi) != target:
                self.targets[pi] = target
                self.recorder.target_agents = sum(self.targets.values()) + self.elsewhere[1]
            if active < target:
                for _ in range(target - active):
                    agent = self._spawn(picker.next(), self._number(pi, next(numbers)))
                    agent.task.add_done_callback(functools.partial(finished, agent=agent))
                    agents.append(agent)
                active = target
            elif active > target:
                agents[:] = [a for a in agents if not a.task.done()]
                running = [a for a in agents if not a.retiring]
                for agent in reversed(running[target:]):
                    agent.retire()
                    loop.call_later(ramp_down, _cancel, agent)
                active = min(len(running), target)
            if len(agents) > 2 * active + 64:
                agents[:] = [a for a in agents if not a.task.done()]
            await asyncio.sleep(TICK_S)

    async def _open(self, pi: int, profile: OpenProfile, agents: list[RunningAgent]) -> None:
        picker = TypePicker(self._specs_for(profile))
        start = self.t0 + profile.start  # on the run's clock (see _closed)
        end = start + profile.duration
        # the same generator in every segment: each draws the whole sequence and keeps its own arrivals
        rng = random.Random(f"{self.seed}:arrivals:{pi}")
        running = 0
        rec = self.recorder
        shares = self.shares
        t0 = self.t0
        cap = profile.max_agents  # the whole run's cap; each share takes its part

        def done(_task: asyncio.Task[None]) -> None:
            nonlocal running
            running -= 1

        for index, offset in profile.indexed_arrivals(rng):
            intended = start + offset
            if intended >= end:
                break
            if not shares.fixed and intended - _clock() > NOTICE_S:
                # a change may still come for this arrival: decide it within NOTICE_S of its time (half
                # of it, so that one wake-up decides the arrivals of the next half second at once)
                await self._sleep_until(intended - NOTICE_S / 2)
            share = shares.at(intended - t0)
            if not share.owns(index):
                continue
            await self._sleep_until(intended)
            if running >= share.scale(cap):
                rec.arrival(False)
                continue
            rec.arrival(True, max(0.0, _clock() - intended))
            agent = self._spawn(picker.next(), self._number(pi, index), intended)
            agent.task.add_done_callback(done)
            running += 1
            agents.append(agent)
            if len(agents) > 2 * running + 64:
                agents[:] = [a for a in agents if not a.task.done()]
        await self._sleep_until(end)

    async def _drain(self, agents: list[RunningAgent], grace: float) -> None:
        alive = [a for a in agents if not a.task.done()]
        for agent in alive:
            agent.retire()
        if not alive:
            return
        _, pending = await asyncio.wait([a.task for a in alive], timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=15)


def _cancel(agent: RunningAgent) -> None:
    if not agent.task.done():
        agent.task.cancel()
