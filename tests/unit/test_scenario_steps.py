"""Step helpers the engine relies on: retry policies, weighted choice, walking, ${ENV} interpolation."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from mcpload.scenario import Branch, Call, Choice, Parallel, Ping, Repeat, ScenarioError, compile_args, walk
from mcpload.scenario.distributions import ConstantCount
from mcpload.scenario.interpolation import interpolate
from mcpload.scenario.retry import DEFAULT_ON, parse_retry
from mcpload.scenario.workflow import parse_step


def test_retry_defaults_and_shorthand():
    policy = parse_retry(3, "retry")
    assert (policy.attempts, policy.multiplier, policy.on) == (3, 2.0, DEFAULT_ON)
    assert policy.on == {"timeout", "transport", "http_error", "session_expired"}
    assert policy.delay(0, random.Random(1)) == 0.5
    assert policy.delay(2, random.Random(1)) == 2.0


def test_retry_attempts_and_kinds():
    policy = parse_retry({"attempts": 2, "backoff": "100ms..200ms", "multiplier": 3, "on": "tool_error"}, "retry")
    assert policy.should_retry("tool_error", 0)
    assert not policy.should_retry("tool_error", 1)  # the second attempt was the last
    assert not policy.should_retry("timeout", 0)
    assert 0.3 <= policy.delay(1, random.Random(2)) <= 0.6


def test_retry_after_is_waited_only_when_the_policy_asks():
    plain = parse_retry({"attempts": 2, "backoff": "100ms"}, "retry")
    assert plain.respect_retry_after is False
    assert plain.wait(0, random.Random(1), 1.0) == 0.1
    polite = parse_retry({"attempts": 2, "backoff": "100ms", "respect_retry_after": True}, "retry")
    assert polite.wait(0, random.Random(1), 1.0) == 1.0  # the server asked for longer than the backoff
    assert polite.wait(0, random.Random(1), 0.01) == 0.1  # the backoff is longer
    assert polite.wait(0, random.Random(1), None) == 0.1  # no Retry-After header


def test_retry_after_header_values():
    from mcpload.transports.exchange import http_failure, retry_after_seconds

    assert retry_after_seconds("2") == 2.0 and retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds("-3") == 0.0 and retry_after_seconds("86400") == 300.0  # clamped
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None and retry_after_seconds(None) is None
    failure = http_failure(429, b"slow down", False, "1")
    assert (failure.kind, failure.http_status, failure.retry_after) == ("http_error", 429, 1.0)


def test_retry_errors():
    with pytest.raises(ScenarioError) as info:
        parse_retry("3", "retry")
    assert str(info.value) == "retry: expected attempts (a number) or a mapping {attempts, backoff, multiplier, on}"
    with pytest.raises(ScenarioError) as info:
        parse_retry({"attempts": 2, "multiplier": 0.5}, "retry")
    assert str(info.value) == "retry.multiplier: must be at least 1, got 0.5"


def test_choice_picks_by_weight():
    heavy, light = Branch(3, (Ping(path="a"),)), Branch(1, ())
    choice = Choice(path="c", branches=(heavy, light))
    rng = random.Random(3)
    counts = Counter(choice.pick(rng) is heavy for _ in range(8000))
    assert counts[True] / 8000 == pytest.approx(0.75, abs=0.02)


def test_walk_visits_nested_steps_in_order():
    inner = Call(path="p0", tool="a", args=compile_args({}, "args"))
    steps = (
        Parallel(path="p", steps=(inner,)),
        Repeat(path="r", count=ConstantCount(2), steps=(Ping(path="r0"),)),
        Choice(path="c", branches=(Branch(1, (Ping(path="c0"),)),)),
    )
    assert [step.path for step in walk(steps)] == ["p", "p0", "r", "r0", "c", "c0"]


def test_bare_and_long_request_steps():
    assert parse_step("list_tools", "s").kind == "list_tools"
    step = parse_step({"ping": None, "timeout": "2s", "retry": 2}, "s")
    assert (step.method, step.timeout, step.retry.attempts) == ("ping", 2.0, 2)
    uri = parse_step({"read_resource": {"uri": "doc://{{ agent.index }}"}}, "s").uri
    assert not uri.is_literal
    prompt = parse_step({"get_prompt": "summarize"}, "s")
    assert (prompt.name, prompt.args.literal) == ("summarize", {})


def test_interpolation():
    env = {"TOKEN": "s3cret", "EMPTY": "", "PORT": "81"}
    value, secrets = interpolate(
        {
            "a": "Bearer ${TOKEN}",
            "b": ["${EMPTY:-fallback}", "${MISSING:-}", "$${TOKEN}", "x${PORT}y${PORT}"],
            "n": 3,
            "${TOKEN}": "keys stay",
        },
        env,
    )
    assert value == {
        "a": "Bearer s3cret",
        "b": ["fallback", "", "${TOKEN}", "x81y81"],
        "n": 3,
        "${TOKEN}": "keys stay",
    }
    assert secrets == {"s3cret", "81"}


def test_interpolation_errors_name_the_path():
    with pytest.raises(ScenarioError) as info:
        interpolate({"target": {"headers": ["ok", "${NOPE}"]}}, {})
    assert str(info.value) == "target.headers[1]: environment variable NOPE is not set (or use ${NOPE:-default})"
