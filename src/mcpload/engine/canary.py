"""The canary (``options.canary``): one session of its own beside the load, making one cheap call
every ``every_s`` seconds. Its latency per interval goes into the intervals (``canary``) and the
results, where the ``event-loop-blocking`` finding compares it with the slow calls in flight.

It is an annotator: the runner adds its figures to each interval and to the results."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from mcpload.metrics.histogram import Timing

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.scenario.canary import CanarySpec

_clock = time.perf_counter


class Canary:
    """Runs the canary calls; ``start`` before the load, ``stop`` after it."""

    def __init__(self, spec: CanarySpec, target: Target) -> None:
        self.spec = spec
        self.target = target
        self._task: asyncio.Task[None] | None = None
        self._timing = Timing()
        self._calls = self._ok = 0
        self._total_calls = self._total_ok = 0
        self.error: str | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self, _cut: asyncio.Event) -> None:
        """The load is over (the runner's drain): stop now, so the canary's figures are the load's and
        its session does not stay open while the monitor samples what the server kept."""
        await self.stop()

    async def _run(self) -> None:
        from mcpload.mcp.connect import connect

        session, out = await connect(self.target)
        if not out.ok:
            self.error = f"the canary could not open its session: {out.describe()}"
            return
        try:
            spec = self.spec
            timeout = max(self.target.timeout, spec.every_s)
            due = _clock()
            while True:
                if spec.call == "ping":
                    outcome = await session.ping(timeout)
                else:
                    outcome = await session.call_tool(spec.call, spec.args, timeout)
                self._timing.add(outcome.latency)
                self._calls += 1
                self._ok += outcome.ok
                due = max(due + spec.every_s, _clock())  # a late call is not followed by a burst
                await asyncio.sleep(max(0.0, due - _clock()))
        finally:
            await asyncio.shield(session.close())

    def annotate_interval(self, interval: dict[str, Any]) -> None:
        summary = self._timing.summary((50.0, 95.0), interval_only=True)
        interval["canary"] = {
            "calls": self._calls,
            "ok": self._ok,
            "p50_ms": summary["p50"] if summary else None,
            "max_ms": summary["max"] if summary else None,
        }
        self._timing.cut()
        self._total_calls += self._calls
        self._total_ok += self._ok
        self._calls = self._ok = 0

    def annotate_results(self, results: dict[str, Any]) -> None:
        results["canary"] = {
            "call": self.spec.operation,
            "every_s": self.spec.every_s,
            "calls": self._total_calls + self._calls,
            "ok": self._total_ok + self._ok,
            "latency_ms": self._timing.summary((10.0, 50.0, 95.0, 99.0)),
            "error": self.error,
        }
