import pytest

from mcpload.profiles import (
    ProfileError,
    RampingAgents,
    RampingArrivalRate,
    Sawtooth,
    Soak,
    Spike,
    Stage,
    StepLoad,
    parse_profile,
)


def test_spike_stages():
    profile = parse_profile(
        {"type": "spike", "baseline": 5, "peak": 80, "warmup": "1m", "hold": "30s", "recovery": "2m", "name": "burst"}
    )
    assert isinstance(profile, RampingAgents)
    assert (profile.type, profile.name, profile.start_agents) == ("spike", "burst", 5)
    assert profile.stages == (Stage(60, 5), Stage(2, 80), Stage(30, 80), Stage(2, 5), Stage(120, 5))
    assert [profile.target_at(t) for t in (0, 59.9, 61, 62, 91.9, 92, 93, 94, 213.9, 214)] == [
        5,
        5,
        42,
        80,
        80,
        80,
        43,
        5,
        5,
        0,
    ]
    assert profile.max_agents == 80


def test_spike_defaults():
    profile = Spike(baseline=0, peak=10).build()
    assert profile.stages == (Stage(30, 0), Stage(2, 10), Stage(30, 10), Stage(2, 0), Stage(30, 0))
    assert profile.graceful_ramp_down == 30


def test_step_stages_jump_without_ramp():
    profile = parse_profile({"type": "step", "step": 10, "steps": 3, "step_duration": "30s"})
    assert isinstance(profile, RampingAgents)
    assert profile.stages == (Stage(0, 10), Stage(30, 10), Stage(0, 20), Stage(30, 20), Stage(0, 30), Stage(30, 30))
    assert [profile.target_at(t) for t in (0, 29.9, 30, 59.9, 60, 89.9, 90)] == [10, 10, 20, 20, 30, 30, 0]


def test_step_with_initial_and_ramp():
    profile = StepLoad(initial=5, step=5, steps=2, step_duration=20, ramp=10, graceful_ramp_down=5).build()
    assert profile.start_agents == 0
    assert profile.stages == (Stage(10, 5), Stage(20, 5), Stage(10, 10), Stage(20, 10))
    assert profile.graceful_ramp_down == 5
    assert profile.duration == 60


def test_sawtooth_stages():
    profile = parse_profile({"type": "sawtooth", "low": 2, "high": 12, "period": "10s", "cycles": 2})
    assert isinstance(profile, RampingAgents)
    assert profile.start_agents == 2
    assert profile.stages == (Stage(10, 12), Stage(0, 2), Stage(10, 12), Stage(0, 2))
    assert [profile.target_at(t) for t in (0, 5, 9.99, 10, 15, 19.99, 20)] == [2, 7, 11, 2, 7, 11, 0]


def test_soak_stages():
    profile = parse_profile({"type": "soak", "agents": 40, "duration": "4h", "ramp_up": "5m"})
    assert isinstance(profile, RampingAgents)
    assert profile.type == "soak"
    assert profile.stages == (Stage(300, 40), Stage(4 * 3600, 40), Stage(60, 0))
    assert profile.duration == 300 + 4 * 3600 + 60
    assert Soak(agents=1, duration=1).build().stages == (Stage(60, 1), Stage(1, 1), Stage(60, 0))


def test_rate_mode_builds_ramping_arrival_rate():
    profile = parse_profile(
        {
            "type": "spike",
            "mode": "rate",
            "baseline": 0.5,
            "peak": 4,
            "time_unit": "1s",
            "distribution": "even",
            "max_agents": 50,
        }
    )
    assert isinstance(profile, RampingArrivalRate)
    assert profile.kind == "open"
    assert (profile.start_rate, profile.distribution, profile.max_agents) == (0.5, "even", 50)
    assert profile.stages[1] == Stage(2, 4)
    step = StepLoad(mode="rate", step=1.5, steps=2, step_duration=10).build()
    assert isinstance(step, RampingArrivalRate)
    assert step.stages == (Stage(0, 1.5), Stage(10, 1.5), Stage(0, 3), Stage(10, 3))
    assert step.max_agents == 1000  # the built profile's default


def test_preset_problems():
    with pytest.raises(ProfileError) as caught:
        parse_profile({"type": "spike", "baseline": 10, "peak": 2.5, "hold": 0, "cv": 3})
    assert caught.value.problems == [
        ("profiles[0].cv", "only applies with mode: rate"),
        ("profiles[0].peak", "expected a whole number of agents, got 2.5"),
        ("profiles[0].peak", "must be greater than baseline (10), got 2.5"),
        ("profiles[0].hold", "must be greater than 0, got 0.0"),
    ]
    with pytest.raises(ProfileError) as caught:
        Sawtooth(high=0, period=0, cycles=0, mode="rate", graceful_ramp_down=1)
    assert [path for path, _ in caught.value.problems] == ["graceful_ramp_down", "high", "period", "cycles"]
    with pytest.raises(ProfileError) as caught:
        parse_profile({"type": "step", "step": 0, "steps": 0, "step_duration": 0})
    assert [path for path, _ in caught.value.problems] == [
        "profiles[0].step",
        "profiles[0].steps",
        "profiles[0].step_duration",
    ]
    with pytest.raises(ProfileError, match=r"profiles\[0\]\.mode: .*did you mean 'rate'"):
        parse_profile({"type": "step", "mode": "rates", "step": 1, "steps": 1, "step_duration": 1})
    with pytest.raises(ProfileError, match=r"profiles\[0\]\.mode: unknown field for soak"):
        parse_profile({"type": "soak", "mode": "rate", "agents": 1, "duration": 1})
