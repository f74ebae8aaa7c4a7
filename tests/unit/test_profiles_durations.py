import pytest

from mcpload.profiles import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("2s", 2.0),
        ("1.5m", 90.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1h2m3.5s", 3723.5),
        (" 30s ", 30.0),
        ("30", 30.0),
        ("0.25", 0.25),
        (".5s", 0.5),
        (90, 90.0),
        (1.5, 1.5),
        (0, 0.0),
    ],
)
def test_parse_duration(value, seconds):
    assert parse_duration(value, "x") == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "invalid duration 'abc'"),
        ("5x", "invalid duration '5x'"),
        ("", "invalid duration ''"),
        ("1m 30s", "invalid duration"),
        ("1m2m", "unit 'm' given twice"),
        ("-1s", "must not be negative"),
        (-3, "must not be negative"),
        (True, "expected a duration"),
        (None, "expected a duration, got NoneType"),
        ([1], "expected a duration, got list"),
        (float("inf"), "finite"),
        ("nan", "finite"),
    ],
)
def test_parse_duration_rejects(value, message):
    with pytest.raises(DurationError) as caught:
        parse_duration(value, "profiles[0].duration")
    assert str(caught.value).startswith("profiles[0].duration: ")
    assert message in str(caught.value)
    assert caught.value.problems == [("profiles[0].duration", caught.value.message)]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (0.25, "250ms"), (2, "2s"), (90, "1m30s"), (3600, "1h"), (3723.5, "1h2m3.5s")]
)
def test_format_duration_round_trips(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
