"""A typed, read-only view of a results document (``mcpload.results/1``) for tests and scripts:
``results.success_rate``, ``results.latency("tools/call search").p95``, ``results.findings``, and
threshold assertions whose failure message says what was measured."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PERCENTILES = ("p50", "p90", "p95", "p99", "p999")


class LoadTestFailed(AssertionError):
    """A load test's thresholds (or findings) failed; ``failures`` holds one line per failed criterion."""

    def __init__(self, message: str, failures: list[str]) -> None:
        super().__init__(message)
        self.failures = failures


@dataclass(frozen=True)
class Latency:
    """A latency summary in milliseconds (None fields: no call was timed)."""

    count: int = 0
    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None

    @classmethod
    def from_dict(cls, section: Any) -> Latency:
        if not isinstance(section, Mapping):
            return cls()
        values = {k: section.get(k) for k in ("min", "mean", *_PERCENTILES, "max")}
        return cls(count=int(section.get("count") or 0), **{k: _number(v) for k, v in values.items()})


@dataclass(frozen=True)
class Operation:
    """One operation's figures (``"tools/call search"``, ``"initialize"`` …)."""

    name: str
    calls: int
    ok: int
    failed: int
    success_rate: float | None
    calls_per_s: float | None
    errors: dict[str, int]
    latency: Latency


@dataclass(frozen=True)
class Finding:
    """One finding of the run (docs/results-format.md, ``findings``)."""

    id: str
    severity: str
    title: str
    advice: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    interval: tuple[float, float] | None = None

    def __str__(self) -> str:
        return f"{self.severity} {self.id}: {self.title}"


