import itertools
import math
import random
import statistics
from dataclasses import replace

import pytest

from mcpload.profiles import ArrivalRate, OpenProfile, RampingArrivalRate, Stage, parse_profile


def arrivals(profile, seed=7):
    return list(profile.arrivals(random.Random(seed)))


def test_arrival_rate_defaults():
    profile = parse_profile({"type": "agent-arrival-rate", "rate": 30, "time_unit": "1m", "duration": "10m"})
    assert isinstance(profile, ArrivalRate)
    assert isinstance(profile, OpenProfile)
    assert profile.kind == "open"
    assert (profile.distribution, profile.cv, profile.max_agents, profile.graceful_stop) == ("poisson", None, 1000, 10)
    assert profile.duration == 600
    assert profile.rate_at(0) == pytest.approx(0.5)
    assert profile.rate_at(600) == 0
    assert profile.describe() == "agent-arrival-rate: 30/1m for 10m (poisson, max 1000 agents)"


@pytest.mark.parametrize(
    ("rate", "time_unit", "duration", "count"),
    [(10, 1, 60, 600), (30, 60, 600, 300), (100, 60, 60, 100), (3, 1, 0.7, 3), (1, 1, 1, 1), (7, 3, 9, 21)],
)
def test_even_count_is_exact(rate, time_unit, duration, count):
    profile = ArrivalRate(rate=rate, time_unit=time_unit, duration=duration, distribution="even")
    times = arrivals(profile)
    assert len(times) == count
    assert times[0] == 0
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert len(gaps) <= 1  # evenly spaced
    assert all(t < duration for t in times)


def test_poisson_count_and_gaps():
    profile = ArrivalRate(rate=50, duration=200)
    times = arrivals(profile)
    assert abs(len(times) - 10_000) < 400  # 4 sd
    assert times == sorted(times) and times[0] > 0 and times[-1] < 200
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.05)


def test_bursty_mean_rate_and_cv():
    profile = parse_profile(
        {"type": "agent-arrival-rate", "rate": 100, "duration": 200, "distribution": "bursty", "cv": 3}
    )
    times = arrivals(profile, seed=11)
    assert abs(len(times) - 20_000) < 1700  # 4 sd: about 20_000 ** 0.5 * 3 ≈ 424
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(0.01, rel=0.085)
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(3.0, rel=0.1)


def test_bursty_default_cv_is_two():
    profile = ArrivalRate(rate=100, duration=200, distribution="bursty")
    times = arrivals(profile)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(2.0, rel=0.1)


def test_same_seed_same_arrivals():
    for distribution in ("poisson", "bursty"):
        profile = ArrivalRate(rate=20, duration=30, distribution=distribution)
        assert arrivals(profile, seed=3) == arrivals(profile, seed=3)
        assert arrivals(profile, seed=3) != arrivals(profile, seed=4)


RAMP = {
    "type": "ramping-arrival-rate",
    "stages": [
        {"duration": "1m", "target": 20},
        {"duration": "1m", "target": 20},
        {"duration": "1m", "target": 0},
    ],
}


def test_ramping_arrival_rate_even_follows_the_integral():
    profile = parse_profile({**RAMP, "distribution": "even"})
    assert isinstance(profile, RampingArrivalRate)
    assert profile.duration == 180
    times = arrivals(profile)
    assert len(times) == 600 + 1200 + 600  # the integral of the rate
    assert sum(t < 60 for t in times) == 600
    assert sum(60 <= t < 120 for t in times) == 1200
    # In the first stage Λ(t) = t²/6, so arrival k is at sqrt(6k).
    for k in (0, 1, 10, 599):
        assert times[k] == pytest.approx(math.sqrt(6 * k))
    # On the way down Λ(120 + s) = 1800 + 20s − s²/6.
    s = 60 - math.sqrt(3600 - 6 * (2100 - 1800))
    assert times[2100] == pytest.approx(120 + s)
    assert times == sorted(times)


def test_ramping_arrival_rate_poisson_count():
    profile = parse_profile(RAMP)
    counts = [len(arrivals(profile, seed)) for seed in range(5)]
    assert statistics.fmean(counts) == pytest.approx(2400, rel=0.03)


def test_rate_at_and_time_unit():
    profile = RampingArrivalRate(start_rate=60, time_unit=60, stages=[Stage(10, 120), Stage(10, 120)])
    assert [profile.rate_at(t) for t in (-1, 0, 5, 10, 19.9, 20)] == pytest.approx([0, 1, 1.5, 2, 2, 0])
    assert len(arrivals(replace(profile, distribution="even"))) == 10 * 1.5 + 10 * 2


def test_no_arrivals_while_the_rate_is_zero():
    profile = RampingArrivalRate(
        start_rate=5, stages=[Stage(10, 5), Stage(0, 0), Stage(10, 0), Stage(0, 5), Stage(10, 5)], distribution="even"
    )
    times = arrivals(profile)
    assert len(times) == 100
    assert not [t for t in times if 10 <= t < 20]
    assert times[50] == 20


def test_rate_ramp_from_zero_starts_at_zero():
    profile = RampingArrivalRate(stages=[Stage(10, 0), Stage(10, 10)], distribution="even")
    times = arrivals(profile)
    assert times[0] == 10  # not during the first 10 s, when the rate is 0
    assert len(times) == 50
