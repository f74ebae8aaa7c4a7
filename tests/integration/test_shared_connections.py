"""``connections: shared[:N]``: a process's sessions share a bounded pool of HTTP connections, each
keeping its own MCP session, against the real demo server (official SDK)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import psutil
import pytest

from mcpload.mcp.connect import DEFAULT_SHARED_POOL, Target, connect, parse_connections
from mcpload.scenario import Scenario, ScenarioError

SESSIONS, POOL, CALLS_EACH = 12, 3, 4
HANDSHAKE = "2025-11-25"  # an era with Mcp-Session-Id, so that distinct sessions can be seen


def open_to(url: str) -> int:
    """This process's established TCP connections to the server of ``url``."""
    port = urlsplit(url).port
    conns = psutil.Process().net_connections(kind="tcp")
    return sum(1 for c in conns if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED)


async def _load(target: Target) -> tuple[list, list, int]:
    """Open SESSIONS sessions, make CALLS_EACH concurrent calls on each; (sessions, outcomes, connections open)."""
    opened = await asyncio.gather(*(connect(target) for _ in range(SESSIONS)))
    sessions = [s for s, _ in opened]
    assert all(out.ok for _, out in opened), [out.error_message for _, out in opened if not out.ok]
    calls = [s.call_tool("search_docs", {"query": f"q{i}", "limit": 1}) for s in sessions for i in range(CALLS_EACH)]
    outcomes = await asyncio.gather(*calls)
    connections = open_to(target.url)
    return sessions, outcomes, connections


async def test_shared_pool_bounds_connections_and_keeps_sessions_apart(demo_url):
    target = Target(url=demo_url, transport="http", protocol=HANDSHAKE, connections=f"shared:{POOL}")
    sessions, outcomes, connections = await _load(target)
    try:
        assert [o.kind for o in outcomes] == ["ok"] * (SESSIONS * CALLS_EACH)
        ids = {s.transport.session_id for s in sessions}
        assert len(ids) == SESSIONS and None not in ids  # every agent its own MCP session
        pool = target.shared_pool()
        assert pool.peak <= POOL
        assert pool.opened <= POOL  # connections were reused, never more than the pool at once
        assert connections <= POOL
        assert pool.users == SESSIONS
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    assert pool.users == 0
    await asyncio.sleep(0.05)
    assert open_to(demo_url) == 0  # the last session out closed the pool's connections


async def test_own_connections_are_one_per_session(demo_url):
    target = Target(url=demo_url, transport="http", protocol=HANDSHAKE)
    sessions, outcomes, connections = await _load(target)
    try:
        assert all(o.ok for o in outcomes)
        assert connections >= SESSIONS  # the default: each session its own keep-alive connection(s)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


async def test_legacy_sse_shares_the_posts_only(demo_sse_url):
    target = Target(url=demo_sse_url, transport="sse", connections=f"shared:{POOL}")
    sessions, outcomes, connections = await _load(target)
    try:
        assert all(o.ok for o in outcomes)
        assert connections <= SESSIONS + POOL  # one event stream per session, POSTs over the pool
        assert target.shared_pool().peak <= POOL
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


async def test_a_call_waits_for_a_free_connection_within_its_timeout(demo_url):
    target = Target(url=demo_url, transport="http", protocol=HANDSHAKE, connections="shared:1")
    session, out = await connect(target)
    try:
        assert out.ok
        pool = target.shared_pool()
        held = await pool.acquire()  # the pool's only connection, taken away
        out = await session.call_tool("search_docs", {"query": "x"}, timeout=0.2)
        assert out.kind == "timeout" and "free connection" in (out.error_message or "")
        pool.release(held)
        out = await session.call_tool("search_docs", {"query": "x"})
        assert out.ok
    finally:
        await session.close()


def test_connections_option_parsing():
    assert parse_connections("own") is None
    assert parse_connections("shared") == DEFAULT_SHARED_POOL
    assert parse_connections("shared:5") == 5
    for bad in ("shared:0", "shared:x", "pooled", "own:3", ""):
        with pytest.raises(ValueError, match="connections"):
            parse_connections(bad)


def test_scenario_target_connections():
    data = {
        "target": {"url": "http://127.0.0.1:1/mcp", "connections": "shared:8"},
        "agents": {"a": {"workflow": [{"call": "echo"}]}},
        "profiles": [{"type": "constant-agents", "agents": 1, "duration": "1s"}],
    }
    target = Scenario.from_dict(data, source="<test>").to_target()
    assert target.connections == "shared:8" and target.pool_size == 8
    with pytest.raises(ScenarioError, match=r"target\.connections"):
        Scenario.from_dict({**data, "target": {"url": "http://127.0.0.1:1/mcp", "connections": "many"}}, "<test>")


async def test_engine_run_shares_the_pool(demo_url):
    from mcpload.engine.execute import run_scenario

    agents = 8
    target_spec = {"url": demo_url, "transport": "http", "protocol": HANDSHAKE, "connections": "shared:2"}
    workflow = [{"call": "search_docs", "args": {"query": "x", "limit": 1}}, {"think": "5ms"}] * 3
    scenario = Scenario.from_dict(
        {
            "target": target_spec,
            "agents": {"a": {"workflow": workflow, "conversations_per_session": 1}},
            "profiles": {"type": "agent-arrival-rate", "rate": agents * 10, "duration": "100ms", "max_agents": agents},
        },
        source="<test>",
    )
    target = scenario.to_target()
    report = await run_scenario(scenario, target=target, seed=1)
    res = report.results
    assert res["sessions"]["started"] >= agents and res["sessions"]["failed"] == 0
    done = res["conversations"]["ok"]
    assert done == res["conversations"]["completed"] >= agents
    assert res["operations"]["tools/call search_docs"]["ok"] == res["operations"]["tools/call search_docs"]["calls"]
    pool = target.shared_pool()
    assert 1 <= pool.peak <= 2  # never more than the pool's size at once
    assert pool.opened < res["sessions"]["started"]  # connections were shared, not one per session
    assert pool.users == 0
