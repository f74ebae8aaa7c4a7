import pytest

from mcpload.profiles import (
    PROFILE_TYPES,
    ArrivalRate,
    ConstantAgents,
    ProfileError,
    RampingAgents,
    RampingArrivalRate,
    parse_profile,
    parse_profiles,
)


def problems(data, **kwargs):
    with pytest.raises(ProfileError) as caught:
        parse_profile(data, **kwargs)
    return caught.value.problems


def test_error_string_is_one_line_per_problem():
    error = ProfileError([("a.b", "bad"), ("c", "worse")])
    assert str(error) == "a.b: bad; c: worse"
    assert isinstance(error, ValueError)
    assert error.under("profiles[2]").problems == [("profiles[2].a.b", "bad"), ("profiles[2].c", "worse")]


def test_registry_is_explicit():
    assert set(PROFILE_TYPES) == {
        "constant-agents",
        "ramping-agents",
        "agent-arrival-rate",
        "ramping-arrival-rate",
        "spike",
        "step",
        "sawtooth",
        "soak",
    }


def test_shared_fields():
    profile = parse_profile(
        {
            "type": "constant-agents",
            "agents": 2,
            "duration": 1,
            "name": "warm",
            "start": "1m",
            "graceful_stop": "5s",
            "agent_types": "researcher",
        }
    )
    assert (profile.name, profile.start, profile.graceful_stop, profile.agent_types) == ("warm", 60, 5, ("researcher",))
    assert parse_profile({"type": "constant-agents", "agents": 2, "duration": 1, "name": None}).name is None


def test_unknown_type_suggests():
    assert problems({"type": "constant-agent"})[0] == (
        "profiles[0].type",
        "unknown profile type 'constant-agent' (did you mean 'constant-agents'?); one of "
        "constant-agents, ramping-agents, agent-arrival-rate, ramping-arrival-rate, spike, step, sawtooth, soak",
    )
    assert "(did you mean 'ramping-agents'?)" in problems({"type": "ramping-vus"})[0][1]
    assert "(did you mean 'agent-arrival-rate'?)" in problems({"type": "constant-arrival-rate"})[0][1]
    assert problems({"type": 3})[0][1].startswith("unknown profile type 3; one of")
    assert problems({"agents": 1}) == [("profiles[0].type", problems({})[0][1])]
    assert problems({}, path="p")[0][0] == "p.type"
    assert problems([1, 2]) == [("profiles[0]", "expected a mapping with a type, got [1, 2]")]


def test_unknown_fields_suggest():
    found = problems(
        {
            "type": "ramping-agents",
            "stages": [{"duration": 1, "target": 1}],
            "gracefull_stop": 1,
            "startVUs": 2,
            "zzz": 1,
        }
    )
    assert found == [
        ("profiles[0].gracefull_stop", "unknown field for ramping-agents (did you mean 'graceful_stop'?)"),
        ("profiles[0].startVUs", "unknown field for ramping-agents (did you mean 'start_agents'?)"),
        ("profiles[0].zzz", "unknown field for ramping-agents"),
    ]


def test_every_problem_at_once_with_paths():
    found = problems(
        {
            "type": "ramping-agents",
            "start_agents": -1,
            "graceful_ramp_down": "soon",
            "stages": [
                {"duration": "-5s", "target": 10},
                {"duration": "10s", "target": 2.5},
                {"target": 1, "duraton": 3},
                "fast",
            ],
        },
        path="scenario.profiles[1]",
    )
    assert found == [
        ("scenario.profiles[1].start_agents", "must not be negative, got -1"),
        (
            "scenario.profiles[1].graceful_ramp_down",
            "invalid duration 'soon' (use e.g. 500ms, 2s, 1.5m, 1h, 1m30s or a number of seconds)",
        ),
        ("scenario.profiles[1].stages[0].duration", "must not be negative, got '-5s'"),
        ("scenario.profiles[1].stages[1].target", "expected a whole number, got 2.5 (float)"),
        ("scenario.profiles[1].stages[2].duraton", "unknown field (did you mean 'duration'?)"),
        ("scenario.profiles[1].stages[2].duration", "missing"),
        ("scenario.profiles[1].stages[3]", "expected a mapping with duration and target, got 'fast'"),
    ]