class Results:
    """The results of one run. ``raw`` is the document itself; every accessor tolerates a missing part.

    Args:
        raw: a results document (``mcpload run --out``, ``run_scenario(...).results``).
        path: where it was written, quoted in failure messages.
    """

    def __init__(self, raw: Mapping[str, Any], path: str | Path | None = None) -> None:
        if not isinstance(raw, Mapping):
            raise TypeError(f"Results: expected a results document (a mapping), got {type(raw).__name__}")
        self.raw: dict[str, Any] = dict(raw)
        self.path = Path(path) if path is not None else None

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """Read a results JSON file."""
        return cls(json.loads(Path(path).read_text()), path)

    def __repr__(self) -> str:
        return f"<Results {self.calls} calls, success_rate={self.success_rate}, {len(self.findings)} findings>"

    # run totals
    @property
    def _totals(self) -> Mapping[str, Any]:
        totals = self.raw.get("totals")
        return totals if isinstance(totals, Mapping) else {}

    @property
    def calls(self) -> int:
        return int(self._totals.get("calls") or 0)

    @property
    def ok(self) -> int:
        return int(self._totals.get("ok") or 0)

    @property
    def failed(self) -> int:
        return int(self._totals.get("failed") or 0)

    @property
    def success_rate(self) -> float | None:
        """``ok / calls`` over every call (None: no calls)."""
        return _number(self._totals.get("success_rate"))

    @property
    def calls_per_s(self) -> float | None:
        return _number(self._totals.get("calls_per_s"))

    @property
    def duration_s(self) -> float | None:
        return _number(self.raw.get("duration_s"))

    @property
    def errors(self) -> dict[str, int]:
        """``{outcome kind: n}`` of the failed calls."""
        errors = self.raw.get("errors")
        return dict(errors) if isinstance(errors, Mapping) else {}

    # operations
    @property
    def operations(self) -> list[str]:
        ops = self.raw.get("operations")
        return sorted(ops) if isinstance(ops, Mapping) else []

    def operation(self, name: str) -> Operation:
        """One operation's figures; ``KeyError`` naming the operations that were called when it was not."""
        ops = self.raw.get("operations")
        entry = ops.get(name) if isinstance(ops, Mapping) else None
        if not isinstance(entry, Mapping):
            raise KeyError(f"no operation {name!r} in the results (called: {', '.join(self.operations) or 'none'})")
        return Operation(
            name=name,
            calls=int(entry.get("calls") or 0),
            ok=int(entry.get("ok") or 0),
            failed=int(entry.get("failed") or 0),
            success_rate=_number(entry.get("success_rate")),
            calls_per_s=_number(entry.get("calls_per_s")),
            errors=dict(entry.get("errors") or {}),
            latency=Latency.from_dict(entry.get("latency_ms")),
        )

    def latency(self, operation: str | None = None) -> Latency:
        """First-attempt latency (ms) of the whole run, or of one operation (``"tools/call search"``)."""
        if operation is None:
            return Latency.from_dict(self.raw.get("latency_ms"))
        return self.operation(operation).latency

    # findings and thresholds
    @property
    def findings(self) -> list[Finding]:
        """What the figures mean, most severe first."""
        out = []
        for f in self.raw.get("findings") or []:
            if not isinstance(f, Mapping):
                continue
            span = f.get("interval")
            interval = (span[0], span[1]) if isinstance(span, list) and len(span) == 2 else None
            out.append(
                Finding(
                    id=str(f.get("id")),
                    severity=str(f.get("severity")),
                    title=str(f.get("title")),
                    advice=str(f.get("advice") or ""),
                    evidence=dict(f.get("evidence") or {}),
                    interval=interval,
                )
            )
        return out

    @property
    def thresholds(self) -> list[dict[str, Any]]:
        """The scenario's evaluated thresholds (``{"metric", "expr", "passed", "value", …}``)."""
        return [dict(t) for t in self.raw.get("thresholds") or [] if isinstance(t, Mapping)]

    @property
    def passed(self) -> bool:
        """True when every threshold of the scenario passed."""
        return all(t.get("passed") for t in self.thresholds)

    def check(self, thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Evaluate thresholds in the scenario syntax against these results.

        Args:
            thresholds: ``{"latency{op:tools/call search}": "p(95) < 400ms", "success_rate": ["rate > 0.99"]}``.

        Returns:
            One ``{"metric", "expr", "passed", "value", "no_data", …}`` per criterion.

        Raises:
            mcpload.metrics.ThresholdError: a criterion cannot be parsed (every problem listed).
        """
        from mcpload.metrics.thresholds import evaluate, parse_thresholds, percentiles_needed

        parsed = parse_thresholds(thresholds, "thresholds")
        return evaluate(parsed, self._with_percentiles(percentiles_needed(parsed)))

    def assert_thresholds(self, thresholds: Mapping[str, Any] | None = None) -> None:
        """Raise ``LoadTestFailed`` (an ``AssertionError``) listing each failed criterion with the value
        measured; with no argument, the scenario's own thresholds."""
        verdicts = self.check(thresholds) if thresholds is not None else self.thresholds
        failed = [v for v in verdicts if not v.get("passed")]
        if failed:
            lines = [describe_verdict(v) for v in failed]
            self._fail(f"{len(failed)} of {len(verdicts)} load thresholds failed", lines)

    def assert_no_findings(self, at_least: str = "warning") -> None:
        """Raise ``LoadTestFailed`` when the run has a finding of severity ``at_least`` or worse."""
        from mcpload.metrics.thresholds import SEVERITY_RANK

        if at_least not in SEVERITY_RANK or at_least == "none":
            raise ValueError(f"at_least={at_least!r}: use one of info, warning, critical")
        floor = SEVERITY_RANK[at_least]
        bad = [f for f in self.findings if SEVERITY_RANK.get(f.severity, 0) >= floor]
        if bad:
            self._fail(f"{len(bad)} findings of severity {at_least} or worse", [str(f) for f in bad])

    def _fail(self, headline: str, lines: list[str]) -> None:
        context = [f"  {line}" for line in lines]
        context.append(f"  (run: {self.calls} calls, success rate {_rate(self.success_rate)}, {self._top_error()})")
        if self.path is not None:
            context.append(f"  results: {self.path}")
        raise LoadTestFailed("\n".join([headline + ":", *context]), lines)

    def _top_error(self) -> str:
        top = [e for e in self.raw.get("top_errors") or [] if isinstance(e, Mapping)]
        if not top:
            return "no errors"
        e = top[0]
        message = f" {e.get('message')!r}" if e.get("message") else ""
        return f"most frequent error: {e.get('kind')} on {e.get('operation')}{message} x{e.get('count')}"

    def _with_percentiles(self, wanted: tuple[float, ...]) -> dict[str, Any]:
        """The document with the extra percentiles that thresholds ask for (``p(97.5)``), from its histograms."""
        if not wanted:
            return self.raw
        from mcpload.metrics.histogram import percentile_key, summarize
        from mcpload.metrics.results import decode_histogram

        doc = copy.deepcopy(self.raw)
        hists = doc.get("histograms") or {}
        sections = [("__all__", doc.get("latency_ms"))]
        sections += [(name, op.get("latency_ms")) for name, op in (doc.get("operations") or {}).items()]
        for name, section in sections:
            if not isinstance(section, dict) or name not in hists:
                continue
            summary = summarize([decode_histogram(hists[name])], wanted) or {}
            for p in wanted:
                section.setdefault(percentile_key(p), summary.get(percentile_key(p)))
        return doc


def describe_verdict(verdict: Mapping[str, Any]) -> str:
    """``latency{op:x} p(95) < 400ms: measured 512.3 ms`` (the unit follows the metric)."""
    value = verdict.get("value")
    metric = str(verdict.get("metric"))
    if value is None:
        measured = "no data"
    elif metric.startswith("latency"):
        measured = f"{value:.1f} ms"
    elif "rate" in metric or str(verdict.get("expr", "")).startswith("rate"):
        measured = _rate(value)
    else:
        measured = f"{value:g}"
    return f"{metric} {verdict.get('expr')}: measured {measured}"


def _rate(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g} ({value * 100:.2f}%)"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
