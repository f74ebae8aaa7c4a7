"""Random durations (think, idle, backoff) and random counts (repeat), sampled from an agent's rng.

Every sample comes from the ``random.Random`` passed in, so a run with ``--seed`` is reproducible.
Durations are seconds and never negative.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpload.inputs import MAX_COUNT, show_number
from mcpload.profiles.durations import format_duration
from mcpload.scenario.checks import (
    check_keys,
    expect_duration,
    expect_list,
    expect_mapping,
    join,
    only_key,
    type_name,
)
from mcpload.scenario.errors import ScenarioError

# A truncated normal first redraws, then clips: bounded work even when [min, max] is far in a tail.
_MAX_REDRAWS = 16


class Distribution(ABC):
    """A distribution of durations in seconds."""

    __slots__ = ()

    @abstractmethod
    def sample(self, rng: random.Random) -> float:
        """One duration in seconds (never negative)."""

    @abstractmethod
    def mean(self) -> float:
        """The expected duration in seconds (for capacity estimates and reports)."""

    @abstractmethod
    def describe(self) -> str:
        """A short form for humans, such as ``lognormal(median=2s, sigma=0.6)``."""


@dataclass(frozen=True, slots=True)
class Constant(Distribution):
    value: float

    def sample(self, rng: random.Random) -> float:
        return self.value

    def mean(self) -> float:
        return self.value

    def describe(self) -> str:
        return format_duration(self.value)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    low: float
    high: float

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def describe(self) -> str:
        return f"{format_duration(self.low)}..{format_duration(self.high)}"


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    mean_s: float

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean_s) if self.mean_s > 0 else 0.0

    def mean(self) -> float:
        return self.mean_s

    def describe(self) -> str:
        return f"exponential(mean={format_duration(self.mean_s)})"


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    median: float
    sigma: float

    def sample(self, rng: random.Random) -> float:
        return self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))

    def mean(self) -> float:
        return self.median * math.exp(self.sigma * self.sigma / 2)

    def describe(self) -> str:
        return f"lognormal(median={format_duration(self.median)}, sigma={self.sigma:g})"


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Gamma with ``mean`` and coefficient of variation ``cv`` (shape 1/cv², scale mean·cv²): cv 1 is
    exponential, above 1 burstier. The shape published arrival traces fit (BurstGPT)."""

    mean_s: float
    cv: float

    def sample(self, rng: random.Random) -> float:
        if self.mean_s <= 0:
            return 0.0
        shape = 1.0 / (self.cv * self.cv)
        return rng.gammavariate(shape, self.mean_s / shape)

    def mean(self) -> float:
        return self.mean_s

    def describe(self) -> str:
        return f"gamma(mean={format_duration(self.mean_s)}, cv={self.cv:g})"


@dataclass(frozen=True, slots=True)
class TruncatedNormal(Distribution):
    """A normal distribution kept within ``[low, high]``: redraw a few times, then clip."""

    mu: float
    stddev: float
    low: float = 0.0
    high: float = math.inf

    def sample(self, rng: random.Random) -> float:
        for _ in range(_MAX_REDRAWS):
            x = rng.gauss(self.mu, self.stddev)
            if self.low <= x <= self.high:
                return x
        return min(max(x, self.low), self.high)

    def mean(self) -> float:
        clipped = min(max(self.mu, self.low), self.high)
        if self.stddev == 0:
            return clipped
        alpha, beta = (self.low - self.mu) / self.stddev, (self.high - self.mu) / self.stddev
        mass = _cdf(beta) - _cdf(alpha)
        if mass < 1e-12:  # the window is far in a tail: sampling clips, so the mean is the nearer bound
            return clipped
        return self.mu + self.stddev * (_pdf(alpha) - _pdf(beta)) / mass

    def describe(self) -> str:
        bounds = f", min={format_duration(self.low)}" if self.low else ""
        if self.high != math.inf:
            bounds += f", max={format_duration(self.high)}"
        return f"normal(mean={format_duration(self.mu)}, stddev={format_duration(self.stddev)}{bounds})"


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    """Draws one of the observed ``samples`` with equal probability (e.g. measured think times)."""

    samples: tuple[float, ...]

    def sample(self, rng: random.Random) -> float:
        return rng.choice(self.samples)

    def mean(self) -> float:
        return math.fsum(self.samples) / len(self.samples)

    def describe(self) -> str:
        return f"empirical({len(self.samples)} samples, mean={format_duration(self.mean())})"


