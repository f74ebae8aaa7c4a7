"""A timed quantity (call latency, session setup, lateness) kept twice in HDR histograms: for the
current interval and for the whole run, fed from the hot path through a cheap pending buffer.

``hdrh`` is pure Python: ``record_value`` costs ~1.5 µs and a percentile walk ~1.5 ms. So the hot path
only bumps a dict keyed by the value's index in the HDR counts array, the buffer is poured straight
into the counts when someone reads (``pour``: the same counts ``record_value`` makes, ~10x faster),
and percentiles come from one C-speed pass over the counts array (``summarize``).
"""

from __future__ import annotations

import ctypes
import sys
import weakref
from bisect import bisect_left
from collections.abc import Iterable
from itertools import accumulate
from operator import add
from typing import TypeAlias, TypedDict

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_FIGURES = 3
# With 3 significant figures HDR has 2048 sub-buckets: below 2048 µs every microsecond is its own
# bucket, above it a bucket spans 2**(bit_length - 11) µs. Keep in step with SIGNIFICANT_FIGURES.
SUB_BUCKET_BITS = 11
EXACT_BELOW_US = 1 << SUB_BUCKET_BITS

STANDARD_PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)

#: a timing summary in ms: ``min``, ``mean``, one key per percentile (``percentile_key``), ``max``,
#: ``count`` (see ``summarize``)
LatencySummary: TypeAlias = dict[str, float | None]


class DrainedTiming(TypedDict):
    """What ``Timing.drain`` takes: pending counts flattened as ``[index, count, …]``, their exact sum
    (µs) and the out-of-range count. Plain data, shipped from a worker to the coordinator."""

    p: list[int]
    s: int
    o: int


def new_histogram() -> HdrHistogram:
    """An empty histogram of microseconds, 1 µs … 1 h, 3 significant figures."""
    return acyclic(HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES))


def clear(hist: HdrHistogram) -> None:
    """Empty ``hist`` in place, as hdrh's ``reset()`` does without its Python loop over 23,000 counters.

    Reusing the interval histogram, rather than making a new one each second, keeps ~184 KiB of counts
    from being freed and allocated again every second per operation: a size glibc serves from the heap
    once its dynamic mmap threshold has risen, where the churn fragments it.
    """
    ctypes.memset(ctypes.addressof(hist.counts), 0, ctypes.sizeof(hist.counts))
    hist.total_count = 0
    hist.min_value = sys.maxsize
    hist.max_value = 0
    hist.start_time_stamp_msec = sys.maxsize
    hist.end_time_stamp_msec = 0


def acyclic(hist: HdrHistogram) -> HdrHistogram:
    """``hist`` with the reference cycle between it and its encoder broken (a weak back-reference).

    hdrh's histogram holds its encoder and the encoder holds the histogram, so a dropped histogram
    (~184 KiB of counts) waited for Python's occasional full garbage collection: a run that cuts
    intervals every second grew by tens of MiB before each collection (the soak benchmark found it).
    The encoder only reaches its histogram while the histogram is in use, so a proxy is enough.
    """
    hist.encoder.histogram = weakref.proxy(hist)
    return hist


def clamp_us(seconds: float) -> tuple[int, bool]:
    """Round ``seconds`` to whole microseconds clamped to 1 µs … 1 h.

    Returns:
        ``(value_us, clamped)``; ``clamped`` is True when the value was outside the range.
    """
    us = int(seconds * 1e6 + 0.5)
    if us < LOWEST_US:
        return LOWEST_US, True
    if us > HIGHEST_US:
        return HIGHEST_US, True
    return us, False


def bucket_index(us: int) -> int:
    """The index of ``us`` in the counts array of a ``new_histogram()`` (``get_counts_array_index``)."""
    if us < EXACT_BELOW_US:
        return us
    shift = us.bit_length() - SUB_BUCKET_BITS
    return (shift << (SUB_BUCKET_BITS - 1)) + (us >> shift)


