"""Service level objectives of a capacity search: ``success_rate >= 0.999``, ``p95 <= 400ms``,
``error_rate <= 0.01``. Each is checked against a window's figures (a step, or one interval).

A rate SLO is decided with a confidence interval, not a point estimate: 1 failure in 55 calls says
the error rate lies between 0.3 % and 9.6 % (95 % Wilson interval), which neither keeps nor breaks
``success_rate >= 0.99``: the verdict is ``inconclusive`` until more calls put the interval on one
side of the limit. Errors already there at the lowest load (``baseline_error``) are the server's, not
the load's: a rate SLO judges the errors above that baseline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mcpload.metrics.confidence import wilson
from mcpload.metrics.limits import UPPER_BOUNDS, holds, to_ms

RATES = ("success_rate", "error_rate")
PERCENTILES = {"p50": "p50", "p90": "p90", "p95": "p95", "p99": "p99", "p999": "p999", "p99.9": "p999"}
DEFAULT_SLOS = ("success_rate >= 0.99", "p95 <= 1s")  # when no --slo is given
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
_SLO = re.compile(r"^\s*([a-z_0-9.]+)\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*(%|us|ms|s|m)?\s*$", re.I)


class SloError(ValueError):
    """An SLO that does not parse; the message is one line naming it."""


@dataclass(frozen=True)
class Slo:
    """One objective.

    Attributes:
        text: as written.
        metric: ``success_rate``, ``error_rate``, or a latency percentile key (``p95``, ``p999``).
        op: one of ``<=``, ``<``, ``>=``, ``>``.
        limit: a fraction for rates, milliseconds for latency.
    """

    text: str
    metric: str
    op: str
    limit: float

    @property
    def is_latency(self) -> bool:
        return self.metric not in RATES

    def value(self, window: dict[str, Any]) -> float | None:
        """The measured value in ``window`` (``{"calls", "ok", "latency_ms": {...}}``); None without data."""
        calls = window.get("calls") or 0
        if self.metric == "success_rate":
            return window.get("ok", 0) / calls if calls else None
        if self.metric == "error_rate":
            return (calls - window.get("ok", 0)) / calls if calls else None
        latency = window.get("latency_ms") or {}
        return latency.get(self.metric)

    def check(self, window: dict[str, Any], baseline_error: float = 0.0) -> dict[str, Any]:
        """``{"slo", "value", "passed", "verdict"}`` (+ ``interval`` of the error rate and ``baseline_error``
        for rate SLOs); a window without data fails (nothing was served).

        A latency SLO passes or fails on its value. A rate SLO compares the 95 % Wilson interval of the
        error rate, less ``baseline_error``, with the error budget: wholly within, ``pass``; wholly
        beyond, ``fail``; else ``inconclusive`` (``passed`` False: not shown to hold).
        """
        value = self.value(window)
        out: dict[str, Any] = {"slo": self.text, "value": None if value is None else round(value, 6)}
        calls = window.get("calls") or 0
        if value is None or (not self.is_latency and not calls):
            return {**out, "passed": False, "verdict": FAIL}
        bounds_errors = (self.metric == "error_rate") == (self.op in UPPER_BOUNDS)
        if self.is_latency or not bounds_errors:  # (a rate bounded the other way: as written)
            passed = holds(value, self.op, self.limit)
            return {**out, "passed": passed, "verdict": PASS if passed else FAIL}
        low, high = wilson(calls - window.get("ok", 0), calls) or (0.0, 1.0)
        out["interval"] = [round(low, 6), round(high, 6)]
        if baseline_error:
            out["baseline_error"] = round(baseline_error, 6)
        # as an error-rate bound: error <= budget (success_rate >= L is error <= 1 - L)
        strict = self.op in ("<", ">")
        budget = self.limit if self.metric == "error_rate" else 1 - self.limit
        bound = "<" if strict else "<="
        if holds(high - baseline_error, bound, budget):
            verdict = PASS
        elif not holds(low - baseline_error, bound, budget):
            verdict = FAIL
        else:
            verdict = INCONCLUSIVE
        return {**out, "passed": verdict == PASS, "verdict": verdict}

    def severity(self, value: float | None) -> float:
        """How far ``value`` is past the limit, as a ratio (> 1 means broken); inf without data."""
        if value is None:
            return float("inf")
        if self.op in UPPER_BOUNDS:
            return value / self.limit if self.limit else float("inf")
        return self.limit / value if value else float("inf")


def parse_slo(text: str) -> Slo:
    """Parse one SLO.

    Raises:
        SloError: with a one-line message naming the SLO and what is accepted.
    """
    m = _SLO.match(text)
    hint = "expected e.g. 'success_rate >= 0.999', 'error_rate <= 1%', 'p95 <= 400ms' (p50 p90 p95 p99 p999)"
    if not m:
        raise SloError(f"--slo {text!r}: {hint}")
    name, op, number, unit = m.group(1).lower(), m.group(2), float(m.group(3)), (m.group(4) or "").lower()
    if name in RATES:
        if unit not in ("", "%"):
            raise SloError(f"--slo {text!r}: a rate takes a fraction (0.999) or a percentage (99.9%), not {unit!r}")
        limit = number / 100 if unit == "%" else number
        if not 0 <= limit <= 1:
            raise SloError(f"--slo {text!r}: a rate lies between 0 and 1 (or 0% and 100%)")
        return Slo(text.strip(), name, op, limit)
    if name in PERCENTILES:
        if unit == "%":
            raise SloError(f"--slo {text!r}: a latency takes a duration (400ms, 0.4s), not a percentage")
        if op in (">=", ">"):
            raise SloError(f"--slo {text!r}: a latency objective is an upper bound (use <= or <)")
        return Slo(text.strip(), PERCENTILES[name], op, to_ms(number, unit or "ms"))
    raise SloError(f"--slo {text!r}: unknown metric {name!r}; {hint}")


def parse_slos(texts: list[str] | tuple[str, ...] | None) -> tuple[Slo, ...]:
    """Parse every SLO; none given means ``DEFAULT_SLOS``."""
    return tuple(parse_slo(t) for t in (texts or DEFAULT_SLOS))


def evaluate(slos: tuple[Slo, ...], window: dict[str, Any], baseline_error: float = 0.0) -> list[dict[str, Any]]:
    """Every SLO checked against one window (rate SLOs over ``baseline_error``, see ``Slo.check``)."""
    return [slo.check(window, baseline_error) for slo in slos]


def calls_to_decide(check: dict[str, Any], budget_of: dict[str, float]) -> float | None:
    """About how many calls would put an inconclusive rate check's 95 % interval on one side of its
    limit, were the error rate what it is now (normal approximation); None when it cannot tell."""
    text, value = check.get("slo"), check.get("value")
    if check.get("verdict") != INCONCLUSIVE or value is None or text not in budget_of:
        return None
    p = value if text.lstrip().startswith("error_rate") else 1 - value  # the error rate
    margin = abs(p - check.get("baseline_error", 0.0) - budget_of[text])
    # z² p(1-p) / margin², floored at z² / margin (no failure yet: the rule of three)
    return None if margin <= 0 else 3.84 * max(p * (1 - p), margin) / (margin * margin)


def error_budgets(slos: tuple[Slo, ...]) -> dict[str, float]:
    """The error rate each rate SLO allows (``success_rate >= 0.99``: 0.01), by its text."""
    return {s.text: (s.limit if s.metric == "error_rate" else 1 - s.limit) for s in slos if not s.is_latency}
