"""The pytest plugin, run by pytester as a user's suite would run it: a passing and a failing load
test, an async test, the docs/pytest.md example as written, and the ``pytest11`` entry point."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "mcpload.testing.pytest_plugin"


@pytest.fixture
def suite(pytester, monkeypatch):
    """Run a user's test file with only our plugin (the installed entry point, if any, stays out)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def run(source: str, *extra: str):
        pytester.makepyfile(test_user=source)
        return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "pytest_asyncio.plugin", *extra, timeout=120)

    return run


USER_SUITE = r"""
import pytest
from mcpload.demo.launch import demo_server

@pytest.fixture(scope="module")
def url():
    with demo_server(extra_args=("--latency", "2", "--seed", "3")) as u:
        yield u

def test_passes(mcpload_run, url):
    r = mcpload_run(url=url, tool="search_docs", args={"query": "q"}, agents=2, duration="1s",
                    thresholds={"success_rate": "rate > 0.99"})
    assert r.calls > 0 and r.success_rate == 1.0 and r.passed
    assert r.latency("tools/call search_docs").p95 > 0
    r.assert_thresholds({"latency{op:tools/call search_docs}": "p(95) < 5s"})

def test_fails(mcpload_run, url):
    r = mcpload_run(url=url, tool="search_docs", args={"query": "q"}, agents=1, duration="1s")
    r.assert_thresholds({"latency{op:tools/call search_docs}": "p(95) < 0.001ms"})

def test_a_scenario_file(mcpload_run, url, tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "agents:\n  a:\n    workflow:\n      - call: search_docs\n        args: {query: q}\n"
        "profiles:\n  - {type: constant-agents, agents: 1, duration: 1s}\n"
        "thresholds:\n  success_rate: [rate > 0.5]\n"
    )
    r = mcpload_run(path, url=url)
    assert r.passed and r.thresholds[0]["metric"] == "success_rate"
    assert r.operation("tools/call search_docs").calls > 0

async def test_async(mcpload_run, url):
    r = mcpload_run({"agents": {"a": {"workflow": [{"call": "get_doc", "args": {"doc_id": "doc-1"}}]}},
                     "profiles": [{"type": "constant-agents", "agents": 1, "duration": "1s"}]}, url=url)
    assert r.operation("tools/call get_doc").calls > 0
"""


def test_a_passing_and_a_failing_load_test(suite):
    result = suite(USER_SUITE, "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "LoadTestFailed: 1 of 1 load thresholds failed" in out
    assert re.search(r"latency\{op:tools/call search_docs\} p\(95\) < 0.001ms: measured [0-9.]+ ms", out)
    assert "mcpload-results-1.json" in out  # the results file is named


def test_an_unreachable_target_fails_before_any_load(suite):
    from mcpload.demo.launch import free_port

    result = suite(
        f"def test_x(mcpload_run):\n    mcpload_run(url='http://127.0.0.1:{free_port()}/mcp', tool='t', duration='1s',"
        " agents=1)\n"
    )
    result.assert_outcomes(failed=1)
    assert "PreflightError" in result.stdout.str()


def test_the_docs_example_runs_as_written(suite):
    text = (ROOT / "docs" / "pytest.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    result = suite(block)
    result.assert_outcomes(passed=2)


def test_the_entry_point_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"mcpload": PLUGIN}
    import importlib

    assert hasattr(importlib.import_module(PLUGIN), "mcpload_run")


def test_the_plugin_module_is_cheap_to_import():
    import subprocess
    import sys

    code = f"import sys, {PLUGIN}; print(sorted(m for m in ('mcpload.engine', 'mcp', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
