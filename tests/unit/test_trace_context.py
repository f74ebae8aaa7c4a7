"""``--trace-context`` and the MCP-convention timings: sampling, ids, the slowest calls kept, the
header spliced into a request, ``error.type``, and exact worker merges of the new timings."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.mcp.trace_context import KEEP, TracedSession, Tracer, merge_slowest
from mcpload.metrics import Recorder
from mcpload.metrics.semconv import MAX_KEYS, OTHER, error_type
from mcpload.outcome import Outcome
from mcpload.outputs.otlp_semconv import common_attributes, operation_attributes, operation_points, session_points


def test_sampling_follows_the_rate():
    tracer = Tracer(0.25, random.Random(7))
    sampled = [tracer.sample() for _ in range(8000)]
    hits = [s for s in sampled if s is not None]
    assert 1800 < len(hits) < 2200 and tracer.traced == len(hits)
    trace_ids = {t for t, _ in hits}
    assert len(trace_ids) == len(hits)  # unique
    for trace_id, tp in hits[:50]:
        version, tid, span, flags = tp.split("-")
        assert (version, tid, flags) == ("00", trace_id, "01") and len(span) == 16 and int(tid, 16) and int(span, 16)
    assert all(Tracer(1.0).sample() is not None for _ in range(100))


@pytest.mark.parametrize("rate", [0, -0.1, 1.01])
def test_bad_rates(rate):
    with pytest.raises(ValueError):
        Tracer(rate)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.floats(0.0001, 10)), max_size=60))
def test_the_slowest_are_kept(calls):
    tracer = Tracer(1.0)
    for i, (op, latency) in enumerate(calls):
        tracer.offer(op, latency, f"{i:032x}", "ok")
    summary = tracer.summary()
    for op in ("a", "b"):
        want = sorted((round(lat * 1000, 3) for o, lat in calls if o == op), reverse=True)[:KEEP]
        assert [c["latency_ms"] for c in summary.get(op, [])] == want
    half = len(calls) // 2
    one, two = Tracer(1.0), Tracer(1.0)
    for i, (op, latency) in enumerate(calls):
        (one if i < half else two).offer(op, latency, f"{i:032x}", "ok")
    merged = merge_slowest(one.summary(), two.summary())
    assert {op: [c["latency_ms"] for c in v] for op, v in merged.items()} == {
        op: [c["latency_ms"] for c in v] for op, v in summary.items()
    }


class _FakeHTTP:
    on_server_message = None

    def _post(self, body: bytes, method: str | None, name: str | None) -> bytes:
        return b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_the_header_goes_into_the_head_once():
    transport = _FakeHTTP()
    session = Tracer(1.0).session_class()(transport, "auto")
    session._trace_line = b"traceparent: 00-ab-cd-01\r\n"
    body = b'{"a":"x\\r\\n\\r\\ny"}'
    data = transport._post(body, "tools/call", "t")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.endswith(b"traceparent: 00-ab-cd-01") and rest == body
    assert b"traceparent" not in transport._post(body, "tools/call", "t")  # one-shot
    assert isinstance(session, TracedSession) and session._meta is None


def _outcome(kind, op="tools/call t", latency=0.05, code=None, status=None):
    method, _, name = op.partition(" ")
    return Outcome(kind, method, name or None, 0.0, latency, error_code=code, http_status=status)


def test_error_types():
    assert error_type(_outcome("rpc_error", code=-32602)) == "-32602"
    assert error_type(_outcome("http_error", status=503)) == "503"
    assert error_type(_outcome("tool_error")) == "tool_error"
    assert error_type(_outcome("rpc_error")) == "rpc_error"
    attributes = operation_attributes("tools/call search", "-32602")
    assert attributes == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "search",
        "gen_ai.operation.name": "execute_tool",
        "error.type": "-32602",
        "rpc.response.status_code": "-32602",
    }
    assert operation_attributes("prompts/get p", None) == {"mcp.method.name": "prompts/get", "gen_ai.prompt.name": "p"}
    assert common_attributes({"command": "srv", "transport": "stdio"}) == {"network.transport": "pipe"}
    https = common_attributes({"url": "https://h.example/mcp", "protocol_version": "2025-11-25"})
    assert https["server.port"] == 443 and https["mcp.protocol.version"] == "2025-11-25"


def _feed(rec: Recorder, seed: int) -> None:
    rng = random.Random(seed)
    kinds = [("ok", None, None), ("tool_error", None, None), ("rpc_error", -32602, None), ("http_error", None, 503)]
    for _ in range(300):
        kind, code, status = rng.choice(kinds)
        op = rng.choice(["tools/call a", "tools/call b", "ping"])
        rec.record(_outcome(kind, op, rng.uniform(0.001, 2.0), code, status), retry=rng.random() < 0.1)
    for _ in range(20):
        rec.session_opened(rng.random() < 0.8, rng.uniform(0.001, 0.1), "transport")
        rec.session_closed(rng.uniform(0.5, 30))


def test_points_are_exact_and_workers_merge_exactly():
    single = Recorder()
    _feed(single, 1)
    _feed(single, 2)
    coordinator, worker = Recorder(), Recorder()
    _feed(coordinator, 1)
    _feed(worker, 2)
    coordinator.absorb(worker.drain())
    added = Recorder()
    _feed(added, 1)
    other = Recorder()
    _feed(other, 2)
    added.add(other)
    common = {"network.transport": "tcp"}
    expected = operation_points(single, common)
    assert operation_points(coordinator, common) == expected == operation_points(added, common)
    assert session_points(coordinator, common) == session_points(single, common) == session_points(added, common)
    snap = single.snapshot()
    for op, entry in snap["operations"].items():
        method, _, name = op.partition(" ")
        mine = [p for p in expected if p[0]["mcp.method.name"] == method and p[0].get("gen_ai.tool.name", "") == name]
        assert sum(p[1] for p in mine) == entry["calls"]
        ok = [p for p in mine if "error.type" not in p[0]]
        assert (ok[0][1] if ok else 0) == entry["ok"]
        for kind, n in entry["errors"].items():
            assert (
                sum(
                    p[1]
                    for p in mine
                    if p[0].get("error.type") == {"rpc_error": "-32602", "http_error": "503"}.get(kind, kind)
                )
                == n
            )


def test_error_types_are_bounded():
    rec = Recorder()
    for i in range(MAX_KEYS + 50):
        rec.record(_outcome("rpc_error", "tools/call t", 0.01, code=-i))
    assert len(rec.semconv.failed) == MAX_KEYS + 1 and ("tools/call t", OTHER) in rec.semconv.failed


def test_split_runs_keep_the_slowest_over_all_workers():
    from mcpload.engine.runner import add_extras, complete_results

    total: dict = {}
    add_extras(total, {"slowest_traces": {"op": [{"trace_id": "a", "latency_ms": 5.0, "outcome": "ok"}]}})
    add_extras(total, {})
    add_extras(total, {"slowest_traces": {"op": [{"trace_id": f"b{i}", "latency_ms": float(i), "outcome": "ok"}
                                                  for i in range(10, 4, -1)]}})  # fmt: skip
    assert [c["latency_ms"] for c in total["slowest_traces"]["op"]] == [10.0, 9.0, 8.0, 7.0, 6.0]
    results: dict = {}
    complete_results(results, object(), total, None, None, False)
    assert results["slowest_traces"] == total["slowest_traces"]
    untraced: dict = {}
    complete_results(untraced, object(), {}, None, None, False)
    assert "slowest_traces" not in untraced
