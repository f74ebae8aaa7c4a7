"""How each profile field is read from a scenario file: dataclass fields that carry their own reader.

A profile class declares ``agents: int = count_field()``; the registry finds the reader in the field's
metadata, so adding a field to a profile never means touching the registry. Readers check the *type* and
sign of one value; rules between fields live in each profile's ``validate()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING, field
from typing import Any

from mcpload.inputs import MAX_COUNT, MAX_RATE, show_number
from mcpload.profiles.durations import DurationError, parse_duration
from mcpload.profiles.errors import ProfileError
from mcpload.suggest import did_you_mean

Reader = Callable[[Any, str], Any]
"""Turns a raw YAML value into the field's value, or raises ``ProfileError`` naming ``path``."""

READ = "read"  # the metadata key that holds a field's reader


def _short(value: Any) -> str:
    text = show_number(value) if isinstance(value, int | float) else repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def read_duration(value: Any, path: str) -> float:
    """A duration such as ``"30s"`` or ``90``, in seconds."""
    try:
        return parse_duration(value, path)
    except DurationError as exc:
        raise ProfileError(exc.problems) from None


def read_count(value: Any, path: str) -> int:
    """A whole number ≥ 0 (agents, steps); ``10.0`` is accepted as 10."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError([(path, f"expected a whole number, got {_short(value)} ({_kind(value)})")])
    if value < 0:
        raise ProfileError([(path, f"must not be negative, got {show_number(value)}")])
    if value > MAX_COUNT:
        raise ProfileError([(path, f"must be at most {MAX_COUNT:,}, got {show_number(value)}")])
    return value


def read_number(value: Any, path: str) -> float:
    """A finite number ≥ 0 (rates, coefficients)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError([(path, f"expected a number, got {value!r} ({_kind(value)})")])
    if not math.isfinite(value):
        raise ProfileError([(path, f"expected a finite number, got {value!r}")])
    if value < 0:
        raise ProfileError([(path, f"must not be negative, got {show_number(value)}")])
    if value > MAX_RATE:
        raise ProfileError([(path, f"must be at most {MAX_RATE:,.0f}, got {show_number(value)}")])
    return float(value) + 0.0


def read_text(value: Any, path: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ProfileError([(path, f"expected a non-empty string, got {value!r}")])
    return value


def read_names(value: Any, path: str) -> tuple[str, ...]:
    """One name or a list of names; a single string is taken as a list of one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ProfileError([(path, f"expected a name or a non-empty list of names, got {value!r}")])
    problems = [
        (f"{path}[{i}]", f"expected a name, got {item!r}")
        for i, item in enumerate(value)
        if not isinstance(item, str) or not item
    ]
    if problems:
        raise ProfileError(problems)
    return tuple(value)


def choice_reader(options: Sequence[str]) -> Reader:
    """A reader that accepts one of ``options``."""

    def read(value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            raise ProfileError([(path, f"expected one of {', '.join(options)}, got {value!r}{hint}")])
        return value

    return read


def _field(reader: Reader, default: Any) -> Any:
    return field(default=default, metadata={READ: reader})


def duration_field(default: Any = MISSING) -> Any:
    """A duration field (seconds); required when no default is given."""
    return _field(read_duration, default)


def count_field(default: Any = MISSING) -> Any:
    """A whole-number field; required when no default is given."""
    return _field(read_count, default)


def number_field(default: Any = MISSING) -> Any:
    """A non-negative number field; required when no default is given."""
    return _field(read_number, default)


def text_field(default: Any = MISSING) -> Any:
    """A string field; required when no default is given."""
    return _field(read_text, default)


def names_field(default: Any = MISSING) -> Any:
    """A list-of-names field; required when no default is given."""
    return _field(read_names, default)


def choice_field(options: Sequence[str], default: Any = MISSING) -> Any:
    """A field that takes one of ``options``; required when no default is given."""
    return _field(choice_reader(options), default)


def custom_field(reader: Reader, default: Any = MISSING) -> Any:
    """A field with its own reader (stage lists)."""
    return _field(reader, default)
