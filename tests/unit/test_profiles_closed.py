import itertools

import pytest

from mcpload.profiles import ClosedProfile, ConstantAgents, ProfileError, RampingAgents, Stage, parse_profile

EXAMPLE = {
    "type": "ramping-agents",
    "stages": [
        {"duration": "30s", "target": 100},
        {"duration": "30s", "target": 100},
        {"duration": "10s", "target": 0},
    ],
}


def test_constant_agents():
    profile = parse_profile({"type": "constant-agents", "agents": 50, "duration": "5m", "start": "10s"})
    assert isinstance(profile, ConstantAgents)
    assert profile.kind == "closed"
    assert (profile.start, profile.duration, profile.graceful_stop, profile.graceful_ramp_down) == (10, 300, 10, 0)
    assert [profile.target_at(t) for t in (-1, 0, 150, 299.999, 300, 400)] == [0, 50, 50, 50, 0, 0]
    assert profile.max_agents == 50
    assert profile.describe() == "constant-agents: 50 agents for 5m"


@pytest.mark.parametrize(
    ("t", "target"),
    [
        (-0.1, 0),
        (0, 0),
        (0.29, 0),
        (0.3, 1),  # one agent every 0.3 s while ramping 0 → 100 over 30 s
        (15, 50),
        (29.99, 99),
        (30, 100),  # stage boundary: the hold begins at its target
        (45, 100),
        (60, 100),  # the ramp down starts from 100
        (60.1, 99),
        (65, 50),
        (69.95, 1),
        (70, 0),  # the profile has ended
        (100, 0),
    ],
)
def test_ramping_agents_example(t, target):
    profile = parse_profile(EXAMPLE)
    assert isinstance(profile, RampingAgents)
    assert profile.target_at(t) == target


def test_ramping_agents_fields_and_defaults():
    profile = parse_profile(EXAMPLE)
    assert profile.duration == 70
    assert profile.start_agents == 0
    assert profile.graceful_ramp_down == 30
    assert profile.graceful_stop == 10
    assert profile.max_agents == 100
    assert profile.stages == (Stage(30, 100), Stage(30, 100), Stage(10, 0))
    assert profile.describe() == "ramping-agents: 0→100 over 30s, 100 for 30s, 100→0 over 10s"


def test_ramping_agents_moves_one_agent_at_a_time():
    profile = parse_profile(EXAMPLE)
    targets = [profile.target_at(i / 100) for i in range(7000)]
    assert all(abs(b - a) <= 1 for a, b in itertools.pairwise(targets))
    assert sorted(set(targets)) == list(range(101))


def test_zero_duration_stage_jumps():
    profile = RampingAgents(
        start_agents=5,
        stages=[(10, 5), (0, 50), (10, 50), (0, 0), (10, 20)],
    )
    assert profile.duration == 30
    assert [profile.target_at(t) for t in (0, 9.99, 10, 19.99, 20, 25, 29.99, 30)] == [5, 5, 50, 50, 0, 10, 19, 0]
    assert profile.max_agents == 50


def test_start_agents_ramp_down():
    profile = RampingAgents(start_agents=10, stages=[Stage(10, 0)])
    assert [profile.target_at(t) for t in (0, 0.5, 1, 5, 9.99)] == [10, 10, 9, 5, 1]


def test_python_construction_validates():
    with pytest.raises(ProfileError) as caught:
        RampingAgents(stages=[])
    assert str(caught.value) == "stages: at least one stage is required"
    with pytest.raises(ProfileError) as caught:
        ConstantAgents(agents=0, duration=0, start=-1)
    assert caught.value.problems == [
        ("start", "must not be negative, got -1"),
        ("agents", "must be at least 1, got 0"),
        ("duration", "must be longer than 0s, got 0"),
    ]


def test_is_a_closed_profile():
    assert isinstance(parse_profile(EXAMPLE), ClosedProfile)


@pytest.mark.parametrize(
    ("data", "most"),
    [
        ({"type": "constant-agents", "agents": 50, "duration": "5m"}, 50),
        (EXAMPLE, 100),
        ({"type": "agent-arrival-rate", "rate": 5, "duration": "1m", "max_agents": 40}, 40),
        ({"type": "ramping-arrival-rate", "stages": [{"duration": "10s", "target": 5}], "max_agents": 7}, 7),
    ],
)
def test_max_agents_is_the_most_agents_at_once_on_every_profile(data, most):
    # one meaning (issue 17): an int attribute, a closed profile's highest target or an open profile's cap
    profile = parse_profile(data)
    assert type(profile.max_agents) is int and profile.max_agents == most
    half = profile.for_segment(profile.segment.split(2)[0])
    assert 0 <= half.max_agents <= most
