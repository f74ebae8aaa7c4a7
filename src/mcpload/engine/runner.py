"""The runner: wires a scenario's profiles to agents, ticks intervals once a second, evaluates
thresholds, and stops gracefully (retire → grace period → cancel as ``interrupted``)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mcpload.engine.agent import Agent, World
from mcpload.metrics import IntervalWriter, build_results, evaluate, percentiles_needed, should_abort

_clock = time.perf_counter
TICK_S = 0.1  # how often closed profiles re-read their target


@dataclass
class RunOptions:
    seed: int = 0
    intervals_path: str | None = None
    on_interval: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()  # redacted from the results (and so from every output)
    outputs: list[Any] = field(default_factory=list)  # mcpload.outputs.base.Output instances
    # objects with ``annotate_interval(interval)`` and ``annotate_results(results)`` that add fields
    # (resource samples) to each interval before it is written, and to the results before any output
    annotators: list[Any] = field(default_factory=list)


@dataclass
class RunReport:
    results: dict[str, Any]
    aborted_by: str | None = None
    interrupted: bool = False

    @property
    def thresholds_passed(self) -> bool:
        return all(t["passed"] for t in self.results.get("thresholds", []))


class _TypePicker:
    """Deterministic weighted choice of agent types: always the type furthest below its share."""

    def __init__(self, specs: list[Any]) -> None:
        self.specs = specs
        total = sum(s.weight for s in specs)
        self.shares = [s.weight / total for s in specs]
        self.counts = [0] * len(specs)
        self.n = 0

    def next(self) -> Any:
        self.n += 1
        i = max(range(len(self.specs)), key=lambda k: (self.shares[k] * self.n - self.counts[k], -k))
        self.counts[i] += 1
        return self.specs[i]


class Runner:
    def __init__(self, scenario: Any, world: World, options: RunOptions) -> None:
        self.scenario = scenario
        self.world = world
        self.options = options
        self.recorder = world.recorder
        self.t0 = 0.0
        self.active = 0
        self.targets: dict[int, int] = {}
        self.aborted_by: str | None = None
        self.interrupted = False
        self._agent_index = 0
        self._agents: set[Agent] = set()
        self._stopping = False
        self._controllers: list[asyncio.Task] = []
        self._intervals: list[dict[str, Any]] = []
        self._writer: IntervalWriter | None = None
        self._percentiles = percentiles_needed(scenario.thresholds)

    # public
    def interrupt(self) -> None:
        """Ctrl-C: stop the profiles now, in-flight work gets the grace period; a second Ctrl-C
        cancels everything at once."""
        if self.interrupted:
            for agent in list(self._agents):
                _cancel(agent)
            return
        self.interrupted = True
        self._stop_profiles()

    def _stop_profiles(self) -> None:
        self._stopping = True
        for task in self._controllers:
            task.cancel()

    async def run(self) -> RunReport:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        meta = {"started_at": started_at, **self.options.meta}
        if self.options.intervals_path:
            self._writer = IntervalWriter(self.options.intervals_path, meta)
        for output in self.options.outputs:
            output.start(meta, self.recorder)
        self.t0 = _clock()
        self._controllers = [
            asyncio.ensure_future(self._run_profile(i, p)) for i, p in enumerate(self.scenario.profiles)
        ]
        ticker = asyncio.ensure_future(self._tick())
        await asyncio.gather(*self._controllers, return_exceptions=True)
        ticker.cancel()
        duration = _clock() - self.t0
        self._cut_interval()
        thresholds = evaluate(self.scenario.thresholds, self._snapshot())
        results = build_results(
            self.recorder, meta=meta, intervals=self._intervals, thresholds=thresholds, duration_s=duration
        )
        results["interrupted_calls"] = self.world.sink.interrupted
        results["template_errors"] = self.world.template_errors
        if self.world.scripted_errors:
            results["scripted_errors"] = self.world.scripted_errors
        price = getattr(self.scenario, "price_per_1k", None)
        conv = results.get("conversations", {})
        if price:
            conv["wasted_cost"] = round(conv.get("wasted_tokens", 0) * price / 1000, 6)
        results["aborted_by"] = self.aborted_by
        results["stopped_by_user"] = self.interrupted
        for annotator in self.options.annotators:
            annotator.annotate_results(results)
        if self.options.secrets:
            results = redact_all(results, self.options.secrets)
        if self._writer is not None:
            self._writer.write_summary({k: v for k, v in results.items() if k != "intervals"})
            self._writer.close()
        for output in self.options.outputs:
            output.stop(results)
        return RunReport(results, self.aborted_by, self.interrupted)

    # profiles
    def _spawn(self, spec: Any, intended: float | None = None) -> Agent:
        index = self._agent_index
        self._agent_index += 1
        rng = random.Random(f"{self.options.seed}:agent:{index}")
        agent = Agent(index, spec, self.world, rng, intended)
        agent.task = asyncio.ensure_future(agent.run())
        self.active += 1
        self.recorder.active_agents = self.active
        self._agents.add(agent)
        agent.task.add_done_callback(lambda task: self._agent_done(agent, task))
        return agent

    def _agent_done(self, agent: Agent, task: asyncio.Task) -> None:
        self._agents.discard(agent)
        self.active -= 1
        self.recorder.active_agents = self.active
        if not task.cancelled() and task.exception() is not None:
            # a bug of ours must not pass silently, nor kill the run
            key = f"engine: {type(task.exception()).__name__}: {task.exception()}"[:200]
            self.world.scripted_errors[key] = self.world.scripted_errors.get(key, 0) + 1

    def _specs_for(self, profile: Any) -> list[Any]:
        names = getattr(profile, "agent_types", None)
        specs = list(self.scenario.agents.values())
        return [s for s in specs if s.name in names] if names else specs

    async def _sleep_until(self, when: float) -> None:
        delay = when - _clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run_profile(self, pi: int, profile: Any) -> None:
        agents: list[Agent] = []
        try:
            await self._sleep_until(self.t0 + profile.start)
            if profile.kind == "closed":
                await self._closed(pi, profile, agents)
            else:
                await self._open(pi, profile, agents)
        except asyncio.CancelledError:
            pass
        finally:
            self.targets[pi] = 0
            self.recorder.target_agents = sum(self.targets.values())
            # a profile that ends on its own gives its graceful_stop; a run stopped early (Ctrl-C,
            # a threshold abort) gives the scenario's grace_period
            grace = self.scenario.options.grace_period if self._stopping else profile.graceful_stop
            await self._drain(agents, grace)

    async def _closed(self, pi: int, profile: Any, agents: list[Agent]) -> None:
        picker = _TypePicker(self._specs_for(profile))
        start = _clock()
        end = start + profile.duration
        ramp_down = getattr(profile, "graceful_ramp_down", profile.graceful_stop)
        loop = asyncio.get_running_loop()
        while (now := _clock()) < end:
            agents[:] = [a for a in agents if not a.task.done()]
            active = [a for a in agents if not a.retiring]
            target = profile.target_at(now - start)
            self.targets[pi] = target
            self.recorder.target_agents = sum(self.targets.values())
            if len(active) < target:
                agents.extend(self._spawn(picker.next()) for _ in range(target - len(active)))
            elif len(active) > target:
                for agent in reversed(active[target:]):
                    agent.retire()
                    loop.call_later(ramp_down, _cancel, agent)
            await asyncio.sleep(TICK_S)

    async def _open(self, pi: int, profile: Any, agents: list[Agent]) -> None:
        picker = _TypePicker(self._specs_for(profile))
        start = _clock()
        end = start + profile.duration
        rng = random.Random(f"{self.options.seed}:arrivals:{pi}")
        running = 0
        rec = self.recorder

        def done(_task: asyncio.Task) -> None:
            nonlocal running
            running -= 1

        for offset in profile.arrivals(rng):
            intended = start + offset
            if intended >= end:
                break
            await self._sleep_until(intended)
            if running >= profile.max_agents:
                rec.arrival(False)
                continue
            rec.arrival(True, max(0.0, _clock() - intended))
            agent = self._spawn(picker.next(), intended)
            agent.task.add_done_callback(done)
            running += 1
            agents.append(agent)
            if len(agents) > 2 * running + 64:
                agents[:] = [a for a in agents if not a.task.done()]
        await self._sleep_until(end)

    async def _drain(self, agents: list[Agent], grace: float) -> None:
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

    # intervals
    async def _tick(self) -> None:
        n = 1
        while True:
            await self._sleep_until(self.t0 + n)
            n += 1
            interval = self._cut_interval()
            snapshot = self._snapshot()
            broken = should_abort(self.scenario.thresholds, snapshot, _clock() - self.t0)
            if broken is not None and self.aborted_by is None:
                self.aborted_by = str(broken)
                self._stop_profiles()
            if self.options.on_interval is not None:
                self.options.on_interval(interval, snapshot)
            for output in self.options.outputs:
                output.interval(interval, snapshot)

    def _snapshot(self) -> dict[str, Any]:
        return self.recorder.snapshot(percentiles=self._percentiles)

    def _cut_interval(self) -> dict[str, Any]:
        interval = self.recorder.interval(_clock() - self.t0)
        for annotator in self.options.annotators:
            annotator.annotate_interval(interval)
        self._intervals.append(interval)
        if self._writer is not None:
            self._writer.write_interval(interval)
        return interval


def redact_all(value: Any, secrets: frozenset[str]) -> Any:
    """``value`` with every secret replaced by ``***`` in every string (keys included), recursively."""
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {redact_all(k, secrets): redact_all(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v, secrets) for v in value]
    return value


def _cancel(agent: Agent) -> None:
    if agent.task is not None and not agent.task.done():
        agent.task.cancel()
