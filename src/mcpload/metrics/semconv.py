"""What OpenTelemetry's MCP conventions need beyond the recorder's own figures: the latency of
failed calls per operation and ``error.type``, and the lifetime of sessions. Kept apart from the
recorder's hot path: only failed calls and session ends reach it.

``error.type`` follows the conventions: the JSON-RPC error code (``-32602``) for an ``rpc_error``,
the HTTP status (``503``) for an ``http_error``, else the outcome kind (``tool_error`` for
``isError: true``, ``timeout``, ``transport``, ``protocol``, ``session_expired``, ``interrupted``).
At most ``MAX_KEYS`` (operation, error.type) pairs are kept; later ones count as ``_OTHER``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hdrh.histogram import HdrHistogram

from mcpload.metrics.histogram import Timing
from mcpload.outcome import Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mcpload.metrics.counters import OpStats

MAX_KEYS = 200
OTHER = "_OTHER"
SESSION_OK = ""  # the key of sessions that ended without an error


def error_type(outcome: Outcome) -> str:
    """``error.type`` of a failed call (see the module docstring)."""
    kind = outcome.kind
    if kind == "rpc_error" and outcome.error_code is not None:
        return str(outcome.error_code)
    if kind == "http_error" and outcome.http_status is not None:
        return str(outcome.http_status)
    return kind


class SemconvTimings:
    """Failed-call latency by (operation, error.type) and session lifetime by error.type."""

    __slots__ = ("failed", "sessions")

    def __init__(self) -> None:
        self.failed: dict[tuple[str, str], Timing] = {}
        self.sessions: dict[str, Timing] = {}

    def call_failed(self, op: str, etype: str, seconds: float) -> None:
        key = (op, etype)
        timing = self.failed.get(key)
        if timing is None:
            if len(self.failed) >= MAX_KEYS:
                key = (op, OTHER)
                timing = self.failed.get(key)
            if timing is None:
                timing = self.failed[key] = Timing()
        timing.add(seconds)

    def session_ended(self, seconds: float, etype: str = SESSION_OK) -> None:
        timing = self.sessions.get(etype)
        if timing is None:
            timing = self.sessions[etype] = Timing()
        timing.add(seconds)

    def flush(self) -> None:
        for timing in (*self.failed.values(), *self.sessions.values()):
            timing.flush()

    # workers: drain → absorb, and exact merges
    def drain(self) -> dict[str, list[list[Any]]] | None:
        """``{"f": [[op, error.type, drained timing]], "s": [[error.type, drained timing]]}``: plain data
        for ``absorb`` (JSON- and pickle-safe), None when nothing was recorded."""
        failed = [[op, e, d] for (op, e), t in self.failed.items() if (d := t.drain()) is not None]
        sessions = [[e, d] for e, t in self.sessions.items() if (d := t.drain()) is not None]
        return {"f": failed, "s": sessions} if failed or sessions else None

    def absorb(self, drained: dict[str, list[list[Any]]]) -> None:
        for op, etype, part in drained.get("f", ()):
            key = (op, etype) if (op, etype) in self.failed or len(self.failed) < MAX_KEYS else (op, OTHER)
            self.failed.setdefault(key, Timing()).absorb(part)
        for etype, part in drained.get("s", ()):
            self.sessions.setdefault(etype, Timing()).absorb(part)

    def merge(self, other: SemconvTimings) -> None:
        for key, timing in other.failed.items():
            self.failed.setdefault(key, Timing()).merge(timing)
        for etype, timing in other.sessions.items():
            self.sessions.setdefault(etype, Timing()).merge(timing)


def cumulative(timing: Timing) -> tuple[HdrHistogram, int]:
    """The run-so-far histogram (µs) of ``timing`` and the exact sum of its values (µs)."""
    hist = timing.cumulative()
    return hist, timing.sum_us + timing.interval_sum_us


def attempt_histograms(*tables: Mapping[str, OpStats]) -> dict[str, tuple[list[HdrHistogram], int]]:
    """Every request of each operation in ``tables`` (the recorder's first attempts and retries):
    ``{op: ([histograms], sum µs)}``. ``Recorder.attempt_histograms`` passes its tables (this module
    is below the recorder: it never imports it)."""
    out: dict[str, tuple[list[HdrHistogram], int]] = {}
    for table in tables:
        for op, stats in table.items():
            hist, sum_us = cumulative(stats.timing)
            hists, acc = out.get(op, ([], 0))
            out[op] = ([*hists, hist], acc + sum_us)
    return out
