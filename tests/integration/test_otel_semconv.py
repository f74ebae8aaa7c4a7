"""OpenTelemetry's MCP conventions: ``mcp.client.operation.duration`` and ``mcp.client.session.duration``
decoded from what the OTLP output sent, and ``--trace-context`` against the official SDK server reading
``params._meta`` (the demo server's ``trace_echo`` tool)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytest.importorskip("opentelemetry.sdk.metrics")

from mcpload.demo.launch import demo_server
from mcpload.engine.execute import run_scenario
from mcpload.mcp.connect import Target
from mcpload.mcp.trace_context import Tracer
from mcpload.outputs.otlp import OTLPOutput
from mcpload.outputs.otlp_semconv import BOUNDS_S
from mcpload.scenario import Scenario
from tests.integration.test_otlp import attrs, receiver  # noqa: F401 (the fixture)

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")


@pytest.fixture(scope="module")
def echo_url():
    env = {"MCPLOAD_DEMO_ECHO_TRACE": "1"}
    with demo_server(extra_args=("--latency", "2", "--failure-rate", "search_docs=0.3", "--seed", "5"), env=env) as url:
        yield url


def _scenario(url: str, seconds: int = 2) -> Scenario:
    workflow = [{"call": "search_docs", "args": {"query": "q"}}, {"call": "get_doc", "args": {"doc_id": "d"}}]
    return Scenario.from_dict(
        {
            "name": "semconv",
            "target": {"url": url},
            "agents": {"a": {"workflow": workflow, "conversations_per_session": 3}},
            "profiles": [{"type": "constant-agents", "agents": 3, "duration": f"{seconds}s"}],
        },
        source="<test>",
    )


async def test_mcp_client_metrics_match_the_results(echo_url, receiver):  # noqa: F811
    endpoint, got = receiver
    report = await run_scenario(_scenario(echo_url), seed=2, outputs=[OTLPOutput(endpoint)])
    res = report.results
    points = got.last_points()

    metric, *ops = points["mcp.client.operation.duration"]
    assert metric.unit == "s"
    assert all(list(p.explicit_bounds) == list(BOUNDS_S) for p in ops)
    by_key = {}
    for p in ops:
        a = attrs(p)
        assert a["network.transport"] == "tcp" and a["network.protocol.name"] == "http"
        assert a["mcp.protocol.version"] == res["target"]["protocol_version"]
        assert a["server.address"] == "127.0.0.1" and a["server.port"] == int(echo_url.split(":")[2].split("/")[0])
        assert sum(p.bucket_counts) == p.count > 0
        by_key[(a["mcp.method.name"], a.get("gen_ai.tool.name"), a.get("error.type"))] = (p, a)
    search = res["operations"]["tools/call search_docs"]
    ok_point, ok_attrs = by_key[("tools/call", "search_docs", None)]
    assert ok_attrs["gen_ai.operation.name"] == "execute_tool"
    assert ok_point.count == search["ok"]
    assert by_key[("tools/call", "search_docs", "tool_error")][0].count == search["errors"]["tool_error"] > 0
    # every request of each operation is in exactly one point
    for op, entry in res["operations"].items():
        method, _, name = op.partition(" ")
        total = sum(p.count for (m, n, _e), (p, _a) in by_key.items() if m == method and (n or "") == name)
        assert total == entry["calls"], op
    assert sum(p.count for p, _ in by_key.values()) == res["totals"]["calls"]
    # the exact mean of a failure-free operation
    doc, _ = by_key[("tools/call", "get_doc", None)]
    assert doc.sum / doc.count == pytest.approx(
        res["operations"]["tools/call get_doc"]["latency_ms"]["mean"] / 1000, 1e-3
    )

    smetric, *sessions = points["mcp.client.session.duration"]
    assert smetric.unit == "s" and list(sessions[0].explicit_bounds) == list(BOUNDS_S)
    opened = res["sessions"]["started"] - res["sessions"]["failed"]
    ended_ok = [p for p in sessions if "error.type" not in attrs(p)]
    assert ended_ok and ended_ok[0].count == opened
    assert ended_ok[0].min > 0 and ended_ok[0].max <= res["duration_s"] + 6


async def _echo(url: str, protocol: str) -> tuple[dict, Tracer]:
    target = Target(url=url, protocol=protocol)
    tracer = Tracer(1.0)
    session = tracer.session_class()(target.make_transport("http"), protocol)
    try:
        assert (await session.open()).ok
        out = await session.call_tool("trace_echo", {})
        assert out.ok, out
        return out.result["structuredContent"], tracer
    finally:
        await session.close()


@pytest.mark.parametrize("protocol", ["auto", "2025-11-25"])  # the stateless era (its own _meta) and the handshake
async def test_the_sdk_server_reads_the_traceparent(echo_url, protocol):
    echoed, tracer = await _echo(echo_url, protocol)
    m = TRACEPARENT.match(echoed["meta"])
    assert m and echoed["header"] == echoed["meta"]
    slowest = tracer.summary()["tools/call trace_echo"]
    assert slowest[0]["trace_id"] == m.group(1)


async def test_stdio_carries_it_in_meta(monkeypatch):
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--transport", "stdio", "--latency", "1"]
    monkeypatch.setenv("MCPLOAD_DEMO_ECHO_TRACE", "1")
    target = Target(command=cmd, transport="stdio", inherit_env=True)
    session = Tracer(1.0).session_class()(target.make_transport("stdio"), "auto")
    try:
        assert (await session.open()).ok
        out = await session.call_tool("trace_echo", {})
    finally:
        await session.close()
    echoed = out.result["structuredContent"]
    assert TRACEPARENT.match(echoed["meta"]) and echoed["header"] is None


def test_a_run_records_the_slowest_traced_calls(echo_url, tmp_path):
    out, html, md = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "r.md"
    cmd = [sys.executable, "-m", "mcpload.cli", "run", "--url", echo_url, "--tool", "get_doc", "--args",
           '{"doc_id": "x"}', "--agents", "2", "--duration", "1s", "--trace-context", "0.5", "--quiet",
           "--out", str(out), "--html", str(html), "--summary-md", str(md)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    res = json.loads(out.read_text())
    calls = res["slowest_traces"]["tools/call get_doc"]
    assert 1 <= len(calls) <= 5
    assert [c["latency_ms"] for c in calls] == sorted((c["latency_ms"] for c in calls), reverse=True)
    assert all(re.fullmatch(r"[0-9a-f]{32}", c["trace_id"]) for c in calls)
    assert calls[0]["latency_ms"] <= res["operations"]["tools/call get_doc"]["latency_ms"]["max"] + 0.01
    assert calls[0]["trace_id"] in html.read_text() and calls[0]["trace_id"] in md.read_text()


@pytest.mark.parametrize("rate", ["0", "1.5", "-1"])
def test_a_bad_rate_exits_2(rate):
    cmd = [sys.executable, "-m", "mcpload.cli", "run", "--url", "http://127.0.0.1:9/mcp", "--tool", "t",
           "--trace-context", rate]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--trace-context" in proc.stderr and "Traceback" not in proc.stderr


def test_off_means_plain_sessions(echo_url):
    from mcpload.engine.agent import SharedRunState
    from mcpload.mcp.session import Session

    world = SharedRunState(None, Target(url=echo_url), "http", "auto", None, None)
    assert world.session_class is Session and world.traces is None
    traced = SharedRunState(None, Target(url=echo_url, trace_context=0.1), "http", "auto", None, None)
    assert traced.session_class is not Session and traced.traces.rate == 0.1
