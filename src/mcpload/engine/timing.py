"""When a scenario's load should be over: read by the runner's watchdog, the live view and workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpload.scenario import Scenario


def planned_duration(scenario: Scenario) -> float:
    """Seconds from the start to the end of the last profile."""
    return max((p.start + p.duration for p in scenario.profiles), default=0.0)


def latest_end(scenario: Scenario) -> float:
    """Seconds after the start by which the load has ended, grace periods included: past it (and a
    margin), a stalled event loop is an agent that must be stopped."""
    grace = max([scenario.options.grace_period] + [p.graceful_stop for p in scenario.profiles])
    return planned_duration(scenario) + grace + 2.0
