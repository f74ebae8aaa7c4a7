"""What every pass/fail criterion shares: a comparison operator, and a duration with its unit.

Thresholds (``p(95) < 400ms``), ``compare --assert`` (``p95_delta < 10%``, ``p95_delta < 20ms``) and
capacity SLOs (``p95 <= 0.4s``) each accept their own subset (an SLO bounds latency from above; an
assertion takes ``ms`` and ``s``), but what an operator or a unit means is defined here, once.
Durations are read into milliseconds, the unit of every latency in the results.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
#: the operators as regular-expression alternatives, two-character ones first (``<=`` is not ``<``)
OPERATOR_PATTERN = "|".join(re.escape(op) for op in sorted(OPERATORS, key=len, reverse=True))
#: the operators that bound a value from above
UPPER_BOUNDS = ("<", "<=")

#: milliseconds per unit
DURATION_UNITS_MS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
UNITS_TEXT = "us, ms, s, m, h"
# Spellings too far from the real unit for a fuzzy match to find it.
_UNIT_SPELLINGS = {"sec": "s", "secs": "s", "second": "s", "seconds": "s", "msec": "ms", "millis": "ms", "min": "m"}
#: a decimal number, optionally signed, with an optional exponent (``400``, ``1.5``, ``.5``, ``1e3``)
NUMBER_PATTERN = r"[+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
_DURATION = re.compile(rf"^({NUMBER_PATTERN})\s*([^\s0-9]*)$")


class LimitError(ValueError):
    """A value that is not a duration."""


class UnknownUnitError(LimitError):
    """A number with a unit that is not a duration unit; ``unit`` is the unit as written."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        super().__init__(f"unknown unit {unit!r} (units: {UNITS_TEXT})")


def holds(value: float, op: str, limit: float) -> bool:
    """``value OP limit``, ``op`` a key of ``OPERATORS``."""
    return OPERATORS[op](value, limit)


def to_ms(number: float, unit: str) -> float:
    """``number`` ``unit``\\ s in milliseconds; ``unit`` a key of ``DURATION_UNITS_MS``."""
    return number * DURATION_UNITS_MS[unit]


def parse_duration_ms(value: object, default_unit: str = "ms") -> float:
    """A duration in milliseconds: ``400ms``, ``1.5s``, ``2m``, ``500us``; a bare number (or a number
    as text) is in ``default_unit``.

    Raises:
        UnknownUnitError: a number with an unknown unit (``exc.unit``; see ``unit_meant``).
        LimitError: anything else that is not a duration (booleans, other types, text).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LimitError(f"expected a duration like '400ms' or '2s', got {value!r}")
    match = _DURATION.match(str(value).strip())
    if not match:
        raise LimitError(f"expected a duration like '400ms' or '2s', got {value!r}")
    unit = match.group(2) or default_unit
    if unit not in DURATION_UNITS_MS:
        raise UnknownUnitError(unit)
    return to_ms(float(match.group(1)), unit)


def unit_meant(unit: str) -> str | None:
    """The duration unit a common long spelling stands for (``sec`` → ``s``, ``millis`` → ``ms``), else None."""
    return _UNIT_SPELLINGS.get(unit)
