"""Execution segments: a deterministic share of a run, so that processes or machines can split it.

A segment is a half-open interval ``[start, end)`` of ``[0, 1)`` (k6's execution segments). Every process
runs the same scenario with its own segment; the segments of one run must partition ``[0, 1)``.

Two rules split the load, and both add up exactly to the whole for *any* partition:

* **Counts** (closed profiles' agent targets, open profiles' ``max_agents``): a segment gets
  ``floor(n·end) − floor(n·start)`` of a whole count ``n``. Over a partition the sum telescopes to
  ``floor(n·1) − floor(n·0) = n``, and each share is within one of ``n·(end − start)``.
* **Arrivals** (open profiles): every process draws the same global arrival sequence from the same seed,
  and arrival ``i`` belongs to the segment that holds the point ``frac((i + 1)·φ⁻¹)`` (φ the golden
  ratio), computed exactly in 64-bit integers (Fibonacci hashing). Each point lies in exactly one segment,
  so the segments' arrivals are disjoint and together are the whole sequence. Golden-ratio points are
  about the most evenly spread sequence there is: with N ≤ 6 equal parts the first N arrivals go to N
  different segments, and a segment's count stays within three arrivals of its share (checked up to
  100,000 arrivals for N ≤ 8). No fixed sequence can do better for every N at once (Steinhaus'
  problem), which is why counts keep the count rule. That rule cannot pick arrivals: read as "keep
  arrival i when the share grows from i to i + 1", it gives arrival 2 to both the 2nd and the 4th of
  five equal segments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import ceil

_SCALE = 1 << 64
_MASK = _SCALE - 1
_GOLDEN = 0x9E3779B97F4A7C15  # round(2**64 / φ), the Fibonacci-hashing multiplier


@dataclass(frozen=True)
class Segment:
    """The share ``[start, end)`` of a run that one process executes.

    Attributes:
        start: where the segment begins, 0 ≤ start < end.
        end: where it ends, end ≤ 1.
    """

    start: Fraction
    end: Fraction

    def __post_init__(self) -> None:
        # Accept ints and strings too ("1/4"), but keep exact fractions: float bounds would break the
        # exact partition the rules rely on.
        object.__setattr__(self, "start", Fraction(self.start))
        object.__setattr__(self, "end", Fraction(self.end))
        if not 0 <= self.start < self.end <= 1:
            raise ValueError(f"execution segment must satisfy 0 ≤ start < end ≤ 1, got {self.start}:{self.end}")

    @classmethod
    def full(cls) -> Segment:
        """The whole run: ``[0, 1)``."""
        return cls(Fraction(0), Fraction(1))

    @classmethod
    def parse(cls, text: str) -> Segment:
        """Read a segment from the command line.

        Args:
            text: ``"i/N"``, the i-th of N equal parts, **1-based** (``"1/4"`` is ``[0, 1/4)``, ``"4/4"``
                is ``[3/4, 1)``); or ``"a:b"`` with fractions or decimals (``"0:1/4"``, ``"0.25:0.5"``).

        Returns:
            The segment.

        Raises:
            ValueError: the text is neither form, or the bounds are out of order or outside [0, 1].
        """
        text = text.strip()
        try:
            if ":" in text:
                left, _, right = text.partition(":")
                return cls(Fraction(left.strip()), Fraction(right.strip()))
            index, slash, parts = text.partition("/")
            if not slash:
                raise ValueError
            i, n = int(index), int(parts)
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"invalid execution segment {text!r}: use i/N (the i-th of N equal parts, from 1) or a:b (e.g. 0:1/4)"
            ) from None
        if n < 1 or not 1 <= i <= n:
            raise ValueError(f"invalid execution segment {text!r}: i/N needs 1 ≤ i ≤ N")
        return cls(Fraction(i - 1, n), Fraction(i, n))

    def split(self, parts: int) -> list[Segment]:
        """This segment cut into ``parts`` equal segments, in order (workers of one process or pod)."""
        if parts < 1:
            raise ValueError(f"cannot split a segment into {parts} parts")
        step = self.length / parts
        return [Segment(self.start + step * i, self.start + step * (i + 1)) for i in range(parts)]

    @property
    def is_full(self) -> bool:
        """Whether this is the whole run."""
        return self.start == 0 and self.end == 1

    @property
    def length(self) -> Fraction:
        """The fraction of the run this segment holds."""
        return self.end - self.start

    def scale(self, n: int) -> int:
        """This segment's share of a whole count: ``floor(n·end) − floor(n·start)``.

        The shares of a partition add up to ``n`` exactly. A share is not monotonic in ``n`` for every
        partition (with five equal parts, going from 2 to 3 moves one unit between segments), which
        only means an occasional extra start/stop while a closed profile ramps.
        """
        return n * self.end.numerator // self.end.denominator - n * self.start.numerator // self.start.denominator

    def max_scaled(self, low: int, high: int) -> int:
        """The largest ``scale(m)`` for ``low ≤ m ≤ high``: this segment's peak while the whole moves
        through those counts."""
        if self.is_full:
            return high
        # scale(m) lies within one of m·length, so no m more than 2/length below high can beat scale(high).
        first = max(low, high - ceil(2 / self.length))
        return max(self.scale(m) for m in range(first, high + 1))

    def owns(self, index: int) -> bool:
        """Whether arrival ``index`` (0-based, in the global sequence) belongs to this segment."""
        point = ((index + 1) * _GOLDEN) & _MASK
        return self._low <= point < self._high

    def owned_indices(self) -> Iterator[int]:
        """The indices this segment owns, ascending and endless (every index for the whole run).

        Closed profiles number their agents with them, so that agents of different segments never share
        an identity (their generator, their data-file row) and a segment's k-th agent is the same agent in
        every run with the same seed.
        """
        index = 0
        while True:
            if self.is_full or self.owns(index):
                yield index
            index += 1

    # Cached because owns() runs once per arrival; cached_property writes the instance __dict__ directly,
    # which a frozen dataclass allows.
    @cached_property
    def _low(self) -> int:
        return ceil(self.start * _SCALE)

    @cached_property
    def _high(self) -> int:
        return ceil(self.end * _SCALE)

    def __str__(self) -> str:
        return f"{self.start}:{self.end}"
