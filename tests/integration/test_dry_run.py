"""`mcpload run --dry-run`: load, preflight, print the plan, send no load; and the host guard on `run`."""

import functools
import time

from tests.conftest import ROOT
from tests.helpers import mcpload

DEMO = ROOT / "src" / "mcpload" / "demo" / "scenario.yaml"


run = functools.partial(mcpload, timeout=60)


def test_dry_run_prints_the_plan_and_sends_no_load(demo_url, tmp_path):
    out = tmp_path / "r.json"
    started = time.monotonic()
    res = run("run", str(DEMO), "--url", demo_url, "--dry-run", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert time.monotonic() - started < 30  # the scenario lasts 45 s: it did not run
    text = " ".join(res.stdout.split())
    assert "preflight passed" in text and "duration 45s" in text and "peak agents 200" in text
    assert "researcher" in text and "notifier" in text and "expected calls/s: peak" in text
    assert not out.exists() and not out.with_suffix(".ndjson").exists()


def test_dry_run_still_preflights(demo_url, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"target: {{url: {demo_url}}}\n"
        "agents: {a: {workflow: [{call: search_doc, args: {query: x}}]}}\n"
        "profiles: [{type: constant-agents, agents: 1, duration: 5s}]\n"
    )
    res = run("run", str(scenario), "--dry-run")
    assert res.returncode == 2
    assert "did you mean 'search_docs'" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_allow_host_refuses_before_any_connection(tmp_path):
    res = run("run", str(DEMO), "--url", "http://mcp.example.invalid/mcp", "--allow-host", "staging.example.com")
    assert res.returncode == 2
    assert res.stderr.strip() == (
        "mcpload: target host mcp.example.invalid is not allowed (allowed: staging.example.com; from "
        "--allow-host, the scenario's allow_hosts and $MCPLOAD_ALLOW_HOSTS)"
    )


def test_allow_hosts_from_the_environment(tmp_path):
    env = {"MCPLOAD_ALLOW_HOSTS": "a.example.com"}
    res = run("capacity", "--url", "http://b.example.invalid/mcp", "--tool", "x", env=env)
    assert res.returncode == 2 and "b.example.invalid is not allowed" in res.stderr
