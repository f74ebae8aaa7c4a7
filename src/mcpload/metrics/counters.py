"""The plain counts a recorder keeps: counters of an interval (or of the run so far) and, per operation,
counts by outcome kind next to its timing."""

from __future__ import annotations

from mcpload.metrics.histogram import Timing


class Counters:
    """Plain counters of one interval, or of the run so far."""

    __slots__ = (
        "arrivals",
        "bytes_received",
        "bytes_sent",
        "conversations_failed",
        "conversations_ok",
        "dropped",
        "sessions_closed",
        "sessions_failed",
        "sessions_started",
        "tokens",
        "wasted_tokens",
    )
    # declared for the type checker (no class attributes: the slots hold the values)
    arrivals: int
    bytes_received: int
    bytes_sent: int
    conversations_failed: int
    conversations_ok: int
    dropped: int
    sessions_closed: int
    sessions_failed: int
    sessions_started: int
    tokens: int
    wasted_tokens: int

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def add(self, other: Counters) -> None:
        """Add ``other``'s counts to these."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def plus(self, other: Counters) -> Counters:
        """A new ``Counters`` holding the sum of both."""
        out = Counters()
        out.add(self)
        out.add(other)
        return out


class OpStats:
    """Counts by outcome kind and timing of one operation (first attempts, or retries)."""

    __slots__ = ("kinds", "timing", "total_kinds")

    def __init__(self, parent: Timing) -> None:
        self.timing = Timing(parent)
        self.kinds: dict[str, int] = {}  # this interval
        self.total_kinds: dict[str, int] = {}  # earlier intervals

    def run_kinds(self) -> dict[str, int]:
        """Counts by kind over the run so far."""
        return merged(self.total_kinds, self.kinds)


def merged(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """A new dict with the counts of both."""
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return out
