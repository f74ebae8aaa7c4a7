"""The coordinator's side of a split run: a load whose agents run elsewhere (worker processes, Ray
actors), reached through handles. Each worker's drained recorder is absorbed into a staging recorder
that the runner drains at every interval cut, so live view, thresholds and outputs see merged data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

from mcpload.engine.runner import add_extras
from mcpload.metrics import Recorder
from mcpload.profiles import Segment

#: how long an interval cut waits for late workers before it goes ahead (their data then lands in the
#: next interval)
CUT_WAIT_S = 0.5


class WorkerHandle(Protocol):
    """How the coordinator talks to one worker, wherever it runs."""

    segment: Segment
    name: str

    def start(self, epoch: float) -> None: ...
    def stop(self) -> None: ...
    def cancel(self) -> None: ...
    def messages(self) -> AsyncIterator[dict[str, Any]]: ...
    def lost_reason(self) -> str: ...
    async def close(self) -> None: ...


class RemoteLoad:
    """A ``Runner`` load (``engine.load.Load``) made of workers, one execution segment each.

    Args:
        handles: one per worker; their segments partition the run (or this process's segment).
        backend: ``processes`` or ``ray``, for the results.
        recorder: where the workers' data goes (default: a staging recorder the runner drains at each cut).
        on_gauges: told the workers' summed (active, target) agents instead of the recorder's gauges (when
            the recorder also holds agents of this process: ``--workers auto``).
    """

    def __init__(
        self,
        handles: Sequence[WorkerHandle],
        backend: str,
        recorder: Recorder | None = None,
        on_gauges: Callable[[int, int], None] | None = None,
    ) -> None:
        self.handles = list(handles)
        self.backend = backend
        self.recorder = recorder if recorder is not None else Recorder()
        self._on_gauges = on_gauges
        self.t0 = 0.0
        self._begun = False
        self._ticks = [0] * len(handles)
        self._done = [False] * len(handles)
        self._gauges = [(0, 0)] * len(handles)
        self._calls = [[0, 0] for _ in handles]  # per worker: calls, ok (first attempts and retries)
        self._lag_ms = 0.0  # the worst event-loop lag a worker reported since the last cut
        #: per worker, its (loop lag ms, CPU share of a core) since ``take_samples`` (None: no tick since)
        #: and what it said of its last change
        self.samples: list[tuple[float, float] | None] = [None] * len(handles)
        self.notices: list[float | None] = [None] * len(handles)
        self._extras: dict[str, Any] = {}
        self._lost: list[dict[str, Any]] = []
        self._pumps: list[asyncio.Task[None]] = []
        self._progress = asyncio.Event()

    def begin(self, t0: float) -> None:
        self.t0 = t0
        self._begun = True
        for handle in self.handles:
            handle.start(self.epoch)
        self._pumps = [asyncio.ensure_future(self._pump(i, h)) for i, h in enumerate(self.handles)]

    @property
    def epoch(self) -> float:
        """The run's start on the wall clock (what every worker starts from)."""
        return time.time() - (time.perf_counter() - self.t0)

    def add(self, handle: WorkerHandle) -> int:
        """Take in a worker started during the run (already told to start); returns its number."""
        assert self._begun, "begin() first"
        i = len(self.handles)
        self.handles.append(handle)
        self._ticks.append(0)
        self._done.append(False)
        self._gauges.append((0, 0))
        self._calls.append([0, 0])
        self.samples.append(None)
        self.notices.append(None)
        self._pumps.append(asyncio.ensure_future(self._pump(i, handle)))
        return i

    async def until_ended(self) -> None:
        """Until every worker has ended (workers added meanwhile included)."""
        while pending := [p for p in self._pumps if not p.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait(self) -> None:
        try:
            await self.until_ended()
        finally:
            await asyncio.gather(*(h.close() for h in self.handles), return_exceptions=True)

    async def before_cut(self, n: int) -> None:
        """Wait (at most ``CUT_WAIT_S``) until every live worker has sent second ``n``."""
        deadline = time.perf_counter() + CUT_WAIT_S
        while not all(done or tick >= n for done, tick in zip(self._done, self._ticks, strict=True)):
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except TimeoutError:
                return

    def stop(self) -> None:
        for handle in self.handles:
            handle.stop()

    def cancel_all(self) -> None:
        for handle in self.handles:
            handle.cancel()

    def halt(self) -> None:
        """Nothing here: each worker runs its own watchdog, which halts its agents."""

    def extras(self) -> dict[str, Any]:
        return self._extras

    def execution(self) -> dict[str, Any]:
        """How the run was split and what was lost, for the results (``execution``)."""
        return {
            "backend": self.backend,
            "workers": len(self.handles),
            "segments": [str(h.segment) for h in self.handles],
            "per_worker": [
                {"name": h.name, "segment": str(h.segment), "calls": calls, "ok": ok, **_node(h)}
                for h, (calls, ok) in zip(self.handles, self._calls, strict=True)
            ],
            "lost": list(self._lost),
        }

    async def _pump(self, i: int, handle: WorkerHandle) -> None:
        try:
            async for message in handle.messages():
                if "delta" in message:
                    self._absorb(i, message["delta"])
                if "tick" in message:
                    self._ticks[i] = message["tick"]
                    lag = float(message.get("lag_ms") or 0.0)
                    self._lag_ms = max(self._lag_ms, lag)
                    self.samples[i] = (lag, float(message.get("cpu") or 0.0))
                if "reshared" in message:
                    self.notices[i] = float(message["reshared"])
                if message.get("done"):
                    add_extras(self._extras, message.get("extras", {}))
                    self._done[i] = True
                    break
                if "error" in message:
                    self._lose(i, handle, str(message["error"]))
                    break
                self._progress.set()
        except Exception as exc:  # a worker's channel breaking is a lost worker, never a crashed run
            self._lose(i, handle, f"{type(exc).__name__}: {exc}")
        if not self._done[i]:  # the channel ended without the final report (_lose marks lost ones done)
            self._lose(i, handle, handle.lost_reason())
        self._progress.set()

    def take_samples(self) -> list[tuple[float, float] | None]:
        """Each worker's (loop lag ms, CPU share) reported since the last call; None for a worker that sent
        no tick since (late, not started yet) or has ended or was lost: nothing is read twice."""
        out = [None if done else sample for sample, done in zip(self.samples, self._done, strict=True)]
        self.samples = [None] * len(self.samples)
        return out

    def take_loop_lag_ms(self) -> float:
        """The worst event-loop lag of any worker since the last call (the runner's cut)."""
        lag, self._lag_ms = self._lag_ms, 0.0
        return round(lag, 3)

    def _absorb(self, i: int, delta: dict[str, Any]) -> None:
        self.recorder.absorb(delta)
        counts = self._calls[i]
        for table in ("ops", "retry_ops"):
            for part in delta.get(table, {}).values():
                counts[0] += sum(part["k"].values())
                counts[1] += part["k"].get("ok", 0)
        self._gauges[i] = (delta.get("active", 0), delta.get("target", 0))
        self._set_gauges()

    def _set_gauges(self) -> None:
        active, target = sum(a for a, _ in self._gauges), sum(t for _, t in self._gauges)
        if self._on_gauges is not None:
            self._on_gauges(active, target)
        else:
            self.recorder.active_agents = active
            self.recorder.target_agents = target

    def _lose(self, i: int, handle: WorkerHandle, reason: str) -> None:
        self._done[i] = True
        self._gauges[i] = (0, 0)
        self._set_gauges()
        self._lost.append(
            {
                "worker": i,
                "name": handle.name,
                "segment": str(handle.segment),
                "share": float(handle.segment.length),
                "reason": reason,
                "at_s": round(time.perf_counter() - self.t0, 3),
            }
        )


def _node(handle: Any) -> dict[str, Any]:
    """Where a Ray actor ran (``{"node": id}``, for the results); nothing for worker processes."""
    node = (getattr(handle, "where", None) or {}).get("node")
    return {"node": node} if node else {}
