"""``mcpload run --prometheus`` scraped by a real Prometheus server (Debian's ``prometheus``), read
back through Prometheus' HTTP API: live values while the run goes, totals against the results file
afterwards, and every query of the Grafana dashboard answered with data."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpload.demo.launch import free_port, stop_process
from tests.conftest import need
from tests.helpers import MCPLOAD
from tests.unit.test_dashboard import queries, runnable

SEARCH = "tools/call search_docs"
AGENTS, RUN_S = 8, 12  # long enough for three scrapes on a busy 2-core machine


class Prometheus:
    """A Prometheus server on a free loopback port, scraping one target every second."""

    def __init__(self, binary: str, directory: Path, target: str) -> None:
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "mcpload", "static_configs": [{"targets": [target]}]}],
        }
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = open(directory / "prometheus.log", "w")  # noqa: SIM115 (closed in stop)
        # only the configured target is contacted: no remote write, no alertmanager, no service discovery
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def get(self, path: str, **params: Any) -> Any:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}" if params else self.url + path
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read()
        return json.loads(body) if path.startswith("/api/") else body

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "prometheus exited"
            try:
                self.get("/-/ready")
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("prometheus not ready")

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        answer = self.get("/api/v1/query", **params)
        assert answer["status"] == "success", (expr, answer)
        return answer["data"]["result"]

    def value(self, expr: str, at: float | None = None) -> float:
        result = self.query(expr, at)
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


@pytest.fixture
def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    need(binary is not None, "the prometheus server is not installed (apt-get install prometheus)")
    return binary


@pytest.fixture
def prometheus(prometheus_binary, tmp_path) -> Iterator[tuple[Prometheus, int]]:
    port = free_port()
    server = Prometheus(prometheus_binary, tmp_path, f"127.0.0.1:{port}")
    try:
        server.wait_ready()
        yield server, port
    finally:
        server.stop()


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


def test_a_real_prometheus_scrapes_the_run(prometheus, demo_url, tmp_path):
    prom, port = prometheus
    scenario = {
        "name": "prom-test",
        "target": {"url": demo_url},
        "agents": {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x", "limit": 2}}, {"think": "50ms"}]}},
        "profiles": [{"type": "constant-agents", "agents": AGENTS, "duration": f"{RUN_S}s"}],
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    out = tmp_path / "r.json"
    args = [MCPLOAD, "run", "s.yaml", "--quiet", "--seed", "3", "--out", str(out), "--prometheus", f"127.0.0.1:{port}"]
    run = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        # three scrapes with calls in them, while the run goes on
        wait_for(
            lambda: prom.query("count_over_time(mcpload_calls_total[1m]) >= 3"),
            timeout=RUN_S + 10,
            what="fewer than 3 scrapes with calls",
        )
        assert run.poll() is None, "the run ended before three scrapes: nothing live was checked"
        live = time.time()
        assert prom.value(f'sum(rate(mcpload_calls_total{{operation="{SEARCH}"}}[10s]))', live) > 1
        p95 = prom.value("histogram_quantile(0.95, sum by (le) (rate(mcpload_call_duration_seconds_bucket[10s])))")
        assert 0 < p95 < 1  # seconds: the demo server answers in ~1 ms
        assert prom.value("mcpload_active_agents", live) == AGENTS
        assert prom.value("mcpload_target_agents", live) == AGENTS
        (info,) = prom.query("mcpload_run_info", live)
        assert info["metric"]["scenario"] == "prom-test" and info["metric"]["target"] == demo_url
        # every query of the dashboard runs on the real data, and returns something
        for expr in queries():
            assert prom.query(runnable(expr), live), f"no data for the dashboard query {expr!r}"
        _, stderr = run.communicate(timeout=RUN_S + 30)
    finally:
        if run.poll() is None:
            stop_process(run)
            run.communicate()
    assert run.returncode == 0, stderr.decode()
    results = json.loads(out.read_text())

    # after the run (the target is gone: its series are stale), read the last scraped values back
    ops = {r["metric"]["operation"] for r in prom.query("max_over_time(mcpload_calls_total[1m])")}
    assert SEARCH in ops and ops <= set(results["operations"])
    scraped = prom.value(f'max_over_time(mcpload_calls_total{{operation="{SEARCH}",outcome="ok"}}[1m])')
    final = results["operations"][SEARCH]["ok"]
    assert 0 < scraped <= final
    assert scraped >= final * (RUN_S - 2.5) / RUN_S  # the last scrape was at most ~1.5 s before the end
    count = prom.value(f'max_over_time(mcpload_call_duration_seconds_count{{operation="{SEARCH}"}}[1m])')
    assert count == scraped  # no failures, no retries: first attempts == calls
    inf = prom.value(f'max_over_time(mcpload_call_duration_seconds_bucket{{operation="{SEARCH}",le="+Inf"}}[1m])')
    assert inf == count
    assert prom.value('max_over_time(mcpload_sessions_total{result="opened"}[1m])') == AGENTS
    assert prom.value('max_over_time(mcpload_sessions_total{result="failed"}[1m])') == 0
    assert prom.value('max_over_time(mcpload_conversations_total{outcome="ok"}[1m])') > 0
    assert prom.value("max_over_time(mcpload_active_agents[1m])") == AGENTS
    assert prom.value("count_over_time(up[1m])") >= 3


@pytest.mark.parametrize("address", ["127.0.0.1:0", "127.0.0.1:65536", "localhost", ":9464", "busy"])
def test_a_bad_or_busy_address_exits_2_before_any_load(tmp_path, address):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        if address == "busy":
            address = f"127.0.0.1:{busy.getsockname()[1]}"
        # the target is unreachable (exit 3): exit 2 shows the address was refused first
        args = [MCPLOAD, "run", "--url", "http://127.0.0.1:1/mcp", "--tool", "x", "--prometheus", address]
        proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"mcpload: --prometheus '{address}': ") and proc.stderr.count("\n") == 1
