"""Confidence intervals for rates measured from a handful of calls (Wilson score interval): a rate
of 1 failure in 55 calls says little, and a verdict taken from it must be able to say so."""

from __future__ import annotations

import math

Z95 = 1.959964  # two-sided 95 %


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval ``(low, high)`` of a proportion; None when there are no trials.

    Exact at the edges (0 of n gives low 0, n of n gives high 1) and sensible for small n, unlike the
    normal approximation.
    """
    if trials <= 0:
        return None
    successes = min(max(successes, 0), trials)
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high
