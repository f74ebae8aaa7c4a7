"""The operators and duration units that thresholds, ``compare --assert`` and capacity SLOs share
(``metrics/limits.py``), and that the three read them alike."""

from __future__ import annotations

import operator
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.capacity.slo import parse_slo
from mcpload.compare import parse_assertion
from mcpload.metrics.limits import (
    DURATION_UNITS_MS,
    OPERATOR_PATTERN,
    OPERATORS,
    UPPER_BOUNDS,
    LimitError,
    UnknownUnitError,
    holds,
    parse_duration_ms,
    to_ms,
    unit_meant,
)
from mcpload.metrics.thresholds import ThresholdError, parse_thresholds

PYTHON = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@pytest.mark.parametrize("op", sorted(PYTHON))
@pytest.mark.parametrize(("value", "limit"), [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0), (-0.0, 0.0)])
def test_operators_mean_what_python_means(op: str, value: float, limit: float) -> None:
    assert holds(value, op, limit) is PYTHON[op](value, limit)


def test_the_operator_pattern_finds_the_longest_operator() -> None:
    assert set(OPERATORS) == set(PYTHON)
    for op in OPERATORS:
        found = re.search(OPERATOR_PATTERN, f"p95 {op} 3")
        assert found is not None and found.group(0) == op
    assert set(UPPER_BOUNDS) == {"<", "<="}


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("400ms", 400.0),
        ("1.5s", 1500.0),
        ("2m", 120_000.0),
        ("1h", 3_600_000.0),
        ("500us", 0.5),
        ("500µs", 0.5),
        (" 250 ms ", 250.0),
        ("1e3ms", 1000.0),
        (".5s", 500.0),
        (400, 400.0),
        (2.5, 2.5),
        ("7", 7.0),
    ],
)
def test_durations_are_read_in_milliseconds(text: object, ms: float) -> None:
    assert parse_duration_ms(text) == pytest.approx(ms)


def test_a_bare_number_takes_the_default_unit() -> None:
    assert parse_duration_ms(3, "s") == 3000.0
    assert parse_duration_ms("3", "s") == 3000.0
    assert parse_duration_ms("3ms", "s") == 3.0


@pytest.mark.parametrize("bad", [True, None, [1], {"a": 1}, "", "fast", "ms", "1 2s", "inf", "nan"])
def test_what_is_not_a_duration_is_refused(bad: object) -> None:
    with pytest.raises(LimitError) as caught:
        parse_duration_ms(bad)
    assert not isinstance(caught.value, UnknownUnitError)
    assert "expected a duration" in str(caught.value)


@pytest.mark.parametrize(
    ("unit", "meant"), [("sec", "s"), ("seconds", "s"), ("millis", "ms"), ("min", "m"), ("d", None)]
)
def test_an_unknown_unit_is_named_with_the_unit_meant(unit: str, meant: str | None) -> None:
    with pytest.raises(UnknownUnitError) as caught:
        parse_duration_ms(f"5{unit}")
    assert caught.value.unit == unit
    assert unit_meant(unit) == meant


@settings(max_examples=200, deadline=None)
@given(
    number=st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(sorted(DURATION_UNITS_MS)),
)
def test_any_number_with_any_unit_reads_back(number: float, unit: str) -> None:
    text = f"{number!r}{unit}"
    assert parse_duration_ms(text) == to_ms(float(repr(number)), unit)


@pytest.mark.parametrize(("written", "ms"), [("400ms", 400.0), ("0.4s", 400.0), ("500us", 0.5), ("1m", 60_000.0)])
def test_thresholds_slos_and_assertions_read_a_duration_alike(written: str, ms: float) -> None:
    (threshold,) = parse_thresholds({"latency": [f"p(95) < {written}"]})
    assert threshold.limit == pytest.approx(ms)
    assert parse_slo(f"p95 <= {written}").limit == pytest.approx(ms)
    if written.endswith(("ms", "s")) and not written.endswith("us"):
        assert parse_assertion(f"p95_delta < {written}").limit == pytest.approx(ms)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_thresholds_and_assertions_take_every_operator(op: str) -> None:
    (threshold,) = parse_thresholds({"calls": [f"count {op} 5"]})
    assert threshold.op == op
    assert parse_assertion(f"p95_delta {op} 5%").op == op


def test_an_slo_takes_the_bounds_only() -> None:
    assert parse_slo("success_rate > 0.9").op == ">"
    assert parse_slo("p95 < 1s").op == "<"
    for op in ("==", "!="):
        with pytest.raises(ValueError):
            parse_slo(f"p95 {op} 1s")


def test_a_threshold_with_an_unknown_unit_says_which_was_meant() -> None:
    with pytest.raises(ThresholdError) as caught:
        parse_thresholds({"latency": ["p(95) < 4secs"]})
    assert caught.value.problems == [
        "thresholds.latency[0]: unknown unit 'secs' (did you mean 's'?) (units: us, ms, s, m, h)"
    ]
