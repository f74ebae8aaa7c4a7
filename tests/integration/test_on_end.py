"""``on_end: abandon``: a session ended without DELETE stays alive on the server (as with real
clients that go away); ``delete`` (the default) ends it there too."""

from __future__ import annotations

import json

import pytest

from mcpload.demo.launch import demo_server
from mcpload.mcp.connect import Target, connect
from mcpload.probes import PROBE_PROTOCOL, request
from mcpload.scenario import Scenario, ScenarioError


async def _still_known(url: str, session_id: str) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}).encode()
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Mcp-Session-Id": session_id,
        "MCP-Protocol-Version": PROBE_PROTOCOL,
    }
    return (await request(url, "POST", headers, body)).status


@pytest.mark.parametrize(("abandon", "status"), [(True, 200), (False, 404)])
async def test_abandon_leaves_the_session_on_the_server(abandon, status):
    with demo_server(extra_args=("--latency", "1")) as url:
        session, out = await connect(Target(url=url, protocol=PROBE_PROTOCOL))
        assert out.ok
        session_id = session.transport.session_id
        assert session_id
        await (session.abandon() if abandon else session.close())
        assert await _still_known(url, session_id) == status


def _agent(on_end):
    data = {
        "target": {"url": "http://127.0.0.1:1/mcp"},
        "agents": {"a": {"workflow": ["ping"], "on_end": on_end}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
    return Scenario.from_dict(data).agents["a"]


@pytest.mark.parametrize(
    ("on_end", "share"), [("delete", 0.0), ("abandon", 1.0), ({"abandon": "30%"}, 0.3), ({"abandon": 0.25}, 0.25)]
)
def test_on_end_gives_the_share_abandoned(on_end, share):
    assert _agent(on_end).abandon_share == pytest.approx(share)


@pytest.mark.parametrize("on_end", ["drop", {"abandon": 1.5}, {"abandon": "x%"}, {"leave": 0.3}, 3])
def test_a_bad_on_end_is_named(on_end):
    with pytest.raises(ScenarioError, match="on_end"):
        _agent(on_end)
