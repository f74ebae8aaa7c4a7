"""The OTLP output against a local OTLP/HTTP receiver (decoding the protobuf the collector would get),
during a real short run against the demo server."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.metrics")

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from mcpload.engine.execute import run_scenario
from mcpload.outcome import KINDS
from mcpload.outputs.otlp import OTLPOutput, metrics_url
from mcpload.outputs.otlp_metrics import BOUNDS_S, bucket_counts
from mcpload.scenario import Scenario


class Receiver:
    """What an OTLP/HTTP collector received: every decoded export request, in order."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def last_points(self) -> dict[str, list[Any]]:
        """The data points of each metric in the last request that carried it."""
        out: dict[str, list[Any]] = {}
        with self.lock:
            requests = list(self.requests)
        for request in requests:
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        field = metric.WhichOneof("data")
                        out[metric.name] = [metric, *getattr(metric, field).data_points]
        return out


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            request = ExportMetricsServiceRequest()
            request.ParseFromString(body)
            with got.lock:
                got.requests.append(request)
                got.paths.append(self.path)
            answer = ExportMetricsServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", got
    finally:
        server.shutdown()
        server.server_close()


def attrs(item: Any) -> dict[str, Any]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in item.attributes}


async def test_otlp_output_exports_the_run(demo_url, receiver):
    endpoint, got = receiver
    scenario = Scenario.from_dict(
        {
            "name": "otlp-test",
            "target": {"url": demo_url},
            "agents": {
                "a": {
                    "idle": "50ms",
                    "workflow": [
                        {"call": "search_docs", "args": {"query": "otlp", "limit": 2}},
                        {"think": "20ms"},
                        {"call": "get_doc", "args": {"doc_id": "doc-1"}},
                    ],
                }
            },
            "profiles": [{"type": "constant-agents", "agents": 4, "duration": "3s"}],
        },
        source="<test>",
    )
    output = OTLPOutput(endpoint, run_id="run-42")
    report = await run_scenario(scenario, seed=1, outputs=[output])
    res = report.results

    assert got.paths and set(got.paths) == {"/v1/metrics"}
    assert len(got.requests) >= 3  # periodic exports during the run, then the final flush
    resource = attrs(got.requests[-1].resource_metrics[0].resource)
    assert resource["service.name"] == "mcpload"
    assert resource["mcpload.run_id"] == "run-42"
    assert resource["mcpload.scenario"] == "otlp-test"
    assert resource["mcpload.target"] == demo_url

    points = got.last_points()
    calls_metric, *calls = points["mcpload.calls"]
    assert calls_metric.sum.is_monotonic
    assert sum(p.as_int for p in calls) == res["totals"]["calls"] > 0
    by_op_kind = {(attrs(p)["operation"], attrs(p)["outcome"]): p.as_int for p in calls}
    for op, entry in res["operations"].items():
        assert by_op_kind[(op, "ok")] == entry["ok"]
        for kind, n in entry["errors"].items():
            assert by_op_kind[(op, kind)] == n

    duration_metric, *durations = points["mcpload.call.duration"]
    assert duration_metric.unit == "s"
    by_op = {attrs(p)["operation"]: p for p in durations}
    assert set(by_op) == {op for op, e in res["operations"].items() if e["latency_ms"]}
    for op, p in by_op.items():
        latency = res["operations"][op]["latency_ms"]
        assert p.count == latency["count"] == sum(p.bucket_counts)
        assert list(p.explicit_bounds) == list(BOUNDS_S)
        assert p.sum == pytest.approx(latency["mean"] * latency["count"] / 1000)
        assert p.max == pytest.approx(latency["max"] / 1000)

    conversations = {attrs(p)["outcome"]: p.as_int for p in points["mcpload.conversations"][1:]}
    assert conversations == {"ok": res["conversations"]["ok"], "failed": res["conversations"]["failed"]}
    sessions = {attrs(p)["result"]: p.as_int for p in points["mcpload.sessions"][1:]}
    assert sessions["opened"] + sessions["failed"] == res["sessions"]["started"] >= 4
    every_kind = {(op, kind) for op, kind in by_op_kind}
    assert every_kind == {(op, kind) for op in res["operations"] for kind in KINDS}  # zeros included
    sent = points["mcpload.sent_bytes"][1].as_int
    assert sent == res["totals"]["bytes_sent"] > 0 and points["mcpload.sent_bytes"][0].unit == "By"
    assert "mcpload.active_agents" in points and "mcpload.wasted_tokens" in points
    # during the run some export saw agents at work
    seen = [
        p.as_int
        for request in got.requests
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "mcpload.active_agents"
        for p in m.gauge.data_points
    ]
    assert max(seen) == 4


