"""One segment of a split run, as a worker process or a Ray actor runs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpload.engine.agent import SharedRunState
from mcpload.engine.load import LocalLoad
from mcpload.engine.looplag import LoopLag
from mcpload.engine.recording import OutcomeSink
from mcpload.engine.timing import latest_end
from mcpload.engine.watchdog import Watchdog
from mcpload.metrics import Recorder
from mcpload.profiles import Segment, ShareSchedule

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.scenario import Scenario

#: what a Ray actor calls to rebuild ``(scenario, target)``: a loaded scenario cannot travel (compiled
#: templates, Python agents)
Recipe = Callable[[], "tuple[Scenario, Target]"]

#: a message from a worker: ``{"tick": n, "delta": …, "lag_ms": …, "cpu": …}`` once a second,
#: ``{"done": True, "delta": …, "extras": …}`` at the end, ``{"error": text}`` when it could not run,
#: ``{"ready": True}`` once a worker started mid-run has built its scenario, ``{"reshared": notice_s}``
#: once it applied a change of its share
Message = dict[str, Any]


class SegmentWorker:
    """Runs one execution segment of a run and reports its recorder's drain once a second.

    Args:
        scenario: the scenario, loaded in the worker.
        target: the target (transport and protocol already settled by the coordinator's preflight).
        transport: the transport preflight chose.
        protocol: the protocol version preflight agreed.
        seed: the run's seed (the same in every worker).
        segment: this worker's share.
        secrets: values to redact from error messages.
        shares: its share over time, when it may change during the run (``--workers auto``; replaces
            ``segment``).
    """

    def __init__(
        self,
        scenario: Scenario,
        target: Target,
        transport: str,
        protocol: str,
        seed: int,
        segment: Segment | None,
        secrets: frozenset[str] = frozenset(),
        shares: ShareSchedule | None = None,
    ) -> None:
        self.recorder = Recorder()
        sink = OutcomeSink(self.recorder, secrets)
        world = SharedRunState(scenario, target, transport, protocol, self.recorder, sink)
        self.load = LocalLoad(scenario, world, seed, segment, shares)
        self.lag = LoopLag()
        self.end_s = latest_end(scenario)

    async def run(self, epoch: float, send: Callable[[Message], None]) -> None:
        """Run the segment from the wall-clock time ``epoch`` (the run's start, the same for every worker)
        and call ``send`` with a message each second and one at the end."""
        t0 = time.perf_counter() + (epoch - time.time())
        world = self.load.world
        # an agent stalling this worker's loop past the end is broken here as in a local run
        watchdog = Watchdog(halt=lambda: setattr(world, "halted", True))
        watchdog.start(asyncio.get_running_loop())
        watchdog.due_at(t0 + self.end_s)
        self.load.begin(t0)
        self.lag.start()
        ticker = asyncio.ensure_future(self._tick(t0, send))
        try:
            await self.load.wait()
        finally:
            ticker.cancel()
            self.lag.stop()
            watchdog.close()
        send({"done": True, "delta": self.recorder.drain(), "extras": self.load.extras()})

    @property
    def segment(self) -> Segment:
        """The segment this worker executes (the latest announced)."""
        return self.load.segment

    async def _tick(self, t0: float, send: Callable[[Message], None]) -> None:
        n = 1
        cpu = CpuShare()
        while True:
            delay = t0 + n - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # the worker's own event-loop lag and CPU: the agents run here, so it is this process that can
            # fall behind (``--workers auto`` reads both)
            lag = self.lag.cut()["loop_lag_ms"]
            send({"tick": n, "delta": self.recorder.drain(), "lag_ms": lag, "cpu": cpu.cut()})
            n += 1

    def reshare(self, at_s: float, segment: Segment | None, epoch: int) -> float:
        """Change this worker's share from ``at_s`` on (see ``LocalLoad.reshare``); returns the notice."""
        return self.load.reshare(at_s, segment, epoch)

    def stop(self) -> None:
        """Start no more work; running agents get the grace period."""
        self.load.stop()

    def cancel_all(self) -> None:
        """Cancel every agent now."""
        self.load.cancel_all()


class CpuShare:
    """This process's CPU time per second of wall time since the last ``cut`` (1.0: one core busy)."""

    def __init__(self) -> None:
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def cut(self) -> float:
        cpu, wall = time.process_time(), time.perf_counter()
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        return round(share, 3)