def _pdf(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


KINDS = ("constant", "uniform", "exponential", "lognormal", "gamma", "normal", "empirical")


def parse_distribution(value: Any, path: str) -> Distribution:
    """A distribution of durations from its scenario form.

    Forms: a duration (``2s``, ``500ms``, ``2``: constant); a range ``"1s..3s"`` (uniform); or a
    one-key mapping ``{constant: 2s}``, ``{uniform: {min, max}}``, ``{exponential: {mean}}``,
    ``{lognormal: {median, sigma}}``, ``{gamma: {mean, cv}}``, ``{normal: {mean, stddev, min?, max?}}``,
    ``{empirical: [1s, 2s]}`` (or ``{empirical: {samples: [...]}}``).

    Raises:
        ScenarioError: with the path of the offending value.
    """
    if isinstance(value, str) and ".." in value:
        low, high = _range(value, path, expect_duration)
        return Uniform(low, high) if low != high else Constant(low)
    if not isinstance(value, Mapping):
        if isinstance(value, list | tuple) or value is None:
            expected = "a duration, a range like 1s..3s or a distribution"
            raise ScenarioError(f"expected {expected}, got {type_name(value)}", path)
        return Constant(expect_duration(value, path))
    kind = only_key(expect_mapping(value, path), KINDS, path, "distribution")
    body, at = value[kind], join(path, kind)
    if kind == "constant":
        return Constant(expect_duration(body, at))
    if kind == "empirical":
        if isinstance(body, Mapping):
            check_keys(body, ("samples",), at, required=("samples",))
            body, at = body["samples"], join(at, "samples")
        items = expect_list(body, at, non_empty=True)
        return Empirical(tuple(expect_duration(item, join(at, i)) for i, item in enumerate(items)))
    params = expect_mapping(body, at)
    if kind == "uniform":
        check_keys(params, ("min", "max"), at, required=("min", "max"))
        low, high = expect_duration(params["min"], join(at, "min")), expect_duration(params["max"], join(at, "max"))
        if low > high:
            raise ScenarioError(f"min ({format_duration(low)}) is greater than max ({format_duration(high)})", at)
        return Uniform(low, high)
    if kind == "exponential":
        check_keys(params, ("mean",), at, required=("mean",))
        return Exponential(expect_duration(params["mean"], join(at, "mean")))
    if kind == "gamma":
        check_keys(params, ("mean", "cv"), at, required=("mean", "cv"))
        cv = params["cv"]
        if isinstance(cv, bool) or not isinstance(cv, int | float) or not 0.01 <= cv <= 100:
            raise ScenarioError(f"expected a number from 0.01 to 100, got {cv!r}", join(at, "cv"))
        return Gamma(expect_duration(params["mean"], join(at, "mean")), float(cv))
    if kind == "lognormal":
        check_keys(params, ("median", "sigma"), at, required=("median", "sigma"))
        median = expect_duration(params["median"], join(at, "median"))
        return LogNormal(median, _sigma(params["sigma"], join(at, "sigma")))
    # normal
    check_keys(params, ("mean", "stddev", "min", "max"), at, required=("mean", "stddev"))
    low = expect_duration(params.get("min", 0), join(at, "min"))
    high = expect_duration(params["max"], join(at, "max")) if "max" in params else math.inf
    if low > high:
        raise ScenarioError(f"min ({format_duration(low)}) is greater than max ({format_duration(high)})", at)
    mu = expect_duration(params["mean"], join(at, "mean"))
    return TruncatedNormal(mu, expect_duration(params["stddev"], join(at, "stddev")), low, high)


def _sigma(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScenarioError(f"sigma must be a number ≥ 0, got {value!r}", path)
    return float(value)


def _range(text: str, path: str, parse: Any) -> tuple[Any, Any]:
    low_text, _, high_text = text.partition("..")
    try:
        low, high = parse(low_text.strip(), path), parse(high_text.strip(), path)
    except ScenarioError:
        raise ScenarioError(f"not a range: {text!r} (expected low..high, such as 1s..3s or 1..4)", path) from None
    if low > high:
        raise ScenarioError(f"range {text!r} goes backwards (low is greater than high)", path)
    return low, high


class CountDistribution(ABC):
    """A distribution of non-negative whole numbers (``repeat: {times: ...}``, tokens)."""

    __slots__ = ()

    @abstractmethod
    def sample(self, rng: random.Random) -> int:
        """One count (never negative)."""

    @abstractmethod
    def mean(self) -> float:
        """The expected count."""


@dataclass(frozen=True, slots=True)
class ConstantCount(CountDistribution):
    value: int

    def sample(self, rng: random.Random) -> int:
        return self.value

    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True, slots=True)
class UniformCount(CountDistribution):
    """A whole number from ``low`` to ``high``, both included."""

    low: int
    high: int

    def sample(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True, slots=True)
class RoundedCount(CountDistribution):
    """Samples of a distribution rounded half up to whole numbers (at least 0)."""

    distribution: Distribution

    def sample(self, rng: random.Random) -> int:
        return max(0, int(self.distribution.sample(rng) + 0.5))

    def mean(self) -> float:
        return self.distribution.mean()  # close enough: rounding moves the mean by under 0.5


def _whole(value: Any, path: str) -> int:
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:30]}…"
        raise ScenarioError(f"expected a whole number ≥ 0, a range like 1..4 or a distribution, got {shown}", path)
    if value < 0:
        raise ScenarioError(f"a count cannot be negative, got {show_number(value)}", path)
    if value > MAX_COUNT:
        raise ScenarioError(f"must be at most {MAX_COUNT:,}, got {show_number(value)}", path)
    return value


def parse_count(value: Any, path: str) -> CountDistribution:
    """A count from its scenario form: ``3``, ``"1..4"`` (uniform, inclusive) or a distribution mapping.

    A mapping (``{lognormal: {median: 3, sigma: 0.5}}``) is read like a duration distribution with
    plain numbers, and its samples are rounded to whole numbers (at least 0).

    Raises:
        ScenarioError: with the path of the offending value.
    """
    if isinstance(value, Mapping):
        return RoundedCount(parse_distribution(value, path))
    if isinstance(value, str) and ".." in value:
        low, high = _range(value, path, _whole)
        return UniformCount(low, high) if low != high else ConstantCount(low)
    return ConstantCount(_whole(value, path))
