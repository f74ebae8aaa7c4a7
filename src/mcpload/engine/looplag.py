"""The event-loop lag of mcpload itself, measured all through a run: a task sleeps ``PERIOD`` again
and again and notes how late it wakes. A loop busy with agents (or blocked) wakes it late; lag in
the tens of milliseconds means every latency measured in that second carries mcpload's own delay.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

PERIOD_S = 0.05
_clock = time.perf_counter


class LoopLag:
    """Per-interval event-loop lag: ``start`` with the run, ``cut`` at each interval, ``stop`` at the end."""

    def __init__(self, period_s: float = PERIOD_S) -> None:
        self.period_s = period_s
        self._task: asyncio.Task[None] | None = None
        self._due: float | None = None  # when the sleep now in progress should end
        self._max = self._sum = 0.0
        self._n = 0

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._sample())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _sample(self) -> None:
        with suppress(asyncio.CancelledError):
            while True:
                self._due = _clock() + self.period_s
                await asyncio.sleep(self.period_s)
                self._note(_clock() - self._due)

    def _note(self, late_s: float) -> None:
        late = max(late_s, 0.0)
        self._sum += late
        self._n += 1
        if late > self._max:
            self._max = late

    def cut(self) -> dict[str, float]:
        """The lag since the last cut, in ms: ``loop_lag_ms`` (the worst wake-up) and
        ``loop_lag_mean_ms``; a sleep overdue right now counts with what it has waited so far."""
        worst = self._max
        if self._due is not None:
            worst = max(worst, _clock() - self._due)
        mean = self._sum / self._n if self._n else max(worst, 0.0)
        self._max = self._sum = 0.0
        self._n = 0
        return {"loop_lag_ms": round(max(worst, 0.0) * 1000, 3), "loop_lag_mean_ms": round(mean * 1000, 3)}
