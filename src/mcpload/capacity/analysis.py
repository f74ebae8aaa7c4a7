"""Reading the steps: the ceiling, the knee where latency starts to climb, which SLO broke first,
and the dominant error at the breaking point."""

from __future__ import annotations

from typing import Any, overload

from mcpload.capacity.settings import KNEE_FACTOR
from mcpload.capacity.slo import Slo

JUDGED = ("pass", "fail", "inconclusive")


def _judged(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps that passed or failed, by load (a load measured twice: its last measurement)."""
    by_load = {s["load"]: s for s in steps if s["verdict"] in JUDGED}
    return [by_load[k] for k in sorted(by_load)]


def _p95(step: dict[str, Any]) -> float | None:
    return (step.get("latency_ms") or {}).get("p95")


@overload
def point(step: dict[str, Any]) -> dict[str, Any]: ...
@overload
def point(step: None) -> None: ...
def point(step: dict[str, Any] | None) -> dict[str, Any] | None:
    """The headline figures of one step."""
    if step is None:
        return None
    lat = step.get("latency_ms") or {}
    return {
        "load": step["load"],
        "calls_per_s": step.get("calls_per_s"),
        "tool_calls_per_s": step.get("tool_calls_per_s"),
        "success_rate": step.get("success_rate"),
        "p50_ms": lat.get("p50"),
        "p95_ms": lat.get("p95"),
        "p99_ms": lat.get("p99"),
        "mean_active_agents": step.get("mean_active_agents"),
    }


def step_at(steps: list[dict[str, Any]], load: float | None) -> dict[str, Any] | None:
    if load is None:
        return None
    matches = [s for s in steps if s["load"] == load and s["verdict"] in JUDGED]
    return matches[-1] if matches else None


def knee(steps: list[dict[str, Any]], factor: float = KNEE_FACTOR) -> dict[str, Any] | None:
    """The first load (ascending) whose p95 exceeds ``factor`` × the p95 at the lowest load measured."""
    judged = [(s, p95) for s in _judged(steps) if (p95 := _p95(s)) is not None]
    if len(judged) < 2:
        return None
    first, base = judged[0]
    for step, p95 in judged[1:]:
        if p95 > factor * base:
            return {**point(step), "baseline_load": first["load"], "baseline_p95_ms": base, "factor": factor}
    return None


def first_broken(steps: list[dict[str, Any]], slos: tuple[Slo, ...]) -> dict[str, Any] | None:
    """The SLO that fails at the lowest load (decidedly: not an inconclusive rate SLO); at equal loads,
    the one furthest past its limit."""
    best: tuple[float, float, dict[str, Any]] | None = None
    by_text = {slo.text: slo for slo in slos}
    for step in _judged(steps):
        for check in step["slos"]:
            if check["passed"] or check.get("verdict") == "inconclusive":  # undecided: not broken
                continue
            slo = by_text[check["slo"]]
            key = (step["load"], -slo.severity(check["value"]))
            if best is None or key < best[:2]:
                best = (*key, {"slo": slo.text, "load": step["load"], "value": check["value"], "limit": slo.limit})
    return None if best is None else best[2]


def dominant_error(step: dict[str, Any] | None, results: dict[str, Any] | None) -> dict[str, Any] | None:
    """The most frequent failure kind in a step's window, with its most frequent message."""
    if step is not None and step.get("unreachable"):
        return {"kind": "unreachable", "count": None, "share_of_failures": None, "message": step["unreachable"]}
    if step is None or not step.get("errors"):
        return None
    kind, count = max(step["errors"].items(), key=lambda kv: (kv[1], kv[0]))
    message = next((e["message"] for e in (results or {}).get("top_errors", []) if e["kind"] == kind), None)
    failed = step.get("failed") or 0
    share = round(count / failed, 4) if failed else None
    return {"kind": kind, "count": count, "share_of_failures": share, "message": message}
