"""Two runs side by side (``mcpload compare BASE.json NEW.json``): the change in throughput, success
rate and latency, overall and per operation, and assertions on those changes for CI gates.

Deltas are NEW relative to BASE: ``calls_per_s_delta`` and ``p50/p95/p99_delta`` in percent of the
base value (+10 % is 10 % more), ``success_rate_delta`` in percentage points (99.9 % → 99.7 % is
-0.2). A delta is None (no data) when either run lacks the figure or the base is 0; an assertion
on it passes, as a threshold without data does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpload.metrics.limits import OPERATOR_PATTERN, holds, to_ms
from mcpload.suggest import did_you_mean

ALL = "all"  # the row of every operation together
LATENCIES = ("p50", "p95", "p99")
LATENCY_METRICS = tuple(f"{p}_delta" for p in LATENCIES)
NEW_FINDINGS = "new_findings"  # findings of NEW whose id BASE did not have (a count, no unit)
METRICS = ("calls_per_s_delta", "success_rate_delta", *LATENCY_METRICS, NEW_FINDINGS)
_ASSERTION = re.compile(
    rf"^\s*(?P<metric>[A-Za-z0-9_]+)\s*(?P<op>{OPERATOR_PATTERN})\s*(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))\s*(?P<unit>\S*)\s*$"
)


class CompareError(ValueError):
    """A results file that cannot be read, or an assertion that cannot be parsed; one line."""


@dataclass(frozen=True)
class Side:
    """The compared figures of one run for one row (latencies in ms, success rate a fraction)."""

    calls: int = 0
    calls_per_s: float | None = None
    success_rate: float | None = None
    latency: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One operation (or ``ALL``) in both runs, with the deltas of ``METRICS`` (and ``*_delta_ms``)."""

    operation: str
    base: Side | None  # None: the operation did not run in BASE
    new: Side | None
    deltas: dict[str, float | None]


@dataclass(frozen=True)
class Comparison:
    """Every row, ``ALL`` first, then the operations of either run in name order; and the findings
    (``mcpload.findings``) of NEW whose id BASE lacks (``new_findings``), and those gone."""

    rows: list[Row]
    new_findings: list[dict[str, Any]] = field(default_factory=list)
    gone_findings: list[dict[str, Any]] = field(default_factory=list)

    def row(self, operation: str) -> Row:
        """The row of ``operation`` (``ALL`` for the totals).

        Raises:
            CompareError: neither run has that operation (with the closest names).
        """
        for row in self.rows:
            if row.operation == operation:
                return row
        names = [r.operation for r in self.rows if r.operation != ALL]
        hint = did_you_mean(operation, names) or f" (operations: {', '.join(names) or 'none'})"
        raise CompareError(f"no operation {operation!r} in either run{hint}")


