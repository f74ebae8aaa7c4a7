"""The one redaction helper (mcpload.redaction): what messages, the results JSON and recorded error
messages are masked with (the engine kept two copies that masked any secret, however short)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.engine.execute import write_results
from mcpload.engine.recording import OutcomeSink
from mcpload.outcome import RPC_ERROR, Outcome
from mcpload.redaction import MASK, MIN_SECRET, mask, ordered_secrets, redact, redact_all


def test_secrets_are_masked_longest_first_so_no_tail_survives():
    assert redact("token=abcd1234 and abcd", {"abcd", "abcd1234"}) == f"token={MASK} and {MASK}"
    assert ordered_secrets(["abcd", "", "abcdef", "abc"]) == ("abcdef", "abcd")


def test_redact_all_masks_keys_and_values_and_copies_the_document():
    doc = {"url": "http://h/?api_key=s3cret", "s3cret": [("s3cret", 1)], "n": 5}
    out = redact_all(doc, frozenset({"s3cret"}))
    assert out == {"url": f"http://h/?api_key={MASK}", MASK: [[MASK, 1]], "n": 5}
    assert doc["s3cret"] == [("s3cret", 1)]  # the original is left alone


def test_a_short_environment_value_does_not_mangle_the_results_json(tmp_path):
    # ${AGENTS}=5 becomes a scenario secret: masking every "5" made the written document invalid JSON
    results = {"totals": {"calls": 15, "agents": 5}, "target": {"url": "http://127.0.0.1:8555/mcp?token=t0ken-xyz"}}
    path = tmp_path / "results.json"
    write_results(results, path, frozenset({"5", "t0ken-xyz"}))
    written = json.loads(path.read_text())
    assert written["totals"] == {"calls": 15, "agents": 5}
    assert "t0ken-xyz" not in path.read_text() and MASK in written["target"]["url"]


class _Sink:
    def __init__(self) -> None:
        self.messages: list[str | None] = []

    def record(self, outcome: Outcome, retry: object = None, intended_start: object = None) -> None:
        self.messages.append(outcome.error_message)


def test_recorded_error_messages_are_masked_before_the_recorder_sees_them():
    sink = _Sink()
    recording = OutcomeSink(sink, frozenset({"hunter22", "hunter2222"}))
    recording(Outcome(RPC_ERROR, "tools/call", "t", error_message="bad password hunter2222 (hunter22)"))
    assert sink.messages == [f"bad password {MASK} ({MASK})"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.lists(st.text(min_size=1, max_size=8), max_size=5))
def test_no_secret_worth_masking_survives_and_short_ones_are_left_alone(text, secrets):
    out = mask(text, ordered_secrets(secrets))
    for secret in secrets:
        if len(secret) >= MIN_SECRET and MASK not in secret and not any(c in secret for c in MASK):
            assert secret not in out
    assert redact(text, [s for s in secrets if len(s) < MIN_SECRET]) == text
