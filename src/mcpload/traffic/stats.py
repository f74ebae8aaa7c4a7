"""The few statistics traffic analysis needs, written out (no numpy/scipy dependency): percentiles,
maximum-likelihood fits of the scenario format's distributions, the Kolmogorov–Smirnov statistic,
burstiness figures, and a split threshold (Otsu on log gaps).

Every function takes plain lists of floats and returns plain numbers, so each is testable alone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EMPIRICAL_SAMPLES = 50  # quantiles kept when no parametric fit passes


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Count, mean and p50/p75/p90/p99/max of ``values``."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean": sum(values) / len(values),
        **{f"p{q}": percentile(values, q) for q in (50, 75, 90, 99)},
        "max": max(values),
    }


def mean_var(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) variance."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = sum(values) / n
    return mean, sum((v - mean) ** 2 for v in values) / n


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (stddev / mean); 1 for a Poisson process's gaps, 0 for none."""
    mean, var = mean_var(values)
    return math.sqrt(var) / mean if mean > 0 else 0.0


# distributions: cumulative functions


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def lognormal_cdf(x: float, mu: float, sigma: float) -> float:
    if x <= 0:
        return 0.0
    if sigma <= 0:
        return 1.0 if math.log(x) >= mu else 0.0
    return _norm_cdf((math.log(x) - mu) / sigma)


def exponential_cdf(x: float, mean: float) -> float:
    return 0.0 if x <= 0 else 1.0 - math.exp(-x / mean) if mean > 0 else 1.0


def gamma_cdf(x: float, shape: float, scale: float) -> float:
    """P(shape, x/scale), the regularized lower incomplete gamma (series below shape+1, else Lentz's
    continued fraction), as in Numerical Recipes §6.2."""
    if x <= 0:
        return 0.0
    z = x / scale
    log_front = shape * math.log(z) - z - math.lgamma(shape)
    if z < shape + 1:
        term = total = 1.0 / shape
        a = shape
        for _ in range(500):
            a += 1
            term *= z / a
            total += term
            if abs(term) < abs(total) * 1e-12:
                break
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b = z + 1 - shape
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 500):
        an = -i * (i - shape)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-12:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def _digamma(x: float) -> float:
    result = 0.0
    while x < 6:
        result -= 1 / x
        x += 1
    f = 1 / (x * x)
    return result + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f / 240)))


def _trigamma(x: float) -> float:
    result = 0.0
    while x < 6:
        result += 1 / (x * x)
        x += 1
    f = 1 / (x * x)
    return result + 1 / x + f / 2 + f / x * (1 / 6 - f * (1 / 30 - f / 42))


def ks_statistic(values: Sequence[float], cdf: Any) -> float:
    """The Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of ``values`` against ``cdf``."""
    ordered = sorted(values)
    n = len(ordered)
    d = 0.0
    for i, x in enumerate(ordered):
        f = cdf(x)
        d = max(d, f - i / n, (i + 1) / n - f)
    return d


def ks_critical(n: int, alpha: float = 0.05) -> float:
    """The asymptotic critical value of D at ``alpha`` (1.358/√n at 5 %); a fit with D below it is kept."""
    c = math.sqrt(-0.5 * math.log(alpha / 2))
    return c / math.sqrt(n) if n else 1.0


@dataclass(frozen=True)
class Fit:
    """One fitted distribution: its scenario-format kind, parameters (seconds), and KS statistic."""

    kind: str
    params: dict[str, Any]
    ks: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": self.params, "ks": round(self.ks, 4)}

    def scenario(self) -> dict[str, Any]:
        """The distribution as written in a scenario file."""
        if self.kind == "lognormal":
            return {"lognormal": {"median": _dur(self.params["median"]), "sigma": round(self.params["sigma"], 3)}}
        if self.kind == "exponential":
            return {"exponential": {"mean": _dur(self.params["mean"])}}
        if self.kind == "gamma":
            return {
                "gamma": {"mean": _dur(self.params["mean"]), "cv": round(min(100, max(0.01, self.params["cv"])), 3)}
            }
        if self.kind == "constant":
            return {"constant": _dur(self.params["value"])}
        return {"empirical": [_dur(v) for v in self.params["samples"]]}


def _dur(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 10 else f"{seconds:.2f}s"


def fit_lognormal(values: Sequence[float]) -> Fit:
    """MLE: mu, sigma of ln x (positive values only); median = e^mu."""
    logs = [math.log(v) for v in values if v > 0]
    mu, var = mean_var(logs)
    sigma = math.sqrt(var)
    return Fit(
        "lognormal",
        {"median": math.exp(mu), "sigma": sigma},
        ks_statistic(values, lambda x: lognormal_cdf(x, mu, sigma)),
    )


def fit_exponential(values: Sequence[float]) -> Fit:
    """MLE: the mean."""
    mean = sum(values) / len(values)
    return Fit("exponential", {"mean": mean}, ks_statistic(values, lambda x: exponential_cdf(x, mean)))


def fit_gamma(values: Sequence[float]) -> Fit:
    """MLE of the shape (Minka's start, then Newton on ln k − ψ(k) = ln mean − mean ln x); scale = mean/k.
    Written in the scenario form ``{gamma: {mean, cv}}`` (cv = 1/√k)."""
    positive = [v for v in values if v > 0]
    mean = sum(positive) / len(positive)
    s = math.log(mean) - sum(math.log(v) for v in positive) / len(positive)
    k = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s) if s > 0 else 1e3
    for _ in range(20):
        step = (math.log(k) - _digamma(k) - s) / (1 / k - _trigamma(k))
        k = max(k - step, k / 10)
        if abs(step) < 1e-9 * k:
            break
    k = min(max(k, 1e-4), 1e4)
    scale = mean / k
    ks = ks_statistic(values, lambda x: gamma_cdf(x, k, scale))
    return Fit("gamma", {"mean": mean, "cv": 1 / math.sqrt(k), "shape": k}, ks)