@dataclass(frozen=True)
class Assertion:
    """One parsed ``--assert``: ``[OPERATION:] METRIC OP NUMBER UNIT``."""

    text: str
    operation: str  # ALL unless scoped
    metric: str  # one of METRICS
    op: str
    limit: float
    unit: str  # "%" (relative; percentage points for success_rate_delta) or "ms" (latency, absolute)

    def measure(self, comparison: Comparison) -> float | None:
        """The delta this assertion looks at, in its unit; None when there is no data."""
        if self.metric == NEW_FINDINGS:
            return float(len(comparison.new_findings))
        row = comparison.row(self.operation)
        key = self.metric if self.unit != "ms" else f"{self.metric}_ms"
        return row.deltas.get(key)

    def shown(self, value: float | None) -> str:
        """``value`` as a user reads it: ``+12.3%``, ``-0.15pp``, ``+4.2ms`` or ``no data``."""
        if value is None:
            return "no data"
        if self.metric == NEW_FINDINGS:
            return f"{value:g}"
        unit = "pp" if self.metric == "success_rate_delta" else self.unit
        return f"{value:+.3g}{unit}"

    def check(self, comparison: Comparison) -> tuple[bool, float | None]:
        """``(passed, value)``; no data passes.

        Raises:
            CompareError: the operation is in neither run.
        """
        value = self.measure(comparison)
        return (True if value is None else holds(value, self.op, self.limit)), value


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results document (``mcpload.results/1``).

    Raises:
        CompareError: unreadable, not JSON, or not mcpload results (the message names the file).
    """
    from mcpload.inputs import InputError, loads_json, read_text

    if not Path(path).exists():
        raise CompareError(f"{path}: no such file")
    try:
        text = read_text(path, "results")  # a regular file of at most 2 GiB: never /dev/zero or a FIFO
    except InputError as exc:
        raise CompareError(f"{path}: {exc}") from None
    try:
        data = loads_json(text)
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not a JSON results file ({exc})") from None
    except InputError as exc:
        raise CompareError(f"{path}: {exc}") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if not isinstance(schema, str) or not schema.startswith("mcpload.results/"):
        raise CompareError(f"{path}: not an mcpload results file (no schema mcpload.results/1)")
    if schema != "mcpload.results/1":
        raise CompareError(f"{path}: schema {schema!r} is not supported (this mcpload reads mcpload.results/1)")
    for key in ("totals", "operations"):
        if not isinstance(data.get(key), dict):
            raise CompareError(f"{path}: {key}: missing or not an object")
    document: dict[str, Any] = data  # checked above: an object with a results schema
    return document


def _side(entry: dict[str, Any], latency: object) -> Side:
    latency = latency if isinstance(latency, dict) else {}
    return Side(
        calls=int(entry.get("calls") or 0),
        calls_per_s=entry.get("calls_per_s"),
        success_rate=entry.get("success_rate"),
        latency={p: latency.get(p) for p in LATENCIES},
    )


def _relative(base: float | None, new: float | None) -> float | None:
    if base is None or new is None or base == 0:
        return None
    return (new - base) / base * 100


def _deltas(base: Side | None, new: Side | None) -> dict[str, float | None]:
    # A run where the operation never ran did 0 calls/s: a drop of 100 %, not "no data".
    b, n = base or Side(calls_per_s=0.0), new or Side(calls_per_s=0.0)
    out: dict[str, float | None] = {"calls_per_s_delta": _relative(b.calls_per_s, n.calls_per_s)}
    out["success_rate_delta"] = (
        None if b.success_rate is None or n.success_rate is None else (n.success_rate - b.success_rate) * 100
    )
    for p in LATENCIES:
        low, high = b.latency.get(p), n.latency.get(p)
        out[f"{p}_delta"] = _relative(low, high)
        out[f"{p}_delta_ms"] = None if low is None or high is None else high - low
    return out


def compare(base: dict[str, Any], new: dict[str, Any]) -> Comparison:
    """Compare two results documents, overall and per operation."""
    rows = []
    sides = (_side(base["totals"], base.get("latency_ms")), _side(new["totals"], new.get("latency_ms")))
    rows.append(Row(ALL, *sides, _deltas(*sides)))
    for name in sorted(base["operations"].keys() | new["operations"].keys()):
        b, n = base["operations"].get(name), new["operations"].get(name)
        pair = (
            _side(b, b.get("latency_ms")) if isinstance(b, dict) else None,
            _side(n, n.get("latency_ms")) if isinstance(n, dict) else None,
        )
        rows.append(Row(name, *pair, _deltas(*pair)))
    return Comparison(rows, *findings_diff(base, new))


def findings_diff(base: dict[str, Any], new: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(new, gone)``: the findings of NEW whose id is not among BASE's, and those of BASE no longer
    in NEW (each run's own findings, recomputed for results written before findings existed)."""
    from mcpload.findings import findings_of

    mine, theirs = findings_of(base), findings_of(new)
    base_ids, new_ids = {f.get("id") for f in mine}, {f.get("id") for f in theirs}
    return [f for f in theirs if f.get("id") not in base_ids], [f for f in mine if f.get("id") not in new_ids]


def parse_assertion(text: str) -> Assertion:
    """Parse ``[OPERATION:] METRIC OP NUMBER UNIT``, e.g. ``tools/call search_docs: p95_delta < 10%``.

    Raises:
        CompareError: the expression is not understood (the message says what is expected).
    """
    scope, expr = ALL, text
    if ":" in text:
        scope, _, expr = text.rpartition(":")
        scope = scope.strip()
        if not scope:
            raise CompareError(f"--assert {text!r}: empty operation before ':'")
    match = _ASSERTION.match(expr)
    if match is None:
        raise CompareError(
            f"--assert {text!r}: expected '[OPERATION:] METRIC OP NUMBER%', e.g. 'p95_delta < 10%' "
            f"(metrics: {', '.join(METRICS)})"
        )
    metric, op, unit = match["metric"], match["op"], match["unit"]
    if metric not in METRICS:
        delta = f"{metric}_delta"
        hint = f" (did you mean {delta!r}?)" if delta in METRICS else did_you_mean(metric, METRICS)
        hint = hint or f" (metrics: {', '.join(METRICS)})"
        raise CompareError(f"--assert {text!r}: unknown metric {metric!r}{hint}")
    if metric == NEW_FINDINGS:
        if scope != ALL or unit:
            raise CompareError(f"--assert {text!r}: new_findings is a count of the whole run, e.g. 'new_findings == 0'")
        return Assertion(text, ALL, metric, op, float(match["num"]), "")
    if unit == "pp" and metric == "success_rate_delta":
        unit = "%"
    allowed = ("%", "ms", "s") if metric in LATENCY_METRICS else ("%",)
    if unit not in allowed:
        what = {
            "success_rate_delta": "'%' (percentage points)",
            "calls_per_s_delta": "'%' (relative change)",
        }.get(metric, "'%' (relative change) or 'ms'/'s' (absolute)")
        raise CompareError(f"--assert {text!r}: {metric} needs the unit {what}, got {unit or 'none'!r}")
    limit = float(match["num"])
    if unit == "s":
        limit, unit = to_ms(limit, "s"), "ms"
    return Assertion(text, scope, metric, op, limit, unit)
