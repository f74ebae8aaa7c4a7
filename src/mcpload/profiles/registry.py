"""From scenario data to profiles: the type-name → class table and the parsing that reports every problem.

The table is an explicit dict (no registration by import side effect): a new profile is one module and
one line here. A class's scenario fields are its dataclass fields that carry a reader (see ``fields``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, cast

from mcpload.profiles.arrival_rate import ArrivalRate
from mcpload.profiles.base import BaseConfig, Profile
from mcpload.profiles.constant_agents import ConstantAgents
from mcpload.profiles.errors import Problem, ProfileError, join_path
from mcpload.profiles.fields import READ, Reader
from mcpload.profiles.presets import Preset, Sawtooth, Soak, Spike, StepLoad
from mcpload.profiles.ramping_agents import RampingAgents
from mcpload.profiles.ramping_arrival_rate import RampingArrivalRate
from mcpload.suggest import did_you_mean

PROFILE_TYPES: dict[str, type[BaseConfig]] = {
    "constant-agents": ConstantAgents,
    "ramping-agents": RampingAgents,
    "agent-arrival-rate": ArrivalRate,
    "ramping-arrival-rate": RampingArrivalRate,
    "spike": Spike,
    "step": StepLoad,
    "sawtooth": Sawtooth,
    "soak": Soak,
}

# People coming from k6 write its names; point them at ours rather than at a weak difflib guess.
_K6_TYPES = {
    "constant-vus": "constant-agents",
    "ramping-vus": "ramping-agents",
    "constant-arrival-rate": "agent-arrival-rate",
}
_K6_FIELDS = {
    "vus": "agents",
    "startVUs": "start_agents",
    "startTime": "start",
    "gracefulStop": "graceful_stop",
    "gracefulRampDown": "graceful_ramp_down",
    "timeUnit": "time_unit",
    "startRate": "start_rate",
    "preAllocatedVUs": "max_agents",
    "maxVUs": "max_agents",
    "executor": "type",
    "exec": "agent_types",
}


def scenario_fields(cls: type[BaseConfig]) -> dict[str, tuple[Reader, bool]]:
    """The fields a scenario may set on ``cls``: name → (reader, required)."""
    found = {}
    for spec in fields(cls):
        if READ in spec.metadata:
            required = spec.default is MISSING and spec.default_factory is MISSING
            found[spec.name] = (spec.metadata[READ], required)
    return found


def _suggest(word: str, choices: list[str], aliases: dict[str, str]) -> str:
    if aliases.get(word) in choices:
        return f" (did you mean {aliases[word]!r}?)"
    return did_you_mean(word, choices)


def parse_profile(data: Any, path: str = "profiles[0]") -> Profile:
    """Read and validate one profile mapping.

    Args:
        data: the mapping from the scenario file, e.g. ``{"type": "constant-agents", "agents": 10,
            "duration": "1m"}``.
        path: where the mapping is in the scenario, put in front of every problem's path.

    Returns:
        A ``ClosedProfile`` or ``OpenProfile``; presets come back as the ramping profile they describe.

    Raises:
        ProfileError: every problem at once: unknown type or fields (with suggestions), missing fields,
            values of the wrong type, and the profile's own ``validate()`` problems.
    """
    if not isinstance(data, Mapping):
        raise ProfileError([(path, f"expected a mapping with a type, got {data!r}")])
    known = list(PROFILE_TYPES)
    if "type" not in data:
        raise ProfileError([(join_path(path, "type"), f"missing; one of {', '.join(known)}")])
    type_name = data["type"]
    if not isinstance(type_name, str) or type_name not in PROFILE_TYPES:
        hint = _suggest(type_name, known, _K6_TYPES) if isinstance(type_name, str) else ""
        message = f"unknown profile type {type_name!r}{hint}; one of {', '.join(known)}"
        raise ProfileError([(join_path(path, "type"), message)])
    cls = PROFILE_TYPES[type_name]
    values, problems = _read_fields(cls, data, path)
    if problems:
        raise ProfileError(problems)
    try:
        config = cls(type=type_name, **values)
        return config.build() if isinstance(config, Preset) else cast(Profile, config)
    except ProfileError as exc:
        raise exc.under(path) from None


def _read_fields(cls: type[BaseConfig], data: Mapping[str, Any], path: str) -> tuple[dict[str, Any], list[Problem]]:
    spec = scenario_fields(cls)
    names = list(spec)
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, raw in data.items():
        if key == "type":
            continue
        here = join_path(path, str(key))
        if key not in spec:
            problems.append((here, f"unknown field for {data['type']}{_suggest(str(key), names, _K6_FIELDS)}"))
            continue
        reader, required = spec[key]
        if raw is None and not required:
            continue  # an explicit null means "the default"
        try:
            values[key] = reader(raw, here)
        except ProfileError as exc:
            problems.extend(exc.problems)
    for key, (_, required) in spec.items():
        if required and key not in data:
            problems.append((join_path(path, key), "missing"))
    return values, problems


def parse_profiles(value: Any, path: str = "profiles") -> list[Profile]:
    """Read one profile mapping or a list of them.

    Args:
        value: a mapping (one profile) or a non-empty list of mappings.
        path: where the value is in the scenario; list items get ``path[i]``.

    Returns:
        The profiles, in order.

    Raises:
        ProfileError: every problem in every profile, plus duplicate names.
    """
    if isinstance(value, Mapping):
        return [parse_profile(value, path)]
    if not isinstance(value, list):
        raise ProfileError([(path, f"expected a profile mapping or a list of them, got {value!r}")])
    if not value:
        raise ProfileError([(path, "at least one profile is required")])
    profiles: list[Profile] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for i, item in enumerate(value):
        here = f"{path}[{i}]"
        try:
            profile = parse_profile(item, here)
        except ProfileError as exc:
            problems.extend(exc.problems)
            continue
        profiles.append(profile)
        if profile.name is not None:
            if profile.name in names:
                problems.append((f"{here}.name", f"duplicate name {profile.name!r} (also {names[profile.name]})"))
            names.setdefault(profile.name, here)
    if problems:
        raise ProfileError(problems)
    return profiles
