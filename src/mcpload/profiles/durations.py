"""Durations as people write them in scenario files ("500ms", "1m30s", 90) and back.

Dependency-free so that the scenario package can reuse it for its own durations.
"""

from __future__ import annotations

import math
import re

from mcpload.inputs import MAX_DURATION_S

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# One or more number+unit parts, e.g. "1h", "1m30s", "1.5m", "250ms"; "ms" before "m" so that it wins.
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_HINT = "use e.g. 500ms, 2s, 1.5m, 1h, 1m30s or a number of seconds"


class DurationError(ValueError):
    """A value that is not a duration; ``path`` says where it was found.

    Carries ``problems`` (a list of one ``(path, message)`` pair) like ``ProfileError`` does, so that
    callers collecting problems can treat both alike.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        self.problems = [(path, message)]
        super().__init__(f"{path}: {message}" if path else message)


def parse_duration(value: object, path: str = "") -> float:
    """Read a duration in seconds.

    Args:
        value: a number of seconds (int or float), or a string: a bare number ("30", "1.5") or one or
            more number+unit parts with units ``ms``, ``s``, ``m``, ``h`` ("500ms", "1.5m", "1m30s").
        path: where the value came from, used in the error message (e.g. ``profiles[0].duration``).

    Returns:
        The duration in seconds, never negative.

    Raises:
        DurationError: the value is not a duration, or is negative, infinite or NaN.
    """
    if isinstance(value, bool):  # bool is an int subclass; `true` is never meant as 1 second
        raise DurationError(path, f"expected a duration, got {value!r} ({_HINT})")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value.strip(), path)
    else:
        raise DurationError(path, f"expected a duration, got {type(value).__name__} ({_HINT})")
    if math.isnan(seconds) or math.isinf(seconds):
        raise DurationError(path, f"expected a finite duration, got {value!r}")
    if seconds < 0:
        raise DurationError(path, f"must not be negative, got {value!r}")
    if seconds > MAX_DURATION_S:
        raise DurationError(path, f"must be at most 720h (30 days), got {_shown(value)}")
    return seconds + 0.0  # -0.0 is 0.0


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…"


def _parse_text(text: str, path: str) -> float:
    if text.startswith("-"):
        raise DurationError(path, f"must not be negative, got {_shown(text)}")
    try:
        return float(text)  # a bare number of seconds
    except ValueError:
        pass
    total, pos, seen = 0.0, 0, set()
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        unit = match.group(2)
        if unit in seen:  # "1m2m" is almost certainly a typo
            raise DurationError(path, f"invalid duration {text!r}: unit {unit!r} given twice")
        seen.add(unit)
        total += float(match.group(1)) * _UNITS[unit]
        pos = match.end()
    if pos == 0 or pos != len(text):
        raise DurationError(path, f"invalid duration {_shown(text)} ({_HINT})")
    return total


def format_duration(seconds: float) -> str:
    """Write seconds the way ``parse_duration`` reads them: 90 → "1m30s", 0.25 → "250ms", 3600 → "1h".

    Args:
        seconds: a non-negative number of seconds.

    Returns:
        The shortest unit form, exact to the millisecond.
    """
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = rest / 1000
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs:
        parts.append(f"{secs:g}s")
    return "".join(parts)