def test_bucket_counts_follow_the_bounds():
    from mcpload.metrics.histogram import new_histogram

    hist = new_histogram()
    for us, n in ((500, 3), (1000, 1), (1001, 2), (4999, 1), (75_000, 5), (120_000_000, 1)):
        hist.record_value(us, n)
    counts = bucket_counts(hist)
    assert len(counts) == len(BOUNDS_S) + 1 and sum(counts) == 13
    assert counts[0] == 4  # <= 1 ms: 500 µs ×3 and 1000 µs
    assert counts[1] == 2  # <= 2.5 ms
    assert counts[2] == 1  # <= 5 ms
    assert counts[BOUNDS_S.index(0.1)] == 5  # 75 ms
    assert counts[-1] == 1  # above 60 s
    assert bucket_counts(new_histogram()) == [0] * (len(BOUNDS_S) + 1)


def test_metrics_url():
    assert metrics_url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/metrics"
    assert metrics_url("https://otel.example/") == "https://otel.example/v1/metrics"
    assert metrics_url("http://h:4318/custom/v1/metrics") == "http://h:4318/custom/v1/metrics"
    with pytest.raises(ValueError, match="http"):
        metrics_url("localhost:4318")


def test_no_collector_does_not_hold_up_the_end(demo_url):
    from mcpload.demo.launch import free_port
    from mcpload.metrics import Recorder

    output = OTLPOutput(f"http://127.0.0.1:{free_port()}", timeout_s=5.0)
    output.start({"scenario": "s", "target": {"url": demo_url}}, Recorder())
    time.sleep(1.5)  # one export, failing and retrying
    began = time.monotonic()
    output.stop({})
    assert time.monotonic() - began < 2.0
    problem = output.problem()
    assert problem is not None and problem.startswith("otlp: ") and "failed" in problem
    assert "Shutdown" not in problem


def test_cli_run_with_otlp(demo_url, receiver, tmp_path):
    from tests.integration.test_run_cli import mcpload

    endpoint, got = receiver
    args = ["--url", demo_url, "--tool", "search_docs", "--args", '{"query": "x"}', "--think", "20ms"]
    res = mcpload("run", *args, "--agents", "2", "--duration", "2s", "--otlp", endpoint, "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "otlp" not in res.stderr  # no export failed
    results = json.loads((tmp_path / "mcpload-results.json").read_text())
    calls = got.last_points()["mcpload.calls"][1:]
    assert sum(p.as_int for p in calls) == results["totals"]["calls"] > 0
    assert attrs(got.requests[-1].resource_metrics[0].resource)["mcpload.scenario"] == "ad-hoc search_docs"


def test_otlp_export_holds_no_secret_even_when_the_server_echoes_it(receiver, tmp_path):
    """Issue 18 §6: the resource attributes (the target) and every exported label are redacted."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.integration.test_run_cli import mcpload
    from tests.integration.test_security import ALL_SECRETS, BEARER, ECHO_SERVER, HEADER_SECRET, _leaks, _secret_url

    endpoint, got = receiver
    server = subprocess.Popen([sys.executable, ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        url = _secret_url(int(server.stdout.readline()))
        res = mcpload(
            "run", "--url", url, "--tool", "leak", "--think", "20ms", "--agents", "1", "--duration", "2s",
            "--bearer-env", "MCPLOAD_TEST_TOKEN", "-H", f"X-Api-Key: {HEADER_SECRET}", "--otlp", endpoint, "-q",
            cwd=tmp_path, env={"MCPLOAD_TEST_TOKEN": BEARER},
        )  # fmt: skip
    finally:
        server.kill()
        server.wait(10)
    assert res.returncode == 0, res.stderr
    with got.lock:
        exported = "\n".join(str(request) for request in got.requests)
    assert "mcpload.target" in exported and "127.0.0.1" in exported and "***" in exported
    assert _leaks(exported) == [] and ALL_SECRETS
    assert _leaks((Path(tmp_path) / "mcpload-results.json").read_text()) == []
