"""Arrival processes: when new agents arrive, for a rate that may change over time.

A unit-rate process is drawn first (``even``: 0, 1, 2, …; ``poisson``: exponential gaps of mean 1;
``bursty``: Gamma gaps of mean 1 and coefficient of variation ``cv``), then stretched onto the requested
rate by time-rescaling: event ``u`` happens at ``inf{t : Λ(t) > u}`` where ``Λ(t)`` is the rate integrated
from 0 to t. For ``even`` this is "an arrival each time the integral passes an integer"; for ``poisson``
it gives exactly a non-homogeneous Poisson process; for ``bursty`` a renewal process whose bursts follow
the rate. Taking the infimum of ``Λ > u`` (not ``≥``) keeps arrivals out of stretches where the rate is 0.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from mcpload.profiles.stages import Timeline

DISTRIBUTIONS = ("even", "poisson", "bursty")
DEFAULT_CV = 2.0


def unit_events(distribution: str, cv: float, rng: random.Random) -> Iterator[float]:
    """Event times of a unit-rate process, ascending and endless.

    Args:
        distribution: ``even``, ``poisson`` or ``bursty``.
        cv: coefficient of variation of the gaps, for ``bursty`` only (> 1 makes it burstier than Poisson).
        rng: the only source of randomness, so that one seed gives one sequence.
    """
    u = 0.0
    if distribution == "even":
        k = 0
        while True:
            yield float(k)  # k, not a running sum: no drift over millions of arrivals
            k += 1
    elif distribution == "poisson":
        while True:
            u += rng.expovariate(1.0)
            yield u
    else:
        # Gamma(shape k, scale 1/k) has mean 1 and CV 1/sqrt(k), so k = 1/cv²; k < 1 gives the many short
        # gaps and rare long ones of agents that arrive in bursts.
        shape = 1.0 / (cv * cv)
        while True:
            u += rng.gammavariate(shape, 1.0 / shape)
            yield u


def _snap(total: float) -> float:
    # rate·duration is often an integer that floats miss by one ulp (100/60·60); snapping keeps an even
    # process at exactly that many arrivals.
    nearest = round(total)
    return float(nearest) if abs(total - nearest) <= 1e-9 * max(1.0, total) else total


def cumulative(rates: Timeline) -> list[float]:
    """The integral of the rate at the end of each stage (arrivals expected by then)."""
    ends, area = [], 0.0
    for i, stage in enumerate(rates.stages):
        area += (rates.level_before(i) + stage.target) / 2 * stage.duration
        ends.append(area)
    if ends:
        ends[-1] = _snap(ends[-1])
    return ends


def rescale(rates: Timeline, events: Iterator[float]) -> Iterator[float]:
    """Map unit-rate events onto ``rates`` (arrivals per second over time).

    Args:
        rates: the rate at each time, piecewise linear.
        events: ascending unit-rate event times, e.g. from ``unit_events``.

    Yields:
        Ascending arrival offsets in seconds, each < ``rates.duration``; stops when the rate's integral
        is used up.
    """
    ends = cumulative(rates)
    index, area_before, last = 0, 0.0, 0.0
    for u in events:
        while index < len(ends) and u >= ends[index]:
            area_before = ends[index]
            index += 1
        if index == len(ends):
            return
        stage = rates.stages[index]
        a = rates.level_before(index)
        b = (stage.target - a) / stage.duration  # a stage holding area has a positive duration
        du = u - area_before
        # Solve a·τ + b·τ²/2 = du for τ; this form is stable for b near 0 and for falling rates, and the
        # root is real because du is less than the stage's area.
        root = math.sqrt(max(a * a + 2 * b * du, 0.0))
        tau = 2 * du / (a + root) if du > 0 else 0.0
        t = max(rates.starts[index] + min(tau, stage.duration), last)
        if t >= rates.duration:
            return
        last = t
        yield t
