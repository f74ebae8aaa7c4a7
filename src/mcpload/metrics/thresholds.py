"""Pass/fail criteria in k6's syntax: ``{"latency{op:tools/call search}": ["p(95) < 400ms"]}``,
parsed once (every problem reported with its path) and evaluated against ``Recorder.snapshot``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from mcpload.metrics.histogram import percentile_key
from mcpload.metrics.limits import (
    DURATION_UNITS_MS,
    NUMBER_PATTERN,
    OPERATOR_PATTERN,
    UNITS_TEXT,
    LimitError,
    UnknownUnitError,
    holds,
    parse_duration_ms,
    unit_meant,
)
from mcpload.outcome import KINDS, OK
from mcpload.suggest import did_you_mean

LATENCY_AGGREGATIONS = ("p", "avg", "min", "max", "med")


@dataclass(frozen=True)
class _Metric:
    aggregations: tuple[str, ...]
    tags: tuple[str, ...]


# What each metric can be asked, and by which tags it can be narrowed.
METRICS: dict[str, _Metric] = {
    "success_rate": _Metric(("rate",), ("op",)),
    "conversation_success_rate": _Metric(("rate",), ()),
    "session_success_rate": _Metric(("rate",), ()),
    "latency": _Metric(LATENCY_AGGREGATIONS, ("op",)),
    "latency_corrected": _Metric(LATENCY_AGGREGATIONS, ()),
    "calls": _Metric(("count",), ("op",)),
    "calls_per_s": _Metric(("value",), ("op",)),
    "errors": _Metric(("rate", "count"), ("kind", "op")),
    "retries": _Metric(("rate", "count"), ("op",)),
    # the findings of the run (mcpload.findings), known only at its end: "severity < warning", "count == 0"
    "findings": _Metric(("severity", "count"), ("id",)),
}
AGGREGATIONS = ("rate", "count", "value", "severity", "avg", "min", "max", "med", "p(N)")
#: Finding severities, least severe first, and the rank a ``findings`` threshold compares; "none" is
#: the severity of a run without findings (``severity == none``).
SEVERITIES = ("info", "warning", "critical")
SEVERITY_RANK = {"none": 0, **{name: i + 1 for i, name in enumerate(SEVERITIES)}}
SPEC_KEYS = ("threshold", "abort_on_fail", "delay_abort_eval")
ERROR_KINDS = tuple(k for k in KINDS if k != OK)

_METRIC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$", re.DOTALL)
_OPERATOR = re.compile(OPERATOR_PATTERN + "|=")  # a lone "=" is found to say "did you mean '=='?"
_PERCENTILE = re.compile(r"^p\(\s*([0-9]*\.?[0-9]+)\s*\)$")
_LOOKS_LIKE_PERCENTILE = re.compile(r"^p\s*\(?\s*([0-9]*\.?[0-9]+)\s*\)?$", re.IGNORECASE)
_NUMBER = re.compile(rf"^({NUMBER_PATTERN})\s*([^\s0-9]*)$")


#: a parsed metric expression: (as written, name, tags)
_ParsedMetric: TypeAlias = tuple[str, str, tuple[tuple[str, str], ...]]


class ThresholdError(ValueError):
    """Thresholds that cannot be parsed; ``problems`` lists each one as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Threshold:
    """One parsed criterion. ``limit`` is in ms for latency metrics; ``str()`` gives it back."""

    metric: str  # as written, e.g. "latency{op:tools/call search_docs}"
    name: str  # "latency"
    tags: tuple[tuple[str, str], ...]
    aggregation: str  # one of METRICS[name].aggregations
    percentile: float | None  # for aggregation "p"
    op: str  # "<", "<=", …
    limit: float
    expr: str  # as written, e.g. "p(95) < 400ms"
    abort_on_fail: bool = False
    delay_abort_eval_s: float = 0.0

    def tag(self, key: str) -> str | None:
        """The value of tag ``key``, or None."""
        return dict(self.tags).get(key)

    def __str__(self) -> str:
        return f"{self.metric} {self.expr}"


