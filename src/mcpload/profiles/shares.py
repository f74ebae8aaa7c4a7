"""A process's share of a run over time: the segment it executes, which ``--workers auto`` may change
during the run (half of a busy worker's segment moves to a new worker from an agreed moment).

A change names the moment it takes effect (``at_s``, seconds after the run's start on the shared
clock) and is announced at least ``NOTICE_S`` before it. Every process that takes part switches at the
same moment, and before and after it the segments partition the run, so the two rules of ``segments``
still add up exactly:

* **Counts**: at any moment a closed profile's target in each process is its current segment's share
  of the whole target; the shares of a partition add up to the whole.
* **Arrivals**: arrival ``i`` due at ``t`` belongs to the process whose segment at ``t`` owns ``i``: one
  process for every arrival. A process decides an arrival at most ``NOTICE_S`` before it is due, so a
  change announced in time can never reach an arrival already decided under the old segments.

Closed profiles number their agents with their segment's owned indices. A change starts a new *epoch*
of numbers (``epoch · EPOCH_SPAN`` onwards) for the processes it touches, so the agents started after
it never take the number (the identity, the generator) of an agent started before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mcpload.profiles.segments import Segment

#: the least time between announcing a change and the change: a process decides an arrival at most this
#: long before it is due
NOTICE_S = 1.0
#: agent numbers of epoch ``e`` start at ``e · EPOCH_SPAN`` (a closed profile starts far fewer agents)
EPOCH_SPAN = 10**9


@dataclass(frozen=True, slots=True)
class Share:
    """What a process executes from ``from_s`` on.

    Attributes:
        from_s: seconds after the run's start (``-inf`` for the first share).
        segment: the segment, or None for nothing (a worker waiting to take over a share).
        epoch: the change that set it (0: the run's start), for agent numbers.
    """

    from_s: float
    segment: Segment | None
    epoch: int = 0

    def scale(self, n: int) -> int:
        """This share of a whole count ``n`` (0 for nothing)."""
        if self.segment is None:
            return 0
        return n if self.segment.is_full else self.segment.scale(n)

    def owns(self, index: int) -> bool:
        """Whether arrival ``index`` of the whole sequence is this share's."""
        segment = self.segment
        return segment is not None and (segment.is_full or segment.owns(index))

    def numbers(self) -> Iterator[int]:
        """The indices this share's closed-profile agents take, in order: the segment's owned indices,
        shifted into the share's epoch. Endless (empty for nothing)."""
        if self.segment is None:
            return iter(())
        base = self.epoch * EPOCH_SPAN
        return (base + index for index in self.segment.owned_indices())


class ShareSchedule:
    """The shares of one process over a run: one share from the start, then one per change.

    Args:
        segment: the share from the run's start (None: nothing until a change gives it one).
        fixed: no change will come (a ``--workers N`` or ``--segment`` run): arrivals are decided at once.
    """

    __slots__ = ("fixed", "shares")

    def __init__(self, segment: Segment | None, *, fixed: bool = True) -> None:
        self.shares: list[Share] = [Share(float("-inf"), segment, 0)]
        self.fixed = fixed

    def at(self, t: float) -> Share:
        """The share that holds ``t`` seconds after the run's start."""
        shares = self.shares
        for i in range(len(shares) - 1, 0, -1):
            if shares[i].from_s <= t:
                return shares[i]
        return shares[0]

    @property
    def latest(self) -> Share:
        """The last share announced (in force now or soon)."""
        return self.shares[-1]

    def change(self, at_s: float, segment: Segment | None, epoch: int) -> None:
        """From ``at_s`` on, execute ``segment`` (numbers of ``epoch``).

        Raises:
            ValueError: the schedule is fixed, or ``at_s`` is not after the last change.
        """
        if self.fixed:
            raise ValueError("this process's share is fixed (--workers N or --segment)")
        if at_s <= self.shares[-1].from_s:
            raise ValueError(f"a change at {at_s}s must come after the last one at {self.shares[-1].from_s}s")
        self.shares.append(Share(at_s, segment, epoch))

    def __repr__(self) -> str:
        return "ShareSchedule(" + ", ".join(f"{s.from_s:g}s: {s.segment}" for s in self.shares) + ")"
