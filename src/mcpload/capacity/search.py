"""The search itself, apart from running anything: ramp the load in steps until a step fails, then
bisect between the last passing and the first failing load down to the resolution.

``measure(load, phase)`` is any coroutine returning a step dict with a ``verdict`` (``pass``,
``fail``, ``generator-bound`` or ``interrupted``); tests give it a model of a server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcpload.capacity.settings import Settings

Measure = Callable[[float, str], Awaitable[dict[str, Any]]]

CEILING_FOUND, MAX_LOAD, GENERATOR_BOUND, INTERRUPTED, NONE_PASSED = (
    "ceiling found",
    "max load reached",
    "generator-bound",
    "interrupted",
    "no load passed",
)


@dataclass
class SearchOutcome:
    """What the search found.

    Attributes:
        steps: every step measured, in the order run.
        passing: the highest load that passed (None: none did).
        failing: the lowest load that failed (None: none did).
        overload: the load of the first failing ramp step (the heaviest overload seen early).
        stopped: why the search ended (``ceiling found``, ``max load reached``, ``generator-bound``,
            ``interrupted``, ``no load passed``).
        guard: the step on which the generator-bound guard tripped, or None.
    """

    steps: list[dict[str, Any]] = field(default_factory=list)
    passing: float | None = None
    failing: float | None = None
    overload: float | None = None
    stopped: str = CEILING_FOUND
    guard: dict[str, Any] | None = None


def _midpoint(low: float, high: float, integer: bool) -> float | None:
    mid = (low + high) / 2
    if integer:
        mid = float(int(mid))
        if mid <= low or mid >= high:
            return None
    return mid


async def search(settings: Settings, measure: Measure) -> SearchOutcome:
    """Ramp, then bisect. Stops early when a step is generator-bound or interrupted."""
    out = SearchOutcome()
    integer = settings.integer

    async def step(load: float, phase: str) -> str:
        result = await measure(load, phase)
        out.steps.append(result)
        verdict: str = result["verdict"]
        if verdict in ("pass", "inconclusive"):  # inconclusive: not shown to break (the verdict says so)
            out.passing = load if out.passing is None else max(out.passing, load)
        elif verdict == "fail":
            out.failing = load if out.failing is None else min(out.failing, load)
        elif verdict == "generator-bound":
            out.guard = result
            out.stopped = GENERATOR_BOUND
        else:
            out.stopped = INTERRUPTED
        return verdict

    # ramp
    load = settings.start
    while True:
        verdict = await step(load, "ramp")
        if verdict in ("generator-bound", "interrupted"):
            return out
        if verdict == "fail":
            out.overload = load
            break
        if load >= settings.max_load:
            out.stopped = MAX_LOAD
            return out
        load = min(settings.growth.next(load, integer), settings.max_load)

    # bisect between the last passing load (0 when even the first step failed) and the first failing
    low = out.passing or 0.0
    high = out.failing
    floor = 1.0 if integer else settings.start / 64
    while high is not None and not settings.resolution.done(low, high, integer):
        mid = _midpoint(low, high, integer)
        if mid is None or mid < floor:
            break
        verdict = await step(mid, "bisect")
        if verdict in ("generator-bound", "interrupted"):
            return out
        if verdict in ("pass", "inconclusive"):
            low = mid
        else:
            high = mid
    if out.passing is None:
        out.stopped = NONE_PASSED
    return out