def percentile_key(p: float) -> str:
    """The key a percentile has in summary dicts: ``p50``, ``p999`` (99.9), ``p97.5``."""
    if p == 99.9:
        return "p999"
    return f"p{p:g}"


class Timing:
    """One timed quantity: a pending buffer, this interval's histogram and the run's histogram.

    ``interval`` holds what was poured since the last ``cut``; ``total`` holds every earlier
    interval, so the run so far is ``total`` + ``interval`` (no histogram is added twice).
    """

    __slots__ = ("interval", "interval_sum_us", "out_of_range", "parent", "pending", "pending_sum", "sum_us", "total")

    def __init__(self, parent: Timing | None = None) -> None:
        # Values poured into this timing are poured into the parent's too (per-operation -> overall),
        # so the hot path writes one buffer and the overall histogram still sees every value.
        self.parent = parent
        self.pending: dict[int, int] = {}  # counts-array index -> count, not yet in a histogram
        # Exact sums of the values (µs) pending, in this interval and in earlier intervals: the mean
        # is exact, where HDR could only estimate it from bucket midpoints.
        self.pending_sum = 0
        self.interval_sum_us = 0
        self.sum_us = 0
        self.out_of_range = 0
        self.interval = new_histogram()
        self.total = new_histogram()

    def add(self, seconds: float) -> None:
        """Record one value in seconds (the recorder inlines this on its hot path)."""
        us, clamped = clamp_us(seconds)
        if clamped:
            self.out_of_range += 1
        index = bucket_index(us)
        self.pending[index] = self.pending.get(index, 0) + 1
        self.pending_sum += us

    def flush(self) -> None:
        """Pour the pending buffer into this interval's histogram (and the parent's)."""
        if not self.pending:
            return
        self.out_of_range += pour(self.interval, self.pending)
        if self.parent is not None:
            self.parent.out_of_range += pour(self.parent.interval, self.pending)
        self.interval_sum_us += self.pending_sum
        if self.parent is not None:
            self.parent.interval_sum_us += self.pending_sum
        self.pending = {}
        self.pending_sum = 0

    def cut(self) -> None:
        """Close the interval: fold it into the run's histogram and start an empty one."""
        self.flush()
        self.sum_us += self.interval_sum_us
        self.interval_sum_us = 0
        if self.interval.total_count:
            self.total.add(self.interval)
            clear(self.interval)

    def merge(self, other: Timing) -> None:
        """Add another timing exactly: its interval to this interval, its run to this run.

        Parents are not touched: merge them too (after their children have been flushed).
        """
        self.flush()
        other.flush()
        # hdrh's add() sets min_value to 0 when either side is empty; summarize() never reads it.
        if other.interval.total_count:
            self.interval.add(other.interval)
        if other.total.total_count:
            self.total.add(other.total)
        self.sum_us += other.sum_us
        self.interval_sum_us += other.interval_sum_us
        self.out_of_range += other.out_of_range

    def drain(self) -> DrainedTiming | None:
        """Take what was recorded since the last drain (the pending buffer), as plain data; None if nothing.

        For a worker whose recorder is never read: a drained value is in no histogram of this timing.
        The coordinator ``absorb``s it into its own, exactly as if it had been recorded there.
        """
        if not self.pending and not self.out_of_range:
            return None
        flat = [n for pair in self.pending.items() for n in pair]
        out: DrainedTiming = {"p": flat, "s": self.pending_sum, "o": self.out_of_range}
        self.pending = {}
        self.pending_sum = 0
        self.out_of_range = 0
        return out

    def absorb(self, drained: DrainedTiming) -> None:
        """Add a ``drain``ed value to the pending buffer (it reaches the parent on the next flush)."""
        pending = self.pending
        flat = drained["p"]
        for i in range(0, len(flat), 2):
            index = flat[i]
            pending[index] = pending.get(index, 0) + flat[i + 1]
        self.pending_sum += drained["s"]
        self.out_of_range += drained["o"]

    @property
    def count(self) -> int:
        """Values recorded over the run so far, pending ones included."""
        recorded: int = self.total.total_count + self.interval.total_count  # hdrh is untyped
        return recorded + sum(self.pending.values())

    def cumulative(self) -> HdrHistogram:
        """A new histogram holding the whole run so far (for encoding)."""
        self.flush()
        hist = new_histogram()
        for part in (self.total, self.interval):
            if part.total_count:
                hist.add(part)
        return hist

    def summary(
        self, percentiles: Iterable[float] = STANDARD_PERCENTILES, *, interval_only: bool = False
    ) -> LatencySummary | None:
        """Min, mean, percentiles, max and count in ms over the run so far (or this interval only).

        Returns:
            The summary dict (see ``summarize``), or None when nothing was recorded.
        """
        self.flush()
        hists = [self.interval] if interval_only else [self.total, self.interval]
        sum_us = self.interval_sum_us if interval_only else self.sum_us + self.interval_sum_us
        return summarize(hists, percentiles, sum_us=sum_us)


