"""Glue between the sessions' outcome callback and the recorder: which attempt is a retry, which
open-model arrival a session belongs to. Context variables follow each task (``parallel`` branches
included) without the session knowing about metrics."""

from __future__ import annotations

from contextvars import ContextVar

from mcpload.mcp.outcome import INTERRUPTED, Outcome

#: True while an agent re-sends a call under its retry policy
retrying: ContextVar[bool] = ContextVar("mcpload_retrying", default=False)


class OutcomeSink:
    """The ``on_outcome`` of every agent's session: records into the run's recorder.

    ``interrupted`` outcomes (the run stopping) are counted apart: they are the load tester's doing,
    never the server's, so they stay out of success ratios and latency.
    """

    __slots__ = ("interrupted", "recorder")

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self.interrupted = 0

    def __call__(self, outcome: Outcome, intended_start: float | None = None) -> None:
        if outcome.kind == INTERRUPTED:
            self.interrupted += 1
            return
        self.recorder.record(outcome, retry=retrying.get(), intended_start=intended_start)