def parse_thresholds(mapping: object, path: str = "thresholds") -> list[Threshold]:
    """Parse ``{metric_expr: [spec, …]}`` (a bare spec counts as a list of one).

    Args:
        mapping: the thresholds section as loaded from YAML/JSON.
        path: where the section sits, for messages (``thresholds.latency[0]: …``).

    Returns:
        The thresholds, in the mapping's order.

    Raises:
        ThresholdError: listing every problem found, each with its path.
    """
    if mapping is None:
        return []
    if not isinstance(mapping, Mapping):
        raise ThresholdError([f"{path}: expected a mapping of metric to thresholds, got {type(mapping).__name__}"])
    problems: list[str] = []
    out: list[Threshold] = []
    for expr, specs in mapping.items():
        where = f"{path}.{expr}"
        parsed = _parse_metric(str(expr), where, problems)
        items = specs if isinstance(specs, list) else [specs]
        if not items:
            problems.append(f"{where}: no thresholds given")
        for i, spec in enumerate(items):
            threshold = _parse_spec(spec, f"{where}[{i}]", parsed, problems)
            if threshold is not None:
                out.append(threshold)
    if problems:
        raise ThresholdError(problems)
    return out


def _parse_metric(expr: str, where: str, problems: list[str]) -> _ParsedMetric | None:
    """``(metric as written, name, tags)`` or None (problem noted)."""
    match = _METRIC.match(expr)
    if not match:
        problems.append(f"{where}: expected 'name' or 'name{{tag:value}}'")
        return None
    name, tag_text = match.group(1), match.group(2)
    metric = METRICS.get(name)
    if metric is None:
        problems.append(f"{where}: unknown metric {name!r}{did_you_mean(name, METRICS)}")
        return None
    tags: list[tuple[str, str]] = []
    if tag_text is not None:
        # Split only at commas that start a known tag, so an operation name may hold commas.
        parts = re.split(r",(?=\s*(?:" + "|".join(("op", "kind", "id")) + r")\s*:)", tag_text)
        for part in parts:
            key, sep, value = part.partition(":")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                problems.append(f"{where}: expected tag:value, got {part.strip()!r}")
                continue
            if key not in metric.tags:
                allowed = ", ".join(metric.tags) or "none"
                problems.append(f"{where}: {name} has no tag {key!r}{did_you_mean(key, metric.tags)} (tags: {allowed})")
                continue
            if key == "kind" and value not in ERROR_KINDS:
                problems.append(f"{where}: unknown error kind {value!r}{did_you_mean(value, ERROR_KINDS)}")
                continue
            tags.append((key, value))
    return expr.strip(), name, tuple(tags)


def _parse_spec(spec: object, where: str, metric: _ParsedMetric | None, problems: list[str]) -> Threshold | None:
    abort, delay_s = False, 0.0
    if isinstance(spec, Mapping):
        for key in spec:
            if key not in SPEC_KEYS:
                problems.append(f"{where}: unknown key {key!r}{did_you_mean(str(key), SPEC_KEYS)}")
        abort = spec.get("abort_on_fail", False)
        if not isinstance(abort, bool):
            problems.append(f"{where}.abort_on_fail: expected true or false, got {abort!r}")
        if "delay_abort_eval" in spec:
            delay_ms = _duration_ms(spec["delay_abort_eval"], "s", f"{where}.delay_abort_eval", problems)
            delay_s = delay_ms / 1000 if delay_ms is not None else 0.0
        if "threshold" not in spec:
            problems.append(f"{where}: missing 'threshold' (e.g. threshold: \"p(95) < 400ms\")")
            return None
        spec = spec["threshold"]
    if not isinstance(spec, str):
        problems.append(f"{where}: expected a string like 'p(95) < 400ms', got {type(spec).__name__}")
        return None
    found = _OPERATOR.search(spec)
    if not found:
        problems.append(f"{where}: expected '<aggregation> <operator> <value>' (e.g. 'p(95) < 400ms'), got {spec!r}")
        return None
    op = found.group(0)
    if op == "=":
        problems.append(f"{where}: unknown operator '=' (did you mean '=='?)")
        return None
    agg_text, value_text = spec[: found.start()].strip(), spec[found.end() :].strip()
    aggregation, percentile = _parse_aggregation(agg_text, where, problems)
    if aggregation is None or metric is None:
        return None
    expr, name, tags = metric
    if aggregation not in METRICS[name].aggregations:
        allowed = ", ".join("p(N)" if a == "p" else a for a in METRICS[name].aggregations)
        problems.append(f"{where}: aggregation {agg_text!r} does not apply to {name} (use {allowed})")
        return None
    limit = _parse_limit(value_text, name, aggregation, where, problems)
    if limit is None or not isinstance(abort, bool):
        return None
    return Threshold(expr, name, tags, aggregation, percentile, op, limit, " ".join(spec.split()), abort, delay_s)


