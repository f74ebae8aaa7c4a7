"""``mcpload demo --capacity``'s search, as a new user runs it (the demo's agent mix, SLOs and server),
with shorter steps: the ceiling lands near the demo server's configured limit, and the random
``send_message`` failures it injects at every load never pass for a capacity limit."""

from __future__ import annotations

import dataclasses

import pytest

from mcpload.capacity import Resolution, parse_slos, run_capacity
from mcpload.demo import capacity as demo
from mcpload.demo.launch import demo_server

# The configured limit: 8 slots of exactly 100 ms, 80 tool calls/s. The ceiling is the last load whose
# p95 stays under 250 ms, so the server is near but below saturation there: its tool calls/s lie
# between 55 % and 105 % of the limit (the bisection stops within 25 % of the ceiling load).
LOW, HIGH = 0.55, 1.05


@pytest.mark.slow
async def test_demo_capacity_answers_near_the_configured_limit():
    settings = dataclasses.replace(
        demo.capacity_settings(),
        start=16,  # (from 8 the ramp passes 8 then 16 on its way: one stretched step less, same search after)
        step_s=2.0,
        warmup_s=1.0,
        min_calls=80,
        resolution=Resolution.parse("25%"),
        recovery_timeout_s=0,
    )
    with demo_server(extra_args=demo.SERVER_ARGS) as url:
        capacity, _ = await run_capacity(demo.capacity_scenario(url), parse_slos(demo.SLOS), settings, seed=1)
    assert capacity["stopped"] == "ceiling found", capacity["verdict"]
    share = capacity["ceiling"]["tool_calls_per_s"] / demo.LIMIT_TOOL_CALLS_PER_S
    assert LOW <= share <= HIGH, capacity["steps"]
    assert capacity["first_broken"]["slo"] == "p95 <= 250ms"  # the load broke latency; the 2 % did not
    assert all(s["verdict"] != "fail" or any(not c["passed"] for c in s["slos"]) for s in capacity["steps"])