def pour(hist: HdrHistogram, pending: dict[int, int]) -> int:
    """Add counts keyed by counts-array index to ``hist``, as ``record_value`` would.

    This writes hdrh's ``counts``, ``total_count``, ``min_value`` and ``max_value`` directly (a test
    checks the result equals ``record_value``'s).

    Returns:
        How many counts were refused (an index outside the array): never silently lost.
    """
    low, high = min(pending), max(pending)
    if low < 0 or high >= hist.counts_len:
        # Never happens for clamped values; kept so that a bug shows up as a count, not a loss.
        bad = {i: n for i, n in pending.items() if not 0 <= i < hist.counts_len}
        good = {i: n for i, n in pending.items() if 0 <= i < hist.counts_len}
        if good:
            pour(hist, good)
        return sum(bad.values())
    counts = hist.counts
    for index, n in pending.items():
        counts[index] += n
    hist.total_count += sum(pending.values())
    hist.min_value = min(hist.min_value, hist.get_value_from_index(low))
    hist.max_value = max(hist.max_value, hist.get_value_from_index(high))
    return 0


def summarize(
    hists: list[HdrHistogram], percentiles: Iterable[float], sum_us: int | None = None
) -> LatencySummary | None:
    """Summarize the sum of same-shaped histograms in milliseconds, without building their sum.

    Percentile semantics are hdrh's ``get_value_at_percentile`` (the highest value equivalent to the
    bucket where the cumulative count reaches the rank), in one pass over the counts.

    Args:
        hists: histograms made by ``new_histogram``.
        percentiles: percentiles wanted (0 < p <= 100).
        sum_us: exact sum of the recorded values; the mean is estimated from the buckets when None.

    Returns:
        ``{"min", "mean", "p50", …, "max", "count"}`` in ms (3 dp), or None when all are empty.
    """
    hists = [h for h in hists if h.total_count]
    if not hists:
        return None
    shape = hists[0]
    top = max(h.get_counts_array_index(h.max_value) for h in hists) + 1
    counts = hists[0].counts[:top]
    for h in hists[1:]:
        counts = list(map(add, counts, h.counts[:top]))
    cumulative = list(accumulate(counts))
    total = cumulative[-1]

    def value_at(index: int) -> int:
        value: int = shape.get_highest_equivalent_value(shape.get_value_from_index(index))  # hdrh is untyped
        return value

    out: LatencySummary = {"min": None, "mean": None}
    first = bisect_left(cumulative, 1)
    out["min"] = round(shape.get_value_from_index(first) / 1000, 3)
    if sum_us is None:
        # Bucket midpoints, as hdrh's get_mean_value does (which is far slower).
        sum_us = sum(c * (shape.get_value_from_index(i) + value_at(i) + 1) // 2 for i, c in enumerate(counts) if c)
    out["mean"] = round(sum_us / total / 1000, 3)
    for p in percentiles:
        rank = max(int(min(p, 100.0) * total / 100 + 0.5), 1)
        out[percentile_key(p)] = round(value_at(bisect_left(cumulative, rank)) / 1000, 3)
    out["max"] = round(value_at(bisect_left(cumulative, total)) / 1000, 3)
    out["count"] = total
    return out
