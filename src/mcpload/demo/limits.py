"""A cap on concurrent tool executions for the demo server, with a queue in front of it.

Gives tests and demos a server whose limits are known: with ``max_concurrency`` C and a constant
latency L, it serves at most C / L calls per second, and a caller waits for a free slot in arrival
order. Optionally a call that has waited ``queue_timeout`` seconds, or that arrives while
``reject_above`` calls are already waiting, fails with ``Busy`` (the server answers a tool error).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Busy(Exception):
    """The call was refused (queue too long) or waited too long for a slot."""


class ConcurrencyLimit:
    """At most ``max_concurrency`` calls inside ``slot()`` at once; the others queue (FIFO).

    Args:
        max_concurrency: executions at once (at least 1).
        queue_timeout: seconds a call may wait for a slot before it fails (None: forever).
        reject_above: refuse a call at once when this many already wait (None: never).
    """

    def __init__(self, max_concurrency: int, queue_timeout: float | None = None, reject_above: int | None = None):
        if max_concurrency < 1:
            raise ValueError(f"max concurrency {max_concurrency}: must be at least 1")
        if queue_timeout is not None and queue_timeout <= 0:
            raise ValueError(f"queue timeout {queue_timeout}: must be positive")
        if reject_above is not None and reject_above < 0:
            raise ValueError(f"reject above {reject_above}: must not be negative")
        self.max_concurrency = max_concurrency
        self.queue_timeout = queue_timeout
        self.reject_above = reject_above
        self.waiting = 0
        self.running = 0
        self._semaphore: asyncio.Semaphore | None = None  # made on first use, in the server's loop

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one execution slot for the ``async with`` body.

        Raises:
            Busy: the queue was too long, or no slot came free within ``queue_timeout``.
        """
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        if self.reject_above is not None and self._semaphore.locked() and self.waiting >= self.reject_above:
            raise Busy(f"server busy: {self.waiting} calls queued (limit {self.reject_above})")
        self.waiting += 1
        try:
            if self.queue_timeout is None:
                await self._semaphore.acquire()
            else:
                try:
                    await asyncio.wait_for(self._semaphore.acquire(), self.queue_timeout)
                except TimeoutError:
                    raise Busy(f"server busy: no slot free within {self.queue_timeout:g}s") from None
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._semaphore.release()
