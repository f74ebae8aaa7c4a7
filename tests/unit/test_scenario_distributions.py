"""Distributions of durations and counts: sampling (seeded), means, units and parse errors."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from mcpload.scenario import ScenarioError, parse_count, parse_distribution
from mcpload.scenario.distributions import (
    Constant,
    ConstantCount,
    Empirical,
    Exponential,
    LogNormal,
    RoundedCount,
    TruncatedNormal,
    Uniform,
    UniformCount,
)

N = 20_000
HINT = "(use e.g. 500ms, 2s, 1.5m, 1h, 1m30s or a number of seconds)"


def samples(dist, n: int = N, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [dist.sample(rng) for _ in range(n)]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(2, 2.0), (1.5, 1.5), ("2s", 2.0), ("500ms", 0.5), ("1m30s", 90.0), ("0", 0.0), ({"constant": "250ms"}, 0.25)],
)
def test_constant_units(value, seconds):
    dist = parse_distribution(value, "think")
    assert dist == Constant(seconds)
    assert dist.sample(random.Random(1)) == seconds
    assert dist.mean() == seconds


@pytest.mark.parametrize("value", ["1s..3s", {"uniform": {"min": "1s", "max": 3}}, "1..3"])
def test_uniform(value):
    dist = parse_distribution(value, "think")
    assert dist == Uniform(1.0, 3.0)
    xs = samples(dist)
    assert min(xs) >= 1.0 and max(xs) <= 3.0
    assert statistics.fmean(xs) == pytest.approx(2.0, rel=0.02)


def test_equal_range_is_constant():
    assert parse_distribution("2s..2s", "idle") == Constant(2.0)


def test_exponential():
    dist = parse_distribution({"exponential": {"mean": "2s"}}, "think")
    assert dist == Exponential(2.0)
    xs = samples(dist)
    assert min(xs) >= 0
    assert statistics.fmean(xs) == pytest.approx(2.0, rel=0.03)


def test_lognormal():
    dist = parse_distribution({"lognormal": {"median": "2s", "sigma": 0.5}}, "think")
    assert dist == LogNormal(2.0, 0.5)
    xs = samples(dist)
    assert statistics.median(xs) == pytest.approx(2.0, rel=0.03)
    assert statistics.fmean(xs) == pytest.approx(dist.mean(), rel=0.03)
    assert dist.mean() == pytest.approx(2.0 * math.exp(0.125))


def test_truncated_normal_stays_in_bounds_and_mean_matches():
    dist = parse_distribution({"normal": {"mean": "1s", "stddev": "1s", "max": "2s"}}, "think")
    assert dist == TruncatedNormal(1.0, 1.0, 0.0, 2.0)
    xs = samples(dist)
    assert min(xs) >= 0.0 and max(xs) <= 2.0
    assert statistics.fmean(xs) == pytest.approx(dist.mean(), rel=0.03)
    assert dist.mean() == pytest.approx(1.0)  # symmetric window around the mean


def test_truncated_normal_far_window_clips():
    dist = TruncatedNormal(0.0, 0.001, 5.0, 6.0)
    assert set(samples(dist, 100)) == {5.0}
    assert dist.mean() == 5.0


def test_normal_default_min_is_zero():
    dist = parse_distribution({"normal": {"mean": "100ms", "stddev": "1s"}}, "think")
    assert min(samples(dist, 2000)) >= 0.0


@pytest.mark.parametrize("value", [{"empirical": ["1s", "2s", "500ms"]}, {"empirical": {"samples": [1, 2, 0.5]}}])
def test_empirical(value):
    dist = parse_distribution(value, "think")
    assert dist == Empirical((1.0, 2.0, 0.5))
    assert set(samples(dist, 300)) == {1.0, 2.0, 0.5}
    assert dist.mean() == pytest.approx(3.5 / 3)


def test_same_seed_same_samples():
    dist = parse_distribution({"lognormal": {"median": 1, "sigma": 1}}, "think")
    assert samples(dist, 50, seed=3) == samples(dist, 50, seed=3)
    assert samples(dist, 50, seed=3) != samples(dist, 50, seed=4)


def test_describe():
    assert parse_distribution({"lognormal": {"median": "2s", "sigma": 0.6}}, "t").describe() == (
        "lognormal(median=2s, sigma=0.6)"
    )
    assert parse_distribution("500ms..1s", "t").describe() == "500ms..1s"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1s", "think: must not be negative, got '-1s'"),
        (-2, "think: must not be negative, got -2"),
        ("2 seconds", f"think: invalid duration '2 seconds' {HINT}"),
        ("3s..1s", "think: range '3s..1s' goes backwards (low is greater than high)"),
        ("1s..x", "think: not a range: '1s..x' (expected low..high, such as 1s..3s or 1..4)"),
        ([1, 2], "think: expected a duration, a range like 1s..3s or a distribution, got a list"),
        ({"lognormel": {}}, "think: unknown distribution 'lognormel' (did you mean 'lognormal'?)"),
        ({"lognormal": {"median": "2s"}}, "think.lognormal: missing required key 'sigma'"),
        ({"lognormal": {"median": "2s", "sigma": -1}}, "think.lognormal.sigma: sigma must be a number ≥ 0, got -1"),
        ({"lognormal": {"median": "2s", "sigma": 1, "max": 3}}, "think.lognormal: unknown key 'max'"),
        ({"uniform": {"min": 3, "max": 1}}, "think.uniform: min (3s) is greater than max (1s)"),
        ({"normal": {"mean": 1, "stdev": 1}}, "think.normal: unknown key 'stdev' (did you mean 'stddev'?)"),
        ({"empirical": []}, "think.empirical: expected a non-empty list"),
        ({"empirical": ["1s", "x"]}, f"think.empirical[1]: invalid duration 'x' {HINT}"),
        (
            {"exponential": {"mean": 1}, "uniform": {}},
            "think: expected exactly one distribution (constant, uniform, exponential, lognormal, gamma, normal,"
            " empirical), got 2 keys",
        ),
    ],
)
def test_parse_errors(value, message):
    with pytest.raises(ScenarioError) as info:
        parse_distribution(value, "think")
    assert str(info.value) == message


def test_counts():
    assert parse_count(3, "times") == ConstantCount(3)
    assert parse_count("2", "times") == ConstantCount(2)
    assert parse_count("1..4", "times") == UniformCount(1, 4)
    xs = samples(parse_count("1..4", "times"), 4000)
    assert set(xs) == {1, 2, 3, 4}
    rounded = parse_count({"normal": {"mean": 3, "stddev": 1}}, "times")
    assert isinstance(rounded, RoundedCount)
    ys = samples(rounded, 4000)
    assert all(isinstance(y, int) and y >= 0 for y in ys)
    assert statistics.fmean(ys) == pytest.approx(3.0, rel=0.05)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "times: a count cannot be negative, got -1"),
        (1.5, "times: expected a whole number ≥ 0, a range like 1..4 or a distribution, got 1.5"),
        ("4..1", "times: range '4..1' goes backwards (low is greater than high)"),
        (True, "times: expected a whole number ≥ 0, a range like 1..4 or a distribution, got True"),
    ],
)
def test_count_errors(value, message):
    with pytest.raises(ScenarioError) as info:
        parse_count(value, "times")
    assert str(info.value) == message


def test_gamma_has_its_mean_and_cv():
    import random as _random
    import statistics as _statistics

    from mcpload.scenario.distributions import Gamma

    dist = parse_distribution({"gamma": {"mean": "2s", "cv": 2}}, "idle")
    assert dist == Gamma(2.0, 2.0) and dist.mean() == 2.0 and dist.describe() == "gamma(mean=2s, cv=2)"
    rng = _random.Random(3)
    draws = [dist.sample(rng) for _ in range(20_000)]
    assert _statistics.fmean(draws) == pytest.approx(2.0, rel=0.06)
    assert _statistics.pstdev(draws) / _statistics.fmean(draws) == pytest.approx(2.0, rel=0.08)
    with pytest.raises(ScenarioError, match=r"idle\.gamma\.cv: expected a number from 0.01 to 100"):
        parse_distribution({"gamma": {"mean": "2s", "cv": 0}}, "idle")
