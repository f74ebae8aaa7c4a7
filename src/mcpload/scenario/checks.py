"""Small validation helpers shared by the scenario parsers: paths, types, keys, suggestions.

Every parser takes the raw value and its path (``agents.researcher.workflow[2]``) and raises
``ScenarioError`` with that path, so messages point at the exact place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcpload.inputs import MAX_FLOAT, number_problem, show_number
from mcpload.profiles.durations import DurationError, parse_duration
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def join(path: str, key: str | int) -> str:
    """``join("agents", "researcher") == "agents.researcher"``; ints become ``[i]``; odd keys ``["k"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.match(key):
        key_text = '"' + key.replace('"', '\\"') + '"'
        return f"{path}[{key_text}]"
    return f"{path}.{key}" if path else key


def type_name(value: Any) -> str:
    """The YAML-ish name of a value's type, for messages such as ``expected a mapping, got a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def expect_mapping(value: Any, path: str, what: str = "a mapping") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"expected {what}, got {type_name(value)}", path)
    for key in value:
        if not isinstance(key, str):
            raise ScenarioError(f"keys must be strings, got {type_name(key)} {key!r}", path)
    return value


def expect_list(value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ScenarioError(f"expected a list, got {type_name(value)}", path)
    if non_empty and not value:
        raise ScenarioError("expected a non-empty list", path)
    return list(value)


def expect_str(value: Any, path: str, *, non_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"expected a string, got {type_name(value)}", path)
    if non_empty and not value.strip():
        raise ScenarioError("expected a non-empty string", path)
    return value


def expect_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"expected true or false, got {type_name(value)}", path)
    return value


#: the largest integer a scenario value may be unless its field says otherwise (exact as a float)
MAX_SCENARIO_INT = 2**53


def expect_int(value: Any, path: str, *, minimum: int | None = None, maximum: int = MAX_SCENARIO_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"expected an integer, got {type_name(value)}", path)
    if minimum is not None and value < minimum:
        raise ScenarioError(f"must be at least {minimum}, got {show_number(value)}", path)
    if abs(value) > maximum:
        raise ScenarioError(f"out of range (at most {maximum:,} in absolute value), got {show_number(value)}", path)
    return value


def expect_number(value: Any, path: str, *, positive: bool = False, minimum: float | None = None) -> float:
    """A finite int or float of at most ``MAX_FLOAT`` in absolute value (NaN and infinities refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"expected a number, got {type_name(value)}", path)
    problem = number_problem(float(value) if isinstance(value, float) or abs(value) <= 2**64 else value)
    if problem or abs(value) > MAX_FLOAT:
        raise ScenarioError(f"{problem or f'out of range (at most {MAX_FLOAT:g})'}, got {show_number(value)}", path)
    if positive and not value > 0:
        raise ScenarioError(f"must be greater than 0, got {value}", path)
    if minimum is not None and value < minimum:
        raise ScenarioError(f"must be at least {minimum}, got {value}", path)
    return float(value) + 0.0


def check_keys(mapping: Mapping[str, Any], allowed: Iterable[str], path: str, *, required: Iterable[str] = ()) -> None:
    """Refuse unknown keys (suggesting the closest allowed one) and report the first missing required key."""
    allowed = tuple(allowed)
    for key in mapping:
        if not isinstance(key, str):
            # PyYAML's safe_load reads on/off/yes/no as booleans (YAML 1.1); load_scenario does not.
            hint = " (YAML 1.1 reads on, off, yes and no as booleans: quote the key)" if isinstance(key, bool) else ""
            raise ScenarioError(f"keys must be strings, got {type_name(key)} {key!r}{hint}", path)
        if key not in allowed:
            raise ScenarioError(f"unknown key '{key}'{did_you_mean(key, allowed)}", path)
    for key in required:
        if key not in mapping:
            raise ScenarioError(f"missing required key '{key}'", path)


def only_key(mapping: Mapping[str, Any], kinds: Iterable[str], path: str, what: str) -> str:
    """The single key of a one-key mapping such as ``{lognormal: {...}}``; refuses others with a suggestion."""
    kinds = tuple(kinds)
    if len(mapping) != 1:
        raise ScenarioError(f"expected exactly one {what} ({', '.join(kinds)}), got {len(mapping)} keys", path)
    (key,) = mapping
    if key not in kinds:
        raise ScenarioError(f"unknown {what} '{key}'{did_you_mean(key, kinds)}", path)
    return key


def expect_duration(value: Any, path: str, *, positive: bool = False) -> float:
    """Seconds from ``2s``, ``500ms``, ``1m30s`` or a number of seconds (``mcpload.profiles.durations``)."""
    try:
        seconds = parse_duration(value, path)
    except DurationError as exc:
        raise ScenarioError(exc.message, exc.path) from None
    if positive and seconds <= 0:
        raise ScenarioError("must be greater than 0", path)
    return seconds
