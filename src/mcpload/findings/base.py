"""What a finding is, and the read-only view of a results document that every detector works from.

A finding is a named, evidenced, actionable statement about a run: a stable ``id``, a ``severity``,
a one-line ``title``, the ``evidence`` (figures, the interval range they come from, the charts that
show them) and ``advice``. Detectors are pure functions of the results document, so ``mcpload
report`` and ``compare`` can recompute findings for results written before a detector existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcpload.metrics.thresholds import SEVERITIES, SEVERITY_RANK

RANK = SEVERITY_RANK  # severities, least severe first; thresholds compare the rank (``severity < warning``)

#: An interval whose own event-loop lag exceeded this (ms) was generator-bound: mcpload itself
#: could not keep its schedule, so the server's figures of that second are not evidence.
GENERATOR_LAG_MS = 100.0
MIN_INTERVAL_S = 0.5  # shorter intervals (the stub cut at the end of a run) are not evidence


@dataclass(frozen=True)
class Finding:
    """One finding; ``to_dict`` is its form in the results document (docs/results-format.md)."""

    id: str
    severity: str
    title: str
    advice: str
    evidence: dict[str, Any] = field(default_factory=dict)
    interval: tuple[float, float] | None = None  # seconds since the run started (interval ``t``s)
    charts: tuple[str, ...] = ()  # HTML report chart keys that show the evidence

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"finding {self.id}: severity {self.severity!r} is not one of {SEVERITIES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "evidence": self.evidence,
            "interval": list(self.interval) if self.interval else None,
            "charts": list(self.charts),
            "advice": self.advice,
        }


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class RunView:
    """The parts of a results document detectors read, defensively (a results file may be edited,
    cut short or written by an older version): every accessor returns a usable default.

    ``intervals`` are every interval; ``usable`` those that were not generator-bound (nor a stub shorter
    than ``MIN_INTERVAL_S``), the only ones a server finding may be drawn from.
    """

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results if isinstance(results, dict) else {}
        raw = self.results.get("intervals")
        raw = raw if isinstance(raw, list) else []
        self.intervals: list[dict[str, Any]] = [iv for iv in raw if isinstance(iv, dict)]
        lengths, previous = [], 0.0
        for iv in self.intervals:
            lengths.append(self.t(iv) - previous)
            previous = max(previous, self.t(iv))
        # A stub (the last cut after the load stopped) holds too few calls to be evidence.
        self.usable = [
            iv
            for iv, length in zip(self.intervals, lengths, strict=True)
            if not generator_bound(iv) and length >= MIN_INTERVAL_S
        ]

    def section(self, key: str) -> dict[str, Any]:
        """The results' object ``key``, or ``{}`` when it is missing or not an object."""
        value = self.results.get(key)
        return value if isinstance(value, dict) else {}

    def entries(self, key: str) -> list[Any]:
        """The results' array ``key``, or ``[]`` when it is missing or not an array."""
        value = self.results.get(key)
        return value if isinstance(value, list) else []

    @staticmethod
    def num(mapping: Any, key: str, default: float = 0.0) -> float:
        if not isinstance(mapping, dict):
            return default
        value = _num(mapping.get(key))
        return default if value is None else value

    @staticmethod
    def errors(interval: dict[str, Any]) -> dict[str, int]:
        errors = interval.get("errors")
        if not isinstance(errors, dict):
            return {}
        return {str(k): int(v) for k, v in errors.items() if isinstance(v, int) and not isinstance(v, bool)}

    @staticmethod
    def t(interval: dict[str, Any]) -> float:
        return RunView.num(interval, "t")


def generator_bound(interval: dict[str, Any]) -> bool:
    """True when mcpload's own event loop (or a worker's, in split runs) lagged past ``GENERATOR_LAG_MS``."""
    if interval.get("generator_bound") is True:
        return True
    lags = [_num(interval.get(key)) for key in ("loop_lag_ms", "workers_loop_lag_ms")]
    return any(lag is not None and lag > GENERATOR_LAG_MS for lag in lags)


def span(intervals: list[dict[str, Any]]) -> tuple[float, float] | None:
    """The time range ``(start, end)`` in seconds covered by ``intervals`` (each ends at its ``t``)."""
    if not intervals:
        return None
    ts = [RunView.t(iv) for iv in intervals]
    return (round(max(min(ts) - 1.0, 0.0), 3), round(max(ts), 3))
