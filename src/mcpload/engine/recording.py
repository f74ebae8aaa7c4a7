"""Glue between the sessions' outcome callback and the recorder: which attempt is a retry, which
open-model arrival a session belongs to. Context variables follow each task (``parallel`` branches
included) without the session knowing about metrics."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from mcpload.outcome import INTERRUPTED, Outcome
from mcpload.redaction import mask, ordered_secrets

if TYPE_CHECKING:
    from mcpload.metrics import Recorder

#: True while an agent re-sends a call under its retry policy
retrying: ContextVar[bool] = ContextVar("mcpload_retrying", default=False)
#: set by a call an agent may abandon (``abandon`` step option): ``[True]`` once it did
abandoning: ContextVar[list[bool] | None] = ContextVar("mcpload_abandoning", default=None)


class OutcomeSink:
    """The ``on_outcome`` of every agent's session: records into the run's recorder.

    ``interrupted`` outcomes (the run stopping) are counted apart: they are the load tester's doing,
    never the server's, so they stay out of success ratios and latency.
    """

    __slots__ = ("interrupted", "recorder", "secrets")

    def __init__(self, recorder: Recorder, secrets: frozenset[str] = frozenset()) -> None:
        self.recorder = recorder
        self.interrupted = 0
        self.secrets = ordered_secrets(secrets)

    def __call__(self, outcome: Outcome, intended_start: float | None = None) -> None:
        if outcome.kind == INTERRUPTED:
            flag = abandoning.get()
            if flag is None or not flag[0]:  # an abandoned call is noted as "cancelled" by the agent
                self.interrupted += 1
            return
        if self.secrets and outcome.error_message:
            # before the recorder truncates messages: a secret cut in two would escape redaction
            outcome.error_message = mask(outcome.error_message, self.secrets)
        self.recorder.record(outcome, retry=retrying.get(), intended_start=intended_start)
