"""Retry policies of request steps: how many attempts, which outcomes, and how long to back off."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpload.outcome import HTTP_ERROR, KINDS, OK, SESSION_EXPIRED, TIMEOUT, TRANSPORT
from mcpload.scenario.checks import (
    check_keys,
    expect_bool,
    expect_int,
    expect_list,
    expect_number,
    expect_str,
    join,
)
from mcpload.scenario.distributions import Constant, Distribution, parse_distribution
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean

RETRYABLE = tuple(kind for kind in KINDS if kind != OK)
DEFAULT_ON = frozenset({TIMEOUT, TRANSPORT, HTTP_ERROR, SESSION_EXPIRED})
# Retrying at once would turn an overloaded server into a retry storm; wait a little by default.
DEFAULT_BACKOFF: Distribution = Constant(0.5)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how a request step is tried again.

    Attributes:
        attempts: Total attempts, the first included (1 means no retry).
        backoff: The wait before the first retry (a distribution, so retries can be jittered).
        multiplier: Each later wait is the previous one times this (exponential backoff).
        on: The outcome kinds that are retried (names from ``mcpload.outcome.KINDS``).
        respect_retry_after: Wait at least what an HTTP ``Retry-After`` header asks for.
    """

    attempts: int
    backoff: Distribution = DEFAULT_BACKOFF
    multiplier: float = 2.0
    on: frozenset[str] = DEFAULT_ON
    respect_retry_after: bool = False

    def should_retry(self, kind: str, attempt: int) -> bool:
        """Whether attempt ``attempt`` (0-based) that ended with outcome ``kind`` is tried again."""
        return attempt + 1 < self.attempts and kind in self.on

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based) before the next one.

        ``backoff`` after the first attempt, then times ``multiplier`` after each further one.
        """
        return self.backoff.sample(rng) * self.multiplier**attempt

    def wait(self, attempt: int, rng: random.Random, retry_after: float | None) -> float:
        """The wait before the next attempt: the backoff, or the server's ``Retry-After`` if longer
        and the policy respects it."""
        backoff = self.delay(attempt, rng)
        if self.respect_retry_after and retry_after is not None:
            return max(backoff, retry_after)
        return backoff


def parse_retry(value: Any, path: str) -> RetryPolicy:
    """A retry policy: ``3`` (attempts) or ``{attempts, backoff?, multiplier?, on?, respect_retry_after?}``.

    Raises:
        ScenarioError: with the path of the offending value; unknown outcome kinds get a suggestion.
    """
    if not isinstance(value, Mapping):
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"attempts": value}
        else:
            raise ScenarioError("expected attempts (a number) or a mapping {attempts, backoff, multiplier, on}", path)
    keys = ("attempts", "backoff", "multiplier", "on", "respect_retry_after")
    check_keys(value, keys, path, required=("attempts",))
    attempts = expect_int(value["attempts"], join(path, "attempts"), minimum=1)
    backoff = parse_distribution(value["backoff"], join(path, "backoff")) if "backoff" in value else DEFAULT_BACKOFF
    multiplier = expect_number(value.get("multiplier", 2.0), join(path, "multiplier"), minimum=1)
    on = DEFAULT_ON
    if "on" in value:
        raw = value["on"]
        items = [raw] if isinstance(raw, str) else expect_list(raw, join(path, "on"), non_empty=True)
        kinds = set()
        for i, item in enumerate(items):
            at = join(join(path, "on"), i) if not isinstance(raw, str) else join(path, "on")
            kind = expect_str(item, at)
            if kind not in RETRYABLE:
                why = " (ok is never retried)" if kind == OK else did_you_mean(kind, RETRYABLE)
                raise ScenarioError(f"unknown outcome kind '{kind}'{why}", at)
            kinds.add(kind)
        on = frozenset(kinds)
    respect = expect_bool(value.get("respect_retry_after", False), join(path, "respect_retry_after"))
    return RetryPolicy(attempts, backoff, multiplier, on, respect)