def empirical(values: Sequence[float], samples: int = EMPIRICAL_SAMPLES) -> Fit:
    """The values' quantiles (at most ``samples``), equally likely: the fallback fit (KS ≈ 1/samples)."""
    n = min(samples, len(values))
    qs = [percentile(values, 100 * (i + 0.5) / n) for i in range(n)]
    return Fit("empirical", {"samples": qs}, 0.5 / n if n else 1.0)


def best_fit(values: Sequence[float]) -> dict[str, Any]:
    """Fit lognormal, gamma and exponential; keep the lowest KS; fall back to empirical when none passes at 5 %.

    Returns:
        ``{"best": Fit dict, "candidates": [Fit dicts], "critical": D at 5 %, "n": …}``, or
        ``{"n": 0}`` when there is nothing to fit.
    """
    values = [v for v in values if v >= 0 and math.isfinite(v)]
    if not values:
        return {"n": 0}
    if max(values) - min(values) < 1e-9:
        fit = Fit("constant", {"value": values[0]}, 0.0)
        return {"n": len(values), "best": fit, "candidates": [fit.to_dict()], "critical": ks_critical(len(values))}
    candidates = [fit_exponential(values)]
    if sum(v > 0 for v in values) >= 2:
        candidates[:0] = [fit_lognormal(values), fit_gamma(values)]
    critical = ks_critical(len(values))
    best = min(candidates, key=lambda f: f.ks)
    if best.ks > critical:
        best = empirical(values)
    return {"n": len(values), "best": best, "candidates": [c.to_dict() for c in candidates], "critical": critical}


# burstiness


MAX_WINDOWS = 1_000_000  # windowed figures are skipped beyond this many windows (a span that long is suspect)


def index_of_dispersion(times: Sequence[float], window: float, duration: float) -> float | None:
    """Variance / mean of event counts in consecutive windows (1 for Poisson); None with < 5 windows."""
    windows = int(duration // window)
    if windows < 5 or windows > MAX_WINDOWS:
        return None
    counts = [0] * windows
    for t in times:
        i = int(t // window)
        if 0 <= i < windows:
            counts[i] += 1
    mean, var = mean_var(counts)
    return var / mean if mean > 0 else None


def peak_to_mean(times: Sequence[float], window: float, duration: float) -> float | None:
    """The busiest window's count over the mean count per window."""
    windows = max(1, math.ceil(duration / window))
    if windows > MAX_WINDOWS:
        return None
    counts = [0] * windows
    for t in times:
        counts[min(windows - 1, max(0, int(t // window)))] += 1
    mean = sum(counts) / windows
    return max(counts) / mean if mean > 0 else None


def poisson_peak_to_mean(rate: float, window: float, duration: float, seed: int = 1) -> float | None:
    """The peak-to-mean a Poisson process of the same rate shows over the same windows: the mean over a
    few draws of per-window Poisson counts (Knuth's method below a mean of 50, a normal above)."""
    windows = max(1, math.ceil(duration / window))
    mean = rate * window
    if mean <= 0 or windows > MAX_WINDOWS:
        return None
    rng = random.Random(seed)
    limit = math.exp(-mean)
    draws = []
    for _ in range(max(3, min(20, 200_000 // windows))):
        peak = 0
        for _ in range(windows):
            if mean > 50:
                count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
            else:
                count, p = 0, rng.random()
                while p > limit:
                    count += 1
                    p *= rng.random()
            peak = max(peak, count)
        draws.append(peak / mean)
    return sum(draws) / len(draws)


SEPARATION = 0.75  # Otsu's effectiveness above which two classes are real (one normal class gives 2/π ≈ 0.64)


def otsu_threshold(values: Sequence[float]) -> tuple[float | None, float]:
    """The split of positive ``values`` that maximises the between-class variance of their logarithms
    (Otsu's method): the boundary between think gaps (short) and idle gaps (long).

    Returns:
        ``(threshold, effectiveness)``: effectiveness is between-class / total variance (0..1); the
        threshold is None with fewer than 4 values or when effectiveness < ``SEPARATION`` (one class).
    """
    logs = sorted(math.log(v) for v in values if v > 0)
    n = len(logs)
    if n < 4:
        return None, 0.0
    total = sum(logs)
    best, best_i, left = -1.0, 0, 0.0
    for i in range(1, n):
        left += logs[i - 1]
        if logs[i] == logs[i - 1]:
            continue
        w0, w1 = i / n, (n - i) / n
        m0, m1 = left / i, (total - left) / (n - i)
        between = w0 * w1 * (m0 - m1) ** 2
        if between > best:
            best, best_i = between, i
    _, total_var = mean_var(logs)
    eta = best / total_var if total_var > 0 else 0.0
    if best_i == 0 or eta < SEPARATION:
        return None, eta
    return math.sqrt(math.exp(logs[best_i - 1]) * math.exp(logs[best_i])), eta  # geometric midpoint of the gap