def test_missing_and_wrongly_typed_fields():
    assert problems({"type": "constant-agents"}) == [
        ("profiles[0].agents", "missing"),
        ("profiles[0].duration", "missing"),
    ]
    assert problems({"type": "constant-agents", "agents": "ten", "duration": True, "agent_types": [1, ""]}) == [
        ("profiles[0].agents", "expected a whole number, got 'ten' (str)"),
        (
            "profiles[0].duration",
            "expected a duration, got True (use e.g. 500ms, 2s, 1.5m, 1h, 1m30s or a number of seconds)",
        ),
        ("profiles[0].agent_types[0]", "expected a name, got 1"),
        ("profiles[0].agent_types[1]", "expected a name, got ''"),
    ]
    assert problems({"type": "agent-arrival-rate", "rate": "fast", "duration": 1}) == [
        ("profiles[0].rate", "expected a number, got 'fast' (str)")
    ]


def test_validation_after_reading():
    assert problems({"type": "constant-agents", "agents": 0, "duration": 0, "graceful_stop": 0}) == [
        ("profiles[0].agents", "must be at least 1, got 0"),
        ("profiles[0].duration", "must be longer than 0s, got 0.0"),
    ]
    assert problems({"type": "ramping-agents", "stages": []}) == [
        ("profiles[0].stages", "at least one stage is required")
    ]
    assert problems({"type": "ramping-agents", "stages": [{"duration": 0, "target": 5}]}) == [
        ("profiles[0].stages", "the stages must last longer than 0s in total")
    ]
    assert problems({"type": "ramping-arrival-rate", "stages": [{"duration": 10, "target": 0}]}) == [
        ("profiles[0].stages", "every target is 0, so no agents would ever run")
    ]
    assert problems({"type": "ramping-agents", "stages": "fast"}) == [
        ("profiles[0].stages", "expected a list of {duration, target} stages, got 'fast'")
    ]


def test_open_profile_options():
    base = {"type": "agent-arrival-rate", "rate": 1, "duration": 10}
    assert problems({**base, "distribution": "bursty", "cv": 1}) == [
        ("profiles[0].cv", "must be greater than 1 for bursty arrivals (1 is poisson), got 1.0")
    ]
    assert problems({**base, "distribution": "bursty", "cv": 0.5})[0][0] == "profiles[0].cv"
    assert problems({**base, "cv": 3}) == [("profiles[0].cv", "only applies to distribution: bursty")]
    assert problems({**base, "distribution": "poison"}) == [
        ("profiles[0].distribution", "expected one of even, poisson, bursty, got 'poison' (did you mean 'poisson'?)")
    ]
    assert problems({**base, "time_unit": 0, "max_agents": 0, "rate": 0}) == [
        ("profiles[0].time_unit", "must be longer than 0s, got 0.0"),
        ("profiles[0].max_agents", "must be at least 1, got 0"),
        ("profiles[0].rate", "must be greater than 0, got 0.0"),
    ]
    profile = parse_profile({**base, "distribution": "bursty", "cv": 2.5, "max_agents": 7})
    assert (profile.distribution, profile.cv, profile.max_agents) == ("bursty", 2.5, 7)


def test_parse_profiles():
    one = {"type": "constant-agents", "agents": 1, "duration": 1}
    profiles = parse_profiles([one, {"type": "ramping-arrival-rate", "stages": [{"duration": 1, "target": 1}]}])
    assert [type(p) for p in profiles] == [ConstantAgents, RampingArrivalRate]
    assert [type(p) for p in parse_profiles(one)] == [ConstantAgents]
    with pytest.raises(ProfileError) as caught:
        parse_profiles(
            [
                {**one, "name": "a"},
                {"type": "nope"},
                {**one, "name": "a"},
                {"type": "agent-arrival-rate", "duration": 1},
            ]
        )
    assert [path for path, _ in caught.value.problems] == [
        "profiles[1].type",
        "profiles[2].name",
        "profiles[3].rate",
    ]
    assert caught.value.problems[1][1] == "duplicate name 'a' (also profiles[0])"
    with pytest.raises(ProfileError, match=r"^profiles: at least one profile is required$"):
        parse_profiles([])
    with pytest.raises(ProfileError, match=r"^p: expected a profile mapping or a list of them, got 3$"):
        parse_profiles(3, path="p")
    with pytest.raises(ProfileError, match=r"^profiles\.agents: missing"):
        parse_profiles({"type": "constant-agents", "duration": 1})


def test_returned_families():
    assert isinstance(
        parse_profile({"type": "ramping-agents", "stages": [{"duration": 1, "target": 1}]}), RampingAgents
    )
    assert isinstance(parse_profile({"type": "agent-arrival-rate", "rate": 1, "duration": 1}), ArrivalRate)
