"""What a run allocates per call, per conversation and per session is freed by reference counting, never
left to the cycle collector (issue 18: the 10-minute soak's RSS grew).

A full collection comes more rarely the more a long run has allocated, so every object that dies in a
reference cycle waits, and the process grows until one comes: hdrh's histogram and encoder, each
closed connection with its parser, an agent's template namespace, and last each finished agent with
its session (agent → session → ``on_outcome`` → agent; session → transport → ``on_server_message`` →
session), ~17 objects and ~2.5 KiB of random state a session. The class is tested, not the examples:
a run of the soak's shape (saves, templates, parallel calls, think, sessions opened and closed all
along, several agent types) with the cycle collector off must leave no object of ours to it.
"""

from __future__ import annotations

import gc
import importlib.util
from collections import Counter

import pytest

from mcpload.engine.execute import run_scenario
from mcpload.mcp.session import Session
from mcpload.scenario import Scenario
from tests.helpers import ROOT

_spec = importlib.util.spec_from_file_location("soak_shape", ROOT / "bench" / "soak_shape.py")
assert _spec is not None and _spec.loader is not None
_shape = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shape)
soak_scenario = _shape.soak_scenario  # the soak's own definition (bench/ is no package)


def _soak_like(url: str, agents: int, duration: str) -> Scenario:
    """The soak's scenario (``bench/soak_shape.py``), with short gaps so that a few seconds hold many sessions."""
    shape = soak_scenario(url, agents, duration, idle="0s..50ms", conversations=2, think="0ms..20ms", grace_period="5s")
    return Scenario.from_dict(shape, source="<test>")


def _ours_in_cyclic_garbage() -> Counter[str]:
    """Collect with DEBUG_SAVEALL and count the objects of mcpload's classes found unreachable."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return Counter(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.startswith("mcpload.")
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_run_leaves_nothing_of_ours_to_the_cycle_collector(demo_url, seed):
    scenario = _soak_like(demo_url, agents=4, duration="2s")
    gc.collect()
    gc.disable()
    try:
        report = await run_scenario(scenario, seed=seed)
        results = report.results
        del report
        garbage = _ours_in_cyclic_garbage()
    finally:
        gc.enable()
    # sessions were opened, closed and replaced (2 conversations each), with every step kind in use
    assert results["sessions"]["started"] > 4, results["sessions"]
    assert results["conversations"]["ok"] >= 8, results["conversations"]
    assert results["totals"]["failed"] == 0, results["totals"]
    assert not garbage, f"left to the cycle collector: {dict(garbage)}"


class _Transport:
    """The least a session needs to open and close (an always-failing start: no network)."""

    on_server_message = None

    async def start(self) -> None:
        from mcpload.outcome import TRANSPORT
        from mcpload.transports.base import CallFailure

        raise CallFailure(TRANSPORT, "no network in this test")

    async def close(self) -> None:
        pass


async def test_a_closed_session_does_not_hold_its_transport_in_a_cycle():
    transport = _Transport()
    session = Session(transport)  # type: ignore[arg-type]
    await session.open()
    assert transport.on_server_message == session._server_message  # reopened sessions hear the server again
    await session.close()
    assert transport.on_server_message is None
    await session.open()
    assert transport.on_server_message == session._server_message
