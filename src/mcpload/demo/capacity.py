"""The short capacity search of ``mcpload demo --capacity``: the demo's agent mix without idle time
against the demo server, capped at a known number of concurrent tool executions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpload.capacity import Settings
    from mcpload.scenario import Scenario

MAX_CONCURRENCY = 8  # --max-concurrency of the demo server when the demo runs a capacity search
TOOL_LATENCY_MS = 100  # every tool takes exactly this long there: the cap, not this machine, is the limit
LIMIT_TOOL_CALLS_PER_S = MAX_CONCURRENCY * 1000 / TOOL_LATENCY_MS  # the configured limit: 80 tool calls/s
SERVER_ARGS = (
    "--failure-rate",
    "send_message=0.02",
    "--max-concurrency",
    str(MAX_CONCURRENCY),
    "--latency",
    str(TOOL_LATENCY_MS),
    "--latency-sigma",
    "0",
)
# 0.98, not 0.99: send_message's simulated failures (2 %) are there at every load, and deciding a
# 1 % budget with 95 % confidence takes a few hundred calls a step; 2 % takes half as many
SLOS = ("success_rate >= 0.98", "p95 <= 250ms")  # p95: one 100 ms service plus at most 150 ms queued


def capacity_scenario(url: str) -> Scenario:
    """The demo scenario's agents, back from their idle time at once (so load follows agents)."""
    from mcpload.demo.scenario import demo_scenario_data
    from mcpload.scenario import Scenario

    data: dict[str, Any] = demo_scenario_data(url)
    for agent in data["agents"].values():
        agent["idle"] = "0s"
    data.pop("thresholds", None)
    data["name"] = "demo capacity — research and notification agents, no idle time"
    return Scenario.from_dict(data, source="<built-in demo capacity scenario>")


def capacity_settings() -> Settings:
    """Short steps: about a minute in all on a laptop."""
    from mcpload.capacity import Growth, Resolution, Settings

    return Settings(
        start=10,
        growth=Growth(factor=2.0),
        step_s=4.0,
        warmup_s=2.0,
        min_calls=200,
        resolution=Resolution(relative=0.15),
        max_load=640,
        recovery_timeout_s=8.0,
    )
