"""How an agent paces itself when things go wrong: it backs off after conversations that fail (or do
nothing) and after sessions it cannot open, as a real agent (and its user) would; and how the run
counts an outage of the target once, not once per refused connection.

Why: a conversation that fails without waiting on the network (an undefined template value, a data
column that does not exist, ``repeat: {times: 0}``, a Python agent raising at once) or a refused
connection returns in microseconds. Without a pause the agent would spin: the event loop never runs
the clock, the run never ends at its duration and ignores Ctrl-C and SIGTERM, and a restarting server
is hammered with tens of thousands of connection attempts.
"""

from __future__ import annotations

import random
from typing import Any

#: first pause after a failed (or empty) conversation or a failed open, in seconds; doubles on each
#: consecutive failure up to ``CAP_S``, with jitter (a uniform draw in [d/2, d]) so that agents that
#: failed together do not come back together
BASE_S = 0.1
CAP_S = 2.0
#: outages kept in the results (each with its start, end and failed opens); later ones are only counted
MAX_OUTAGES = 100

# Jitter is drawn from its own generator, never from the agent's: backing off must not shift the
# seeded sequence of workflow choices and arguments.
_jitter = random.Random(0x5EED)


class Backoff:
    """Exponential backoff over consecutive failures; ``reset`` on the first success."""

    __slots__ = ("failures",)

    def __init__(self) -> None:
        self.failures = 0

    def next_delay(self) -> float:
        """Count one more failure and return the pause before the next attempt."""
        self.failures += 1
        ceiling = min(CAP_S, BASE_S * (2.0 ** min(self.failures - 1, 16)))
        return ceiling * (0.5 + 0.5 * _jitter.random())

    def reset(self) -> None:
        self.failures = 0


class OutageTracker:
    """The target's outages as the run saw them: an outage starts with the first session that cannot
    be opened for a network reason (refused, reset, timeout…) while none was failing, and ends with the
    next session opened. Each is counted once, with the number of failed opens inside it."""

    __slots__ = ("count", "current", "outages")

    def __init__(self) -> None:
        self.count = 0
        self.outages: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def open_failed(self, at_s: float) -> None:
        if self.current is None:
            self.count += 1
            self.current = {"start_s": round(at_s, 3), "end_s": None, "failed_opens": 0}
            if len(self.outages) < MAX_OUTAGES:
                self.outages.append(self.current)
        self.current["failed_opens"] += 1

    def opened(self, at_s: float) -> None:
        if self.current is not None:
            self.current["end_s"] = round(at_s, 3)
            self.current = None

    def summary(self) -> dict[str, Any]:
        return {"count": self.count, "list": [dict(o) for o in self.outages]}
