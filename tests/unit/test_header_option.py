"""``-H/--header`` parsing (inputs.parse_headers): a bad value is refused in one line that never repeats
what may be a secret — the class behind ``-H 'Authorization Bearer xyz'`` (the colon forgotten)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.inputs import parse_headers

SECRET = "s3cr3t-t0ken-value"


@pytest.mark.parametrize(
    "raw",
    [
        f"Authorization Bearer {SECRET}",
        f"Authorization={SECRET}",
        SECRET,
        f"   {SECRET}   ",
        f": {SECRET}",
    ],
)
def test_a_header_without_a_name_and_colon_is_refused_without_repeating_it(raw):
    with pytest.raises(ValueError) as caught:
        parse_headers(["X-Ok: 1", raw])
    message = str(caught.value)
    assert message.startswith("--header #2: expected 'Name: value'")
    assert SECRET not in message and "s3cr" not in message and "\n" not in message


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters=":"), min_size=4, max_size=60))
def test_no_colon_never_echoes_any_of_the_value(raw):
    with pytest.raises(ValueError) as caught:
        parse_headers([raw])
    assert str(caught.value) == "--header #1: expected 'Name: value' (the value is not shown: it may be a secret)"


def test_good_headers_parse_and_a_bad_value_names_only_the_header():
    assert parse_headers(["X-A: 1", "Authorization:  Bearer x "]) == {"X-A": "1", "Authorization": "Bearer x"}
    with pytest.raises(ValueError) as caught:
        parse_headers([f"Authorization: Bearer {SECRET}\x01"])
    assert SECRET not in str(caught.value) and "Authorization" in str(caught.value)
