"""Bounds of the texts built from what servers say or scenarios hold (issue 14 §2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.mcp.outcome import Outcome
from mcpload.metrics.recorder import MAX_OPERATIONS, Recorder
from mcpload.scenario.steps import MAX_OPERATION_NAME, uri_template_name
from mcpload.transports.stdio import STDERR_EXCERPT, stderr_excerpt


def test_uri_template_names():
    assert uri_template_name("docs://{{ saved.id }}/x") == "docs://{saved.id}/x"
    assert uri_template_name("a://{{-  data('u').uri  -}}") == "a://{data('u').uri}"
    assert uri_template_name("a://{% if x %}b{% endif %}") == "a://{…}b{…}"
    assert uri_template_name("file:///plain") == "file:///plain"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_uri_template_name_is_bounded(source):
    assert len(uri_template_name(source)) <= MAX_OPERATION_NAME


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000))
def test_stderr_excerpt_is_one_bounded_line(text):
    excerpt = stderr_excerpt(text)
    assert len(excerpt) <= STDERR_EXCERPT + len("; stderr: ")
    assert "\n" not in excerpt and "\r" not in excerpt
    assert all(ch.isprintable() for ch in excerpt)


def test_stderr_excerpt_keeps_the_end():
    text = "noise\n" * 1000 + "Traceback\nKeyError: 'API_KEY'\n"
    assert stderr_excerpt(text).endswith("Traceback | KeyError: 'API_KEY'")
    assert stderr_excerpt("\n \n") == ""


def test_operations_are_bounded():
    rec = Recorder()
    for i in range(MAX_OPERATIONS + 50):
        rec.record(Outcome("ok", "resources/read", f"x://{i}", 0.0, 0.001))
    table = rec._ops
    assert len(table) == MAX_OPERATIONS + 1
    assert table["resources/read (other)"].kinds["ok"] == 50