def _parse_aggregation(text: str, where: str, problems: list[str]) -> tuple[str | None, float | None]:
    match = _PERCENTILE.match(text)
    if match:
        p = float(match.group(1))
        if not 0 < p <= 100:
            problems.append(f"{where}: percentile {match.group(1)} is not within (0, 100]")
            return None, None
        return "p", p
    if text in AGGREGATIONS and text != "p(N)":
        return text, None
    loose = _LOOKS_LIKE_PERCENTILE.match(text)
    hint = f" (did you mean 'p({loose.group(1)})'?)" if loose else did_you_mean(text, AGGREGATIONS)
    problems.append(f"{where}: unknown aggregation {text!r}{hint}")
    return None, None


def _parse_limit(text: str, name: str, aggregation: str, where: str, problems: list[str]) -> float | None:
    if aggregation in LATENCY_AGGREGATIONS:
        return _duration_ms(text, "ms", where, problems)
    if aggregation == "severity":
        if text in SEVERITY_RANK:
            return float(SEVERITY_RANK[text])
        known = ", ".join(SEVERITY_RANK)
        problems.append(f"{where}: unknown severity {text!r}{did_you_mean(text, SEVERITY_RANK)} (severities: {known})")
        return None
    match = _NUMBER.match(text)
    if not match:
        problems.append(f"{where}: expected a number, got {text!r}")
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%" and aggregation == "rate":
        return round(number / 100, 12)  # 99.9% is 0.999, not 0.9990000000000001
    if unit:
        problems.append(f"{where}: {name} {aggregation} takes a plain number, not {unit!r}")
        return None
    return number


def _duration_ms(value: object, default_unit: str, where: str, problems: list[str]) -> float | None:
    """A duration in ms: ``400ms``, ``1.5s``, ``2m``, ``500us``; a bare number is in ``default_unit``."""
    try:
        return parse_duration_ms(value, default_unit)
    except UnknownUnitError as exc:
        meant = unit_meant(exc.unit)
        hint = f" (did you mean {meant!r}?)" if meant else did_you_mean(exc.unit, DURATION_UNITS_MS)
        problems.append(f"{where}: unknown unit {exc.unit!r}{hint} (units: {UNITS_TEXT})")
    except LimitError as exc:
        problems.append(f"{where}: {exc}")
    return None


# --- evaluation -------------------------------------------------------------------------------


def percentiles_needed(thresholds: Iterable[Threshold]) -> tuple[float, ...]:
    """The percentiles thresholds ask for, to pass as ``Recorder.snapshot(percentiles=…)``."""
    return tuple(sorted({t.percentile for t in thresholds if t.percentile is not None}))


