"""``--workers auto``: add worker processes during the run, before mcpload's own event loop falls behind.

The run starts as ``auto`` sized it (agents in this process, or forked workers). Once a second, before the
interval is cut, every process that runs agents is read: its event-loop lag and its CPU per second of
wall time. A process that stays *hot* (lag at least ``lag_ms`` or CPU at least ``cpu`` of a core) for
``hot_intervals`` seconds in a row hands half of its segment to a new worker process, until there is one
process per core. Both signals come well before the lag that makes an interval generator-bound (100 ms):
a loop busy 80% of the time still keeps its schedule, and is the one about to stop doing so.

A change (``profiles.shares``) takes effect on a whole second at least ``NOTICE_S`` after it is
announced, in the donor and the new worker at once, so the run's arrivals and agent targets stay exact
across it: a closed profile's donor retires its surplus agents (they finish their conversation within
``graceful_ramp_down``) while the new worker starts its part; an open profile's arrivals from that
second go by the new segments, and the agents already running stay where they are. New workers are
spawned (a fresh interpreter rebuilds the scenario from the command line's recipe), as a fork of a
process running threads is not safe. Every change, and every addition that failed, is in
``execution.adaptive`` of the results and in the end summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mcpload.distributed.remote import RemoteLoad, WorkerHandle
from mcpload.distributed.sizing import usable_cores
from mcpload.distributed.worker import CpuShare
from mcpload.distributed.worker_processes import ProcessHandle, SpawnRecipe
from mcpload.engine.load import LocalLoad
from mcpload.engine.looplag import LoopLag
from mcpload.engine.runner import add_extras
from mcpload.metrics import Recorder
from mcpload.profiles import Segment
from mcpload.profiles.shares import NOTICE_S

_clock = time.perf_counter

#: a worker spawned during the run must have rebuilt its scenario within this time, or the change is dropped
READY_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class AdaptPolicy:
    """When ``--workers auto`` adds a worker.

    Attributes:
        lag_ms: a process whose event loop lags this much (worst wake-up of the second) is hot.
        cpu: a process using this share of a core (CPU seconds per second) is hot.
        hot_intervals: seconds in a row a process must be hot before it hands over half its share.
        cooldown_s: the least time between two changes (the last change's effect must show first).
        min_left_s: no change when less than this is left of the load (a new worker would hardly help).
        max_workers: the most processes running agents; 0 means one per core.
        min_share: a segment shorter than this is not split again.
    """

    lag_ms: float = 25.0
    cpu: float = 0.8
    hot_intervals: int = 2
    cooldown_s: float = 3.0
    min_left_s: float = 5.0
    max_workers: int = 0
    min_share: Fraction = Fraction(1, 64)

    def hot(self, lag_ms: float, cpu: float) -> bool:
        """Whether a process with this lag and CPU share is close to falling behind."""
        return lag_ms >= self.lag_ms or cpu >= self.cpu

    def workers_cap(self) -> int:
        """The most processes running agents: ``max_workers``, else the cores this process may run on."""
        return self.max_workers or usable_cores()

    def describe(self) -> dict[str, Any]:
        """The policy, for the results."""
        return {
            "lag_ms": self.lag_ms,
            "cpu": self.cpu,
            "hot_intervals": self.hot_intervals,
            "cooldown_s": self.cooldown_s,
            "min_left_s": self.min_left_s,
            "max_workers": self.workers_cap(),
        }


@dataclass
class _Part:
    """One process running agents, as the policy sees it."""

    name: str
    streak: int = 0  # seconds in a row it was hot
    lag_ms: float = 0.0
    cpu: float = 0.0


class AdaptiveLoad:
    """A ``Load`` that starts as ``first`` and adds spawned workers when a process runs hot.

    Args:
        local: the agents in this process (``LocalLoad`` whose schedule may change), or None when the run
            started with forked workers.
        remote: the workers (forked at the start, or none); workers added during the run join it.
        spawn: what a new worker rebuilds the run from.
        end_s: when the load ends, in seconds after the start (no change is made close to it).
        policy: when to add a worker.
    """

    def __init__(
        self,
        local: LocalLoad | None,
        remote: RemoteLoad,
        spawn: SpawnRecipe,
        end_s: float,
        policy: AdaptPolicy | None = None,
    ) -> None:
        self.local = local
        self.remote = remote
        self.spawn = spawn
        self.end_s = end_s
        self.policy = policy or AdaptPolicy()
        self.recorder: Recorder = local.recorder if local is not None else remote.recorder
        self.t0 = 0.0
        self.changes: list[dict[str, Any]] = []
        self._parts: list[_Part] = ([_Part("this process")] if local is not None else []) + [
            _Part(h.name) for h in remote.handles
        ]
        self._lag = LoopLag()
        self._cpu: CpuShare | None = None
        self._adding: asyncio.Task[None] | None = None
        self._last_change_s = -math.inf
        self._stopping = False
        self._gave_up = ""  # why no more workers are added (a spawn failed)
        self._late: list[dict[str, Any]] = []  # changes that reached this process with too little notice
        self._stopped_s: float | None = None  # when the run was stopped early (Ctrl-C, SIGTERM, a threshold)

    # --- the Load contract ----------------------------------------------------------------------

    def begin(self, t0: float) -> None:
        self.t0 = t0
        if self.local is not None:
            self.local.begin(t0)
            self._lag.start()
            self._cpu = CpuShare()
        self.remote.begin(t0)

    async def wait(self) -> None:
        try:
            if self.local is not None:
                await self.local.wait()
            else:
                await self.remote.until_ended()
            # the load is over here: no addition now (one under way is dropped)
            self._stopping = True
            await self._drop_adding()
        finally:
            self._lag.stop()
            await self.remote.wait()

    def stop(self) -> None:
        self._stopping = True
        if self._stopped_s is None:
            self._stopped_s = _clock() - self.t0
        if self._adding is not None:
            self._adding.cancel()
        if self.local is not None:
            self.local.stop()
        self.remote.stop()

    def cancel_all(self) -> None:
        if self.local is not None:
            self.local.cancel_all()
        self.remote.cancel_all()

    def halt(self) -> None:
        if self.local is not None:
            self.local.halt()  # the workers run their own watchdogs

    async def before_cut(self, n: int) -> None:
        await self.remote.before_cut(n)
        self._observe(_clock() - self.t0)

    def take_loop_lag_ms(self) -> float | None:
        """The workers' worst lag (this process's own is the runner's to measure); None while the agents
        all run here."""
        if not self.remote.handles:
            return None
        return self.remote.take_loop_lag_ms()

    def extras(self) -> dict[str, Any]:
        if self.local is not None and not self.remote.handles:
            return self.local.extras()
        total: dict[str, Any] = {}
        if self.local is not None:
            add_extras(total, self.local.extras())
        add_extras(total, self.remote.extras())
        return total

    def execution(self) -> dict[str, Any]:
        """How the run was split, with ``adaptive``: what ``--workers auto`` did and why."""
        if self.local is not None and not self.remote.handles:
            out = self.local.execution()
        else:
            out = self.remote.execution()
            if self.local is not None:
                out["backend"] = "adaptive"
                out["workers"] += 1
                out["segments"].insert(0, str(self.local.segment))
                out["per_worker"].insert(0, {"name": "this process", "segment": str(self.local.segment)})
        # a process that got its change with less than NOTICE_S left may have decided a few arrivals under
        # its old share (only when its loop lagged about a second): said, never hidden
        late = list(self._late)
        for handle, notice in zip(self.remote.handles, self.remote.notices, strict=True):
            if notice is not None and notice < NOTICE_S:
                late.append({"name": handle.name, "notice_s": notice})
        # a change announced for a second the run never reached (it was stopped first) did not happen
        for change in self.changes:
            if self._stopped_s is not None and change.get("at_s", -1.0) > self._stopped_s:
                change["took_effect"] = False
        out["adaptive"] = {
            **self.policy.describe(),
            "changes": self.changes,
            **({"stopped": self._gave_up} if self._gave_up else {}),
            **({"late": late} if late else {}),
        }
        return out

    # --- the policy -----------------------------------------------------------------------------

    def _observe(self, now_s: float) -> None:
        """Read every process once (at a cut) and start an addition when one has run hot long enough."""
        samples: list[tuple[float, float] | None] = []
        if self.local is not None and self._cpu is not None:
            samples.append((self._lag.cut()["loop_lag_ms"], self._cpu.cut()))
        samples += self.remote.take_samples()
        policy = self.policy
        for part, sample in zip(self._parts, samples, strict=False):
            if sample is None:  # nothing new from it (a late tick, a lost worker): not evidence of anything
                part.streak = 0
                continue
            part.lag_ms, part.cpu = sample
            part.streak = part.streak + 1 if policy.hot(*sample) else 0
        if self._adding is not None or self._stopping or self._gave_up:
            return
        if len(self._parts) >= policy.workers_cap() or now_s - self._last_change_s < policy.cooldown_s:
            return
        if self.end_s - now_s < policy.min_left_s:
            return
        hot = [
            i
            for i, part in enumerate(self._parts)
            if part.streak >= policy.hot_intervals and self._segment(i).length / 2 >= policy.min_share
        ]
        if not hot:
            return
        donor = max(hot, key=lambda i: (self._parts[i].cpu, self._parts[i].lag_ms))
        self._adding = asyncio.ensure_future(self._add_worker(donor, now_s))

    def _process(self, i: int) -> LocalLoad | WorkerHandle:
        """Part ``i`` of ``_parts``: this process's load first (when it runs agents), then the workers."""
        if self.local is not None:
            if i == 0:
                return self.local
            i -= 1
        return self.remote.handles[i]

    def _segment(self, i: int) -> Segment:
        return self._process(i).segment

    async def _add_worker(self, donor: int, decided_s: float) -> None:
        part = self._parts[donor]
        reason = f"{part.name}: CPU {part.cpu:.0%} of a core, event-loop lag {part.lag_ms:.0f} ms for {part.streak} s"
        handle: ProcessHandle | None = None
        try:
            # named worker-N, N counting every process that runs agents (this one included)
            handle = ProcessHandle(Segment.full(), self.spawn, len(self._parts))
            await handle.connect()
            await handle.ready(READY_TIMEOUT_S)
        except asyncio.CancelledError:
            if handle is not None:
                handle.kill()
                await handle.close()
            raise
        except Exception as exc:  # a worker that cannot start: record it, run on as we are
            if handle is not None:
                handle.kill()
                await handle.close()
            self._gave_up = f"a new worker could not start: {exc}"[:300]
            self.changes.append({"decided_at_s": round(decided_s, 3), "reason": reason, "failed": self._gave_up})
            self._adding = None
            return
        now_s = _clock() - self.t0
        at_s = float(math.ceil(now_s + NOTICE_S + 0.5))
        # the run ended while the worker started, or its share could only take effect once the load is over
        if self._stopping or at_s >= self.end_s:
            handle.kill()
            await handle.close()
            if not self._stopping:  # said: a worker was started and dropped (no other is tried: later still)
                self.changes.append(
                    {
                        "decided_at_s": round(decided_s, 3),
                        "reason": reason,
                        "failed": f"the new worker was ready at {now_s:.1f}s: its share could take effect at "
                        f"{at_s:g}s, after the load's end at {self.end_s:g}s",
                    }
                )
            return
        epoch = len([c for c in self.changes if "failed" not in c]) + 1
        whole = self._segment(donor)
        middle = whole.start + whole.length / 2
        kept, given = Segment(whole.start, middle), Segment(middle, whole.end)
        self._reshare(donor, at_s, kept, epoch)
        handle.start(self.remote.epoch)
        handle.reshare(at_s, given, epoch)
        self.remote.add(handle)
        self._parts.append(_Part(handle.name))
        self._last_change_s = at_s
        self.changes.append(
            {
                "decided_at_s": round(decided_s, 3),
                "at_s": at_s,
                "reason": reason,
                "from": {"name": part.name, "segment": str(whole)},
                "to": [{"name": part.name, "segment": str(kept)}, {"name": handle.name, "segment": str(given)}],
                "workers": len(self._parts),
                "started_in_s": round(now_s - decided_s, 3),
            }
        )
        self._adding = None

    def _reshare(self, i: int, at_s: float, segment: Segment, epoch: int) -> None:
        process = self._process(i)
        if isinstance(process, LocalLoad):
            notice = process.reshare(at_s, segment, epoch)
            if notice < NOTICE_S:
                self._late.append({"name": self._parts[i].name, "notice_s": round(notice, 3)})
            return
        assert isinstance(process, ProcessHandle), "only worker processes change their share"
        process.reshare(at_s, segment, epoch)

    async def _drop_adding(self) -> None:
        task, self._adding = self._adding, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
