"""The "did you mean …?" hint of every input error (scenario, profiles, thresholds, compare, preflight).

One matcher and one wording for all of them. It sits at the bottom of the stack and imports only the
standard library, so that every layer (profiles, which imports nothing of ours, included) can use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's similarity ratio a choice needs to be offered


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (difflib's ratio, at least ``CUTOFF``), or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=CUTOFF)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or an empty string.

    The choice is shown as ``repr`` shows it: quoted, and escaped when it holds a quote or a control
    character (a name from a user's file reaches the terminal only that way).
    """
    choice = closest(word, choices)
    return f" (did you mean {choice!r}?)" if choice is not None else ""
