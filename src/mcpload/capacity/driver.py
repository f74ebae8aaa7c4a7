"""A whole capacity search: steps, bisection, analysis, recovery; returns the ``capacity`` section
and the results document it belongs in (the run at the ceiling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpload.capacity.analysis import dominant_error, first_broken, knee, point, step_at
from mcpload.capacity.measure import StepRunner
from mcpload.capacity.recovery import measure_recovery
from mcpload.capacity.search import CEILING_FOUND, GENERATOR_BOUND, INTERRUPTED, search
from mcpload.capacity.settings import Settings
from mcpload.capacity.slo import Slo

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.scenario.model import Scenario


async def run_capacity(
    scenario: Scenario,
    slos: tuple[Slo, ...],
    settings: Settings,
    *,
    target: Target | None = None,
    seed: int | None = None,
    annotators: Callable[[], list[Any]] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Search the highest load under every SLO.

    Args:
        scenario: the scenario whose agent mix is driven (its profiles and thresholds are ignored).
        slos: the objectives every step is judged by.
        settings: steps, warm-up, resolution, guards.
        target: overrides the scenario's target.
        seed: the seed of every step.
        annotators: makes the per-run annotators (resource monitoring), or None.
        on_step: called with each step (and the recovery, ``phase: recovery``) as it ends.

    Returns:
        ``(capacity, results)``: the ``capacity`` section (docs/capacity.md) and the results document
        of the step at the ceiling (else the last step run), or None when no step ran.

    Raises:
        PreflightError: the target did not answer before the first step.
    """
    runner = StepRunner(scenario, target, settings, slos, seed, annotators)

    async def measure(load: float, phase: str) -> dict[str, Any]:
        step = await runner(load, phase)
        if on_step is not None:
            on_step(step)
        return step

    base = await measure_baseline(runner, settings, on_step)
    found = await search(settings, measure)
    steps = found.steps
    ceiling_step = step_at(steps, found.passing)
    breaking = step_at(steps, found.failing)
    capacity: dict[str, Any] = {
        "slos": [slo.text for slo in slos],
        "settings": settings.describe(),
        "steps": steps,
        "baseline": base,
        "stopped": found.stopped,
        "ceiling": point(ceiling_step),
        "breaking_point": point(breaking),
        "knee": knee(steps),
        "first_broken": first_broken(steps, slos),
        "broken_at_breaking_point": [
            c for c in (breaking or {}).get("slos", []) if not c["passed"] and c.get("verdict") != "inconclusive"
        ],
        "dominant_error": dominant_error(
            breaking, runner.results.get(found.failing) if found.failing is not None else None
        ),
        "generator_bound": None,
        "recovery": None,
    }
    if found.guard is not None:
        capacity["generator_bound"] = {"load": found.guard["load"], "reason": found.guard["guard"]}
    overload = found.overload if found.overload is not None else found.failing
    if (
        found.stopped not in (GENERATOR_BOUND, INTERRUPTED)
        and found.passing is not None
        and overload is not None
        and settings.recovery_timeout_s > 0
    ):
        recovery = await measure_recovery(runner, overload, found.passing)
        capacity["recovery"] = recovery
        if on_step is not None:
            on_step({"phase": "recovery", **recovery})
        if recovery["interrupted"]:
            capacity["stopped"] = INTERRUPTED
    capacity["verdict"] = verdict(capacity, settings)
    last = steps[-1]["load"] if steps else None
    kept = found.passing if found.passing is not None else last
    results = runner.results.get(kept) if kept is not None else None
    if results is not None:
        results = {**results, "capacity": capacity}
    return capacity, results


def baseline_load(settings: Settings) -> float:
    """The lowest load of a search: 1 agent, or a quarter of the starting arrival rate."""
    return 1.0 if settings.integer else settings.start / 4


async def measure_baseline(
    runner: StepRunner, settings: Settings, on_step: Callable[[dict[str, Any]], None] | None
) -> dict[str, Any] | None:
    """The baseline step (``StepRunner.baseline``) before the search; its summary, or None when it did
    not judge (interrupted, generator-bound: the search then tells)."""
    step = await runner.baseline(baseline_load(settings))
    if on_step is not None:
        on_step(step)
    return step["baseline"] if step["verdict"] in ("pass", "fail", "inconclusive") else None


def verdict(capacity: dict[str, Any], settings: Settings) -> str:
    """One sentence saying what was found."""
    unit = settings.unit
    ceiling = capacity["ceiling"]
    stopped = capacity["stopped"]
    if stopped == GENERATOR_BOUND:
        guard = capacity["generator_bound"]
        held = f"; the server held every SLO up to {ceiling['load']:g} {unit}" if ceiling else ""
        return f"no server ceiling: mcpload itself was the bottleneck at {guard['load']:g} {unit}{held}"
    if stopped == INTERRUPTED:
        return "interrupted before the search ended"
    base = capacity.get("baseline") or {}
    prefix = ""
    if base.get("applied"):
        prefix = (
            f"baseline error rate {100 * base['error_rate']:.2f}% at {base['load']:g} {unit} (the server's, not the "
            "load's; rate SLOs judge the errors above it); "
        )
    if ceiling is None:
        return f"{prefix}no load passed: even {settings.start:g} {unit} broke the SLOs"
    rate = ceiling["calls_per_s"]
    text = f"{ceiling['load']:g} {unit} (≈ {rate or 0:,.1f} calls/s) under every SLO"
    undecided = [
        c
        for s in capacity["steps"]
        if s["load"] == ceiling["load"] and s["verdict"] == "inconclusive"
        for c in s["slos"]
        if c.get("verdict") == "inconclusive"
    ][-1:]
    if undecided:
        low, high = undecided[0]["interval"]
        text += (
            f", {undecided[0]['slo']} not decided there (error rate {100 * low:.2f}% … {100 * high:.2f}% with 95% "
            "confidence; run longer steps to decide)"
        )
    if stopped == CEILING_FOUND:
        return prefix + "maximum sustainable load: " + text
    return f"{prefix}no ceiling up to --max-load: {text}"
