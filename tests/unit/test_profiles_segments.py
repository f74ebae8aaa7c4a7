import itertools
import random
from fractions import Fraction

import pytest

from mcpload.profiles import (
    ArrivalRate,
    ConstantAgents,
    RampingAgents,
    RampingArrivalRate,
    Segment,
    Stage,
    parse_profile,
)


def partition(n):
    return [Segment.parse(f"{i}/{n}") for i in range(1, n + 1)]


def test_parse():
    assert Segment.parse("1/4") == Segment(Fraction(0), Fraction(1, 4))
    assert Segment.parse("4/4") == Segment(Fraction(3, 4), Fraction(1))
    assert Segment.parse("1/1") == Segment.full()
    assert Segment.parse("0:1/4") == Segment(0, Fraction(1, 4))
    assert Segment.parse("0.25:0.5") == Segment(Fraction(1, 4), Fraction(1, 2))
    assert Segment.parse(" 1/3 : 1 ") == Segment(Fraction(1, 3), 1)
    assert Segment.full().is_full and not Segment.parse("1/2").is_full
    assert Segment.parse("2/3").length == Fraction(1, 3)
    assert str(Segment.parse("2/4")) == "1/4:1/2"


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "x", "1", "1/2/3", "1/2:1/4", "0:2", "-1/4:1/4", "a:b", ""])
def test_parse_rejects(text):
    with pytest.raises(ValueError, match="segment"):
        Segment.parse(text)


def test_scale_adds_up_for_uneven_partitions():
    bounds = [Fraction(0), Fraction(1, 3), Fraction(1, 2), Fraction(7, 10), Fraction(1)]
    parts = [Segment(a, b) for a, b in itertools.pairwise(bounds)]
    for n in range(200):
        shares = [seg.scale(n) for seg in parts]
        assert sum(shares) == n
        assert all(abs(share - n * seg.length) < 1 for share, seg in zip(shares, parts, strict=True))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
def test_closed_targets_add_up_at_every_t(n):
    whole = parse_profile(
        {
            "type": "ramping-agents",
            "start_agents": 3,
            "stages": [
                {"duration": "30s", "target": 100},
                {"duration": 0, "target": 7},
                {"duration": "10s", "target": 0},
            ],
        }
    )
    shares = [whole.for_segment(seg) for seg in partition(n)]
    for step in range(0, 4100, 3):
        t = step / 100
        assert sum(share.target_at(t) for share in shares) == whole.target_at(t)
    # Each share's peak is its largest target over the run, and the peaks cover the whole peak.
    for share in shares:
        assert share.max_agents == max(share.target_at(step / 100) for step in range(4000))
    # 100 is never wanted: the jump to 7 comes exactly when the ramp would reach it.
    assert sum(share.max_agents for share in shares) >= whole.max_agents == 99


def test_constant_agents_split():
    whole = ConstantAgents(agents=10, duration=5)
    assert [whole.for_segment(seg).target_at(1) for seg in partition(3)] == [3, 3, 4]
    assert [whole.for_segment(seg).max_agents for seg in partition(4)] == [2, 3, 2, 3]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("distribution", ["even", "poisson", "bursty"])
def test_open_arrivals_partition(n, distribution):
    whole = RampingArrivalRate(start_rate=5, stages=[Stage(10, 50), Stage(10, 0)], distribution=distribution)
    full = list(whole.arrivals(random.Random(42)))
    pieces = [list(whole.for_segment(seg).arrivals(random.Random(42))) for seg in partition(n)]
    assert sum(len(piece) for piece in pieces) == len(full)
    assert sorted(t for piece in pieces for t in piece) == full  # disjoint, and together the whole
    for piece in pieces:
        assert piece == sorted(piece)
        assert abs(len(piece) - len(full) / n) <= 3  # evenly striped


def test_open_arrivals_partition_uneven():
    whole = ArrivalRate(rate=100, duration=10)
    full = list(whole.arrivals(random.Random(1)))
    bounds = [Fraction(0), Fraction(1, 3), Fraction(1, 2), Fraction(7, 10), Fraction(1)]
    pieces = [list(whole.for_segment(Segment(a, b)).arrivals(random.Random(1))) for a, b in itertools.pairwise(bounds)]
    assert sorted(t for piece in pieces for t in piece) == full
    assert sum(map(len, pieces)) == len(full)


def test_first_n_arrivals_go_to_n_segments():
    for n in range(1, 7):
        owners = [next(i for i, seg in enumerate(partition(n)) if seg.owns(k)) for k in range(n)]
        assert sorted(owners) == list(range(n))


def test_open_segment_splits_max_agents_and_rate():
    whole = ArrivalRate(rate=12, duration=10, max_agents=10)
    shares = [whole.for_segment(seg) for seg in partition(3)]
    assert [share.max_agents for share in shares] == [3, 3, 4]
    assert sum(share.rate_at(5) for share in shares) == pytest.approx(12)
    assert ArrivalRate(rate=1, duration=1, max_agents=1).for_segment(Segment.parse("1/2")).max_agents == 0


def test_for_segment_is_always_a_share_of_the_whole():
    whole = RampingAgents(stages=[Stage(10, 10)])
    half = whole.for_segment(Segment.parse("1/2"))
    assert half.segment == Segment.parse("1/2")
    assert half.for_segment(Segment.parse("1/2")) is half
    assert whole.for_segment(Segment.full()) is whole
    with pytest.raises(ValueError, match="already the share"):
        half.for_segment(Segment.parse("1/4"))
