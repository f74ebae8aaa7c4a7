"""Bounds of the texts built from what servers say or scenarios hold (issue 14 §2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.metrics.recorder import MAX_OPERATIONS, Recorder
from mcpload.outcome import Outcome
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


def test_error_text_shapes():
    from mcpload.transports.exchange import error_text

    page = b"<!DOCTYPE html><html><head><title>Error</title></head><body><pre>Cannot POST /x</pre></body></html>"
    assert error_text(page) == (None, "Cannot POST /x")
    assert error_text(b"<html><title>502 Bad Gateway</title><body>" + b"x" * 100_000) == (None, "502 Bad Gateway")
    assert error_text(b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"No valid session ID"},"id":null}') == (
        -32000,
        "No valid session ID",
    )
    assert error_text(b'{"detail": "Not authenticated"}') == (None, "Not authenticated")
    assert error_text(b'{"error": "invalid_token", "error_description": "expired"}') == (None, "expired")
    assert error_text(b"") == (None, "")
    assert error_text(b"Not Found\n") == (None, "Not Found")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode)))
def test_error_text_is_one_bounded_line(body):
    from mcpload.transports.exchange import ERROR_TEXT_CHARS, error_text

    code, text = error_text(body)
    assert len(text) <= ERROR_TEXT_CHARS and "\n" not in text and all(ch.isprintable() for ch in text)
    assert code is None or isinstance(code, int)


def test_http_errors_never_repeat_the_status():
    from mcpload.transports.exchange import http_failure

    for status in (404, 500, 503, 599):
        failure = http_failure(status, b"", False)
        out = Outcome(failure.kind, "initialize", None, 0.0, 0.0, None, None, failure.message, status)
        assert out.describe().count(str(status)) == 1, out.describe()
    expired = http_failure(404, b"", True)
    out = Outcome(expired.kind, "tools/call", "x", 0.0, 0.0, None, None, expired.message, 404)
    assert out.describe().count("404") == 1, out.describe()


def test_startup_end():
    from mcpload.monitor.derive import startup_end

    def iv(t, sessions, calls):
        return {"t": t, "sessions_started": sessions, "calls": calls}

    assert startup_end([iv(1, 2, 5), iv(2, 0, 9), iv(3, 0, 9)]) == 1
    assert startup_end([iv(1, 0, 0), iv(2, 2, 3), iv(3, 0, 9)]) == 2  # a spawn slower than an interval
    assert startup_end([iv(1, 1, 5), iv(2, 1, 9), iv(3, 1, 9)]) is None  # sessions open all along
    assert startup_end([iv(1, 2, 5), iv(2, 0, 0)]) is None  # no steady state after it
    assert startup_end([iv(1, 0, 4), iv(2, 0, 9)]) is None  # calls before any session: nothing to set apart
    assert startup_end([]) is None