def measure(threshold: Threshold, snapshot: dict[str, Any]) -> float | None:
    """The value ``threshold`` compares (ms for latency), or None when there is no data for it.

    Raises:
        KeyError: the snapshot lacks a percentile the threshold asks for (see ``percentiles_needed``).
    """
    name, agg, op = threshold.name, threshold.aggregation, threshold.tag("op")
    if name == "findings":
        return _findings(snapshot.get("findings"), threshold)
    # the snapshot is the recorder's own document: its rates and counts are numbers or None
    value: float | None
    if name == "conversation_success_rate":
        value = snapshot["conversations"]["success_rate"]
        return value
    if name == "session_success_rate":
        value = snapshot["sessions"]["success_rate"]
        return value
    if name == "latency_corrected":
        return _latency(snapshot.get("latency_corrected_ms"), threshold)
    source = snapshot["totals"]
    errors = snapshot["errors"]
    if op is not None:
        entry = snapshot["operations"].get(op)
        # An operation never called has no rates or latency, and zero counts.
        source = entry or {"calls": 0, "ok": 0, "failed": 0, "retries": 0, "success_rate": None, "calls_per_s": None}
        errors = entry["errors"] if entry else {}
        if name == "latency":
            return _latency(entry.get("latency_ms") if entry else None, threshold)
    if name == "latency":
        return _latency(snapshot.get("latency_ms"), threshold)
    if name in ("success_rate", "calls", "calls_per_s"):
        value = source[name]
        return value
    n: int
    if name == "retries":
        n = source["retries"]
    else:  # errors, of one kind or all
        kind = threshold.tag("kind")
        n = errors.get(kind, 0) if kind else source["failed"]
    if agg == "count":
        return n
    calls: int = source["calls"]
    return n / calls if calls else None


def _findings(findings: object, threshold: Threshold) -> float | None:
    """How many findings (``count``) or the rank of the most severe (``severity``); None (no data)
    while the run goes on: findings exist only in the results."""
    if not isinstance(findings, list):
        return None
    wanted = threshold.tag("id")
    chosen = [f for f in findings if isinstance(f, dict) and (wanted is None or f.get("id") == wanted)]
    if threshold.aggregation == "count":
        return len(chosen)
    return max((SEVERITY_RANK.get(str(f.get("severity")), 0) for f in chosen), default=0)


def _latency(section: dict[str, float | None] | None, threshold: Threshold) -> float | None:
    if section is None:
        return None
    agg = threshold.aggregation
    key = {"avg": "mean", "med": "p50", "min": "min", "max": "max"}.get(agg)
    if key is None:
        assert threshold.percentile is not None  # parse_thresholds sets it for aggregation "p"
        key = percentile_key(threshold.percentile)
    if key not in section:
        raise KeyError(f"{threshold}: the snapshot has no {key}; pass percentiles_needed(thresholds) to snapshot()")
    return section[key]


def unit_of(threshold: Threshold) -> str:
    """The unit of a threshold's value: ``ms`` (latencies), ``calls/s``, ``ratio`` (rates, 0 to 1) or ``count``."""
    if threshold.name in ("latency", "latency_corrected"):
        return "ms"
    if threshold.name == "calls_per_s":
        return "calls/s"
    return "ratio" if threshold.aggregation == "rate" else "count"


def evaluate(thresholds: Iterable[Threshold], snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluate thresholds against a snapshot (or a results document).

    A threshold with no data (no calls for its operation, no conversation finished, no open-model
    data, …) passes, with ``value`` None and ``no_data`` True, as in k6.

    Returns:
        One ``{"metric", "expr", "passed", "value", "abort_on_fail", "no_data", "unit"}`` per threshold
        (``unit``: see ``unit_of``).
    """
    out = []
    for t in thresholds:
        value = measure(t, snapshot)
        passed = True if value is None else holds(value, t.op, t.limit)
        out.append(
            {
                "metric": t.metric,
                "expr": t.expr,
                "passed": passed,
                "value": value,
                "abort_on_fail": t.abort_on_fail,
                "no_data": value is None,
                "unit": unit_of(t),
            }
        )
    return out


def should_abort(thresholds: Iterable[Threshold], snapshot: dict[str, Any], elapsed_s: float) -> Threshold | None:
    """The first ``abort_on_fail`` threshold past its ``delay_abort_eval`` that fails now, else None."""
    for t in thresholds:
        if not t.abort_on_fail or elapsed_s < t.delay_abort_eval_s:
            continue
        value = measure(t, snapshot)
        if value is not None and not holds(value, t.op, t.limit):
            return t
    return None
