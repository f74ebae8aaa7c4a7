"""Regressions for the bugs real servers exposed (issue 14 §2), each against a real server:
@modelcontextprotocol/server-everything (npm, pinned in the Makefile) or the demo server."""

from __future__ import annotations

from typing import Any

import pytest

from mcpload import Session, Stdio
from mcpload.engine.execute import run_scenario
from mcpload.scenario import Scenario
from tests.conftest import everything_cmd


def make(target: dict[str, Any], workflow: list[Any], profile: dict[str, Any], **agent: Any) -> Scenario:
    data = {"target": target, "agents": {"a": {"workflow": workflow, **agent}}, "profiles": profile}
    return Scenario.from_dict(data, source="<test>")


@pytest.mark.node
async def test_templated_read_resource_is_one_operation(everything_url):
    """§2.1: a read_resource step whose URI is a template renders many URIs; they are one operation,
    named after the URI as written, not one operation (and histogram) per rendered URI."""
    uri = "demo://resource/dynamic/text/{{ random_int(1, 50) }}"
    workflow = [{"read_resource": uri}, {"read_resource": "demo://resource/dynamic/text/7"}]
    scenario = make({"url": everything_url}, workflow, {"type": "constant-agents", "agents": 2, "duration": "1.5s"})
    res = (await run_scenario(scenario, seed=3)).results
    reads = {op: v for op, v in res["operations"].items() if op.startswith("resources/read")}
    assert set(reads) == {
        "resources/read demo://resource/dynamic/text/{random_int(1, 50)}",
        "resources/read demo://resource/dynamic/text/7",
    }, set(reads)
    templated = reads["resources/read demo://resource/dynamic/text/{random_int(1, 50)}"]
    assert templated["calls"] == templated["ok"] > 2


@pytest.mark.node
@pytest.mark.parametrize("mode", ["bogus", "--no-such-flag"])
async def test_stdio_server_exiting_early_shows_its_stderr(mode):
    """§2.2: server-everything started with a bad argument prints why on stderr and exits 1; the
    session's error carries the exit code and the last stderr lines, on one line."""
    cmd = [*everything_cmd("stdio")[:-1], mode]
    session = Session(Stdio(cmd), timeout=20)
    try:
        opened = await session.open()
    finally:
        await session.close()
    assert not opened.ok and opened.kind == "transport", opened
    message = opened.error_message
    assert "exited with code 1" in message and f"Unknown transport: {mode}" in message, message
    assert "\n" not in message and len(message) < 500
