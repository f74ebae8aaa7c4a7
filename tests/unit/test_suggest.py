"""The one "did you mean …?" helper every input error uses (mcpload.suggest)."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.suggest import closest, did_you_mean

CHOICES = ["constant-agents", "ramping-agents", "arrival-rate", "ramping-arrival-rate"]


def test_a_close_word_gets_the_closest_choice_quoted():
    assert closest("ramping-agent", CHOICES) == "ramping-agents"
    assert did_you_mean("ramping-agent", CHOICES) == " (did you mean 'ramping-agents'?)"


def test_nothing_close_gives_none_and_an_empty_hint():
    assert closest("zzzzzz", CHOICES) is None
    assert did_you_mean("zzzzzz", CHOICES) == ""
    assert did_you_mean("anything", []) == ""


def test_any_iterable_of_choices_is_read_once():
    assert did_you_mean("lognormall", (c for c in ("normal", "lognormal", "pareto"))) == " (did you mean 'lognormal'?)"
    assert did_you_mean("sevrity", {"severity": 1, "metric": 2}) == " (did you mean 'severity'?)"


def test_a_choice_with_quotes_or_control_characters_is_shown_escaped():
    assert did_you_mean("it's", ["it's"]) == """ (did you mean "it's"?)"""
    assert "\x1b" not in did_you_mean("red\x1b[31m", ["red\x1b[31m"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.lists(st.text(max_size=12), max_size=8))
def test_the_hint_names_difflibs_best_match_and_only_a_choice(word, choices):
    expected = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    assert closest(word, choices) == (expected[0] if expected else None)
    hint = did_you_mean(word, choices)
    assert hint == (f" (did you mean {expected[0]!r}?)" if expected else "")
