"""Call step options (progress, task, abandon): parsing, errors with their path, and the clamps on
what a server says (a task's poll interval)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.mcp.tasks import MAX_POLL_S, MIN_POLL_S, poll_interval
from mcpload.scenario import Scenario, ScenarioError
from mcpload.scenario.steps import Abandon
from mcpload.scenario.workflow import parse_step


def test_defaults_keep_the_plain_path():
    step = parse_step({"call": "x"}, "w[0]")
    assert (step.progress, step.task, step.abandon, step.extended) == (False, None, None, False)


def test_options_parse():
    step = parse_step({"call": "x", "progress": True, "task": False, "abandon": {"share": 0.2, "after": "2s"}}, "w")
    assert step.progress and step.task is False and step.abandon == Abandon(0.2, 2.0) and step.extended
    assert parse_step({"call": "x", "task": "auto"}, "w").task is None
    assert parse_step({"call": "x", "task": True}, "w").extended


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"progress": "yes"}, "w.progress"),
        ({"task": "sometimes"}, "w.task"),
        ({"abandon": {"share": 2, "after": "1s"}}, "w.abandon.share"),
        ({"abandon": {"share": 0.1}}, "w.abandon"),
        ({"abandon": {"share": 0.1, "after": "soon"}}, "w.abandon.after"),
        ({"abandon": 0.5}, "w.abandon"),
    ],
)
def test_bad_options_name_their_path(extra, where):
    with pytest.raises(ScenarioError) as err:
        parse_step({"call": "x", **extra}, "w")
    assert err.value.path == where, str(err.value)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.integers(), st.floats(allow_nan=True)))
def test_poll_interval_is_clamped(value):
    wait = poll_interval({"pollInterval": value})
    assert MIN_POLL_S <= wait <= MAX_POLL_S


def test_answers_parse_and_declare():
    from mcpload.scenario.answers import parse_answers

    answers = parse_answers({"sampling": "hi", "elicitation": "decline", "roots": [{"uri": "file:///x"}]})
    assert answers["sampling/createMessage"]["content"] == {"type": "text", "text": "hi"}
    assert answers["elicitation/create"] == {"action": "decline"}
    assert answers["roots/list"] == {"roots": [{"uri": "file:///x"}]}
    assert parse_answers(None) == {}


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"samplin": "x"}, "answers"),
        ({"elicitation": "maybe"}, "answers.elicitation"),
        ({"elicitation": {"action": "decline", "content": {}}}, "answers.elicitation.content"),
        ({"roots": [{"uri": "https://x"}]}, "answers.roots[0].uri"),
        ({"sampling": {"content": "text"}}, "answers.sampling.content"),
        ({"roots": "file:///x"}, "answers.roots"),
    ],
)
def test_bad_answers_name_their_path(value, where):
    from mcpload.scenario.answers import parse_answers

    with pytest.raises(ScenarioError) as err:
        parse_answers(value)
    assert err.value.path == where, str(err.value)


def test_oauth_target_parses_and_its_secret_is_redacted():
    from mcpload.mcp.oauth import OAuthConfig

    data = {
        "target": {"url": "https://mcp.example.com/mcp", "oauth": {"client_id": "c", "client_secret_env": "SEC"}},
        "agents": {"a": {"workflow": ["ping"]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
    scenario = Scenario.from_dict(data, env={"SEC": "hunter2"})
    assert scenario.target.oauth == OAuthConfig("c", "SEC")
    assert "hunter2" in scenario.secrets
    assert scenario.to_target().candidate_transports() == ["http"]


@pytest.mark.parametrize(
    ("oauth", "where"),
    [
        ({"client_id": "c"}, "target.oauth"),
        ({"client_id": "c", "client_secret_env": "not a var!"}, "target.oauth"),
        ({"client_id": "c", "client_secret_env": "S", "token_url": "ftp://x"}, "target.oauth.token_url"),
        ({"client_id": "c", "client_secret_env": "S", "shared": "yes"}, "target.oauth.shared"),
    ],
)
def test_bad_oauth_names_its_path(oauth, where):
    data = {
        "target": {"url": "https://mcp.example.com/mcp", "oauth": oauth},
        "agents": {"a": {"workflow": ["ping"]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    assert err.value.path == where, str(err.value)
