"""``options.validate_output`` (issue 14 §1): structuredContent checked against the tool's own
outputSchema, every call or a share; a mismatch is the ``schema_mismatch`` outcome."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from mcpload.engine.execute import run_scenario
from mcpload.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
BREAKER = [sys.executable, str(ROOT / "tests" / "stdio_schema.py")]


def make(target: dict[str, Any], tool: str, share: Any, args: dict | None = None) -> Scenario:
    data = {
        "target": target,
        "agents": {"a": {"workflow": [{"call": tool, "args": args or {}}]}},  # one session: one server process
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        "options": {"validate_output": share},
    }
    return Scenario.from_dict(data, source="<test>")


async def test_every_mismatch_is_counted_when_every_call_is_checked():
    res = (await run_scenario(make({"command": BREAKER}, "count", True), seed=1)).results
    op = res["operations"]["tools/call count"]
    assert op["calls"] >= 3 and res["sessions"]["started"] == 1, op
    assert op["errors"] == {"schema_mismatch": op["calls"] // 3}, op
    message = next(e["message"] for e in res["top_errors"] if e["kind"] == "schema_mismatch")
    assert "count: 'three' is not of type 'integer'" in message


async def test_off_by_default_and_sampled_when_asked():
    res = (await run_scenario(make({"command": BREAKER}, "count", 0), seed=1)).results
    assert res["operations"]["tools/call count"]["errors"] == {}
    res = (await run_scenario(make({"command": BREAKER}, "count", 0.5), seed=1)).results
    op = res["operations"]["tools/call count"]
    # half the calls checked, evenly: calls 1, 3, 5, …; of every three a mismatch (3, 9, 15 …) is seen
    mismatches = op["errors"].get("schema_mismatch", 0)
    assert 0 < mismatches < op["calls"] // 3 + 1, op


@pytest.mark.node
async def test_a_conforming_server_passes(everything_url):
    scenario = make({"url": everything_url}, "get-structured-content", 1.0, {"location": "New York"})
    res = (await run_scenario(scenario, seed=1)).results
    op = res["operations"]["tools/call get-structured-content"]
    assert op["calls"] >= 3 and op["ok"] == op["calls"], (op, res["top_errors"])


def test_bad_share_is_refused():
    with pytest.raises(ScenarioError) as err:
        make({"url": "http://127.0.0.1:1/mcp"}, "x", 2)
    assert err.value.path == "options.validate_output"
