"""``profiles.shares``: a process's share of a run over time stays a partition across ``--workers auto``'s
changes, so every arrival has exactly one owner, counts add up to the whole, and agent numbers never
collide.

Histories are generated the way ``AdaptiveLoad`` makes them: the run starts with one process per part of
a partition of ``[0, 1)`` (one process: the whole run), then, at strictly increasing times, a process
halves its segment and a new process (whose schedule starts with nothing) takes the upper half, both
under a new epoch. A fixed schedule with one segment must behave exactly as the bare ``Segment`` (the code
before schedules existed).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.profiles import Segment, ShareSchedule, parse_profile
from mcpload.profiles.shares import EPOCH_SPAN, Share


@dataclass
class History:
    """Processes' schedules after a run of changes, and the changes' times."""

    schedules: list[ShareSchedule]
    times: list[float]  # when each change took effect, ascending


def _partition(draw: st.DrawFn) -> list[Segment]:
    parts = draw(st.integers(1, 4))
    if draw(st.booleans()):
        return Segment.full().split(parts)  # what split_load does
    cuts = draw(st.sets(st.fractions(0, 1, max_denominator=40), max_size=parts - 1))
    points = [Fraction(0), *sorted(c for c in cuts if 0 < c < 1), Fraction(1)]
    return [Segment(a, b) for a, b in pairwise(points)]


@st.composite
def histories(draw: st.DrawFn, max_changes: int = 6) -> History:
    schedules = [ShareSchedule(part, fixed=False) for part in _partition(draw)]
    times: list[float] = []
    t = draw(st.floats(-2, 5, allow_nan=False))
    for epoch in range(1, draw(st.integers(0, max_changes)) + 1):
        # whole seconds (what AdaptiveLoad picks) or any later moment
        step = draw(st.one_of(st.integers(1, 4).map(float), st.floats(1e-6, 3, allow_nan=False)))
        t = t + step if t + step > t else math.nextafter(t, math.inf)
        donor = schedules[draw(st.integers(0, len(schedules) - 1))]
        whole = donor.latest.segment
        assert whole is not None  # a process gets a segment at its first change and never loses it
        middle = whole.start + whole.length / 2
        donor.change(t, Segment(whole.start, middle), epoch)
        taker = ShareSchedule(None, fixed=False)
        taker.change(t, Segment(middle, whole.end), epoch)
        schedules.append(taker)
        times.append(t)
    return History(schedules, times)


def moments(history: History) -> st.SearchStrategy[float]:
    """Any moment, with the change boundaries (and the floats just around them) drawn often."""
    edges = [x for t in history.times for x in (math.nextafter(t, -math.inf), t, math.nextafter(t, math.inf))]
    anywhere = st.floats(-10, 40, allow_nan=False)
    return st.one_of(anywhere, st.sampled_from(edges)) if edges else anywhere


@settings(max_examples=100, deadline=None)
@given(data=st.data(), history=histories())
def test_every_arrival_has_exactly_one_owner_at_every_moment(data, history):
    for _ in range(12):
        t = data.draw(moments(history))
        index = data.draw(st.one_of(st.integers(0, 300), st.integers(0, 10**12)))
        owners = [p for p, schedule in enumerate(history.schedules) if schedule.at(t).owns(index)]
        assert len(owners) == 1, (t, index, owners, history.schedules)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), history=histories())
def test_counts_add_up_to_the_whole_at_every_moment(data, history):
    for _ in range(12):
        t = data.draw(moments(history))
        n = data.draw(st.one_of(st.integers(0, 100), st.integers(0, 10**9)))
        shares = [schedule.at(t).scale(n) for schedule in history.schedules]
        assert sum(shares) == n, (t, n, shares, history.schedules)
        assert all(s >= 0 for s in shares)


@settings(max_examples=60, deadline=None)
@given(history=histories(max_changes=5))
def test_agent_numbers_never_repeat_across_shares_and_processes(history):
    seen: dict[int, tuple[int, Share]] = {}
    for p, schedule in enumerate(history.schedules):
        for share in schedule.shares:
            numbers = list(islice(share.numbers(), 120))
            if share.segment is None:
                assert numbers == []
                continue
            assert len(numbers) == 120 and numbers == sorted(numbers)
            for number in numbers:
                epoch, index = divmod(number, EPOCH_SPAN)
                assert epoch == share.epoch and share.segment.owns(index)
                assert number not in seen, (number, seen[number], (p, share))
                seen[number] = (p, share)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), history=histories())
def test_a_schedule_switches_exactly_at_its_change(data, history):
    for schedule in history.schedules:
        shares = schedule.shares
        assert [s.from_s for s in shares[1:]] == sorted({s.from_s for s in shares[1:]})  # strictly increasing
        assert schedule.latest is shares[-1]
        for before, after in pairwise(shares):
            assert schedule.at(after.from_s) is after
            assert schedule.at(math.nextafter(after.from_s, -math.inf)) is before
        assert schedule.at(-math.inf) is shares[0]
        assert schedule.at(math.inf) is shares[-1]
        t = data.draw(st.floats(-1e6, 1e6, allow_nan=False))
        assert schedule.at(t) is max((s for s in shares if s.from_s <= t), key=lambda s: s.from_s)


@settings(max_examples=100, deadline=None)
@given(history=histories(), back=st.floats(0, 10, allow_nan=False), segment=st.sampled_from([None, Segment(0, "1/2")]))
def test_a_change_not_after_the_last_one_is_refused_and_changes_nothing(history, back, segment):
    for schedule in history.schedules:
        before = list(schedule.shares)
        last = before[-1].from_s
        with pytest.raises(ValueError, match="must come after the last one"):
            schedule.change(last - back, segment, 99)  # at the last change itself, or before it
        assert schedule.shares == before


@settings(max_examples=50, deadline=None)
@given(
    segment=st.sampled_from([None, Segment.full(), Segment(0, "1/3"), Segment("1/3", 1)]),
    at=st.floats(-1e9, 1e9, allow_nan=False),
)
def test_a_fixed_schedule_refuses_every_change(segment, at):
    schedule = ShareSchedule(segment)  # fixed by default: --workers N, --segment
    with pytest.raises(ValueError, match="fixed"):
        schedule.change(at, Segment.full(), 1)
    assert len(schedule.shares) == 1 and schedule.fixed


SEGMENTS = st.one_of(
    st.just(Segment.full()),
    st.builds(lambda parts, i: Segment.full().split(parts)[i % parts], st.integers(1, 9), st.integers(0, 8)),  # i/N
    st.tuples(st.fractions(0, 1, max_denominator=1000), st.fractions(0, 1, max_denominator=1000))
    .filter(lambda ab: ab[0] != ab[1])
    .map(lambda ab: Segment(min(ab), max(ab))),
)


@settings(max_examples=120, deadline=None)
@given(
    segment=SEGMENTS,
    t=st.floats(-1e9, 1e9, allow_nan=False),
    indices=st.lists(st.integers(0, 10**15), max_size=30),
    counts=st.lists(st.integers(0, 10**12), max_size=30),
)
def test_a_fixed_schedule_behaves_as_its_static_segment(segment, t, indices, counts):
    share = ShareSchedule(segment).at(t)
    assert share.segment == segment and share.epoch == 0
    for index in [*range(300), *indices]:
        assert share.owns(index) == segment.owns(index)
    for n in [*range(300), *counts]:
        assert share.scale(n) == segment.scale(n)
    assert list(islice(share.numbers(), 200)) == list(islice(segment.owned_indices(), 200))


def test_nothing_is_no_share_of_anything():
    share = ShareSchedule(None, fixed=False).at(0.0)
    assert not any(share.owns(i) for i in range(1000))
    assert all(share.scale(n) == 0 for n in range(1000))
    assert list(share.numbers()) == []


OPEN = parse_profile({"type": "agent-arrival-rate", "rate": 300, "duration": "2s", "max_agents": 37})
RAMP = parse_profile(
    {"type": "ramping-agents", "stages": [{"duration": "2s", "target": 57}, {"duration": "1s", "target": 5}]}
)


@settings(max_examples=60, deadline=None)
@given(segment=SEGMENTS, seed=st.integers(0, 2**32), t=st.floats(-1, 4, allow_nan=False))
def test_a_static_share_of_a_whole_profile_is_the_profile_for_its_segment(segment, seed, t):
    """The engine used to run ``profile.for_segment(segment)``; it now runs the whole profile through the
    share: same arrivals, same targets, same cap."""
    share = ShareSchedule(segment).at(t)
    whole = [(i, at) for i, at in OPEN.indexed_arrivals(random.Random(seed)) if share.owns(i)]
    assert whole == list(OPEN.for_segment(segment).indexed_arrivals(random.Random(seed)))
    assert share.scale(OPEN.max_agents) == OPEN.for_segment(segment).max_agents
    assert share.scale(RAMP.target_at(t)) == RAMP.for_segment(segment).target_at(t)
