"""The HTML report: self-contained (no network), escaped (a hostile server cannot script it), opened
in a real headless Chromium, and `mcpload report` from a results JSON or an interval log — even one
cut short by a run that died."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly  # a core dependency: the report works on a plain install
import pytest
from typer.testing import CliRunner

from mcpload.cli import app
from mcpload.cli.support import DEMO_HTML, _demo_html
from mcpload.demo.launch import demo_server, free_port, stop_process, wait_for_port
from mcpload.engine.execute import run_scenario
from mcpload.metrics.rebuild import REBUILT, load_results
from mcpload.outputs.html import NEEDS_PLOTLY, HtmlOutput, render_html, write_html
from mcpload.scenario import Scenario
from tests import xss_server
from tests.conftest import ROOT, need
from tests.helpers import MCPLOAD, mcpload

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
FIGURES = re.compile(r'<script type="application/json" id="mcpload-figures">(.*?)</script>', re.S)
EXTERNAL = re.compile(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*\b(?:src|href|data)\s*=", re.I)


def scenario(url: str, workflow: list[dict], profiles: list[dict], **extra: Any) -> Scenario:
    return Scenario.from_dict(
        {"target": {"url": url}, "agents": {"a": {"workflow": workflow, "tokens_per_step": 100}}, "profiles": profiles}
        | extra,
        source="<test>",
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> dict[str, Any]:
    """A real 2 s run on the demo server: closed and open profiles, tool errors and retries."""
    tmp = tmp_path_factory.mktemp("run")
    workflow = [
        {"call": "search_docs", "args": {"query": "report", "limit": 2}},
        {"call": "send_message", "args": {"to": "a", "text": "b"}, "retry": {"attempts": 2, "on": ["tool_error"]}},
        {"think": "30ms"},
    ]
    profiles = [
        {"type": "ramping-agents", "stages": [{"duration": "1s", "target": 4}, {"duration": "1s", "target": 4}]},
        {"type": "agent-arrival-rate", "rate": 5, "duration": "2s", "distribution": "even", "max_agents": 2},
    ]
    thresholds = {"success_rate": ["rate > 0.99"], "latency{op:tools/call search_docs}": ["p(95) < 5s"]}
    with demo_server(extra_args=("--latency", "3", "--failure-rate", "send_message=0.3", "--seed", "3")) as url:
        run = scenario(url, workflow, profiles, thresholds=thresholds, tokens={"price_per_1k": 0.01})
        output = HtmlOutput(tmp / "r.html")  # the Output contract: written when the run stops
        report = _run(run_scenario(run, seed=5, out=tmp / "r.json", intervals=tmp / "r.ndjson", outputs=[output]))
    return {"results": report.results, "json": tmp / "r.json", "ndjson": tmp / "r.ndjson", "html": tmp / "r.html"}


def _run(coro):
    from mcpload._loop import run

    return run(coro)


def figures(page: str) -> dict[str, Any]:
    match = FIGURES.search(page)
    assert match, "no figure block"
    return json.loads(match.group(1))


def csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


# 1. a real run, rendered


def test_report_of_a_real_run_is_self_contained(demo_run):
    results = demo_run["results"]
    assert results["errors"].get("tool_error") and results["totals"]["retries"] and results["arrivals"]
    page = render_html(results)
    assert demo_run["html"].read_text() == page

    assert not EXTERNAL.search(page), "the report loads something by URL"
    assert page.count(plotly.offline.get_plotlyjs()) == 1
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in csp
    # every script that runs is named in the CSP by its hash, so the page can draw its charts
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 2 and all(csp_hash(s) in csp for s in scripts)

    spec = figures(page)
    ids = [f["id"] for f in spec["figures"]]
    for chart in ("throughput", "agents", "latency", "distribution", "op_percentiles", "errors_time", "arrivals"):
        assert f"chart-{chart}" in ids and f'id="chart-{chart}"' in page
    for op in results["operations"]:
        assert op in page
    assert "PASSED" in page or "FAILED" in page
    assert "Content-Security-Policy" in page and "cost of the wasted tokens" in page


def test_write_html_is_atomic_and_renders_empty_documents(tmp_path, demo_run):
    path = write_html(demo_run["results"], tmp_path / "r.html")
    assert path.read_text().startswith("<!DOCTYPE html>") and not list(tmp_path.glob(".*.tmp"))
    for results in ({}, {"schema": "mcpload.results/1", "intervals": [], "operations": {}, "histograms": {"x": "?"}}):
        page = render_html(results)
        assert "No intervals were recorded." in page and figures(page)["figures"] == []


def test_optional_resources_and_capacity_sections():
    results = {
        "resources": {
            "samples": [{"t": t, "name": n, "cpu_pct": t * 2, "mem": {"rss_mb": 50 + t}} for t in (1, 2) for n in "ab"],
            "summary": {"cpu_pct": {"max": 4}, "note": "<b>x</b>"},
        },
        "capacity": {"steps": [{"agents": 10, "calls_per_s": 90.5, "ok": True}, {"agents": 20}], "max_agents": 10},
    }
    page = render_html(results)
    ids = [f["id"] for f in figures(page)["figures"]]
    assert "chart-resources" in ids and "chart-capacity" in ids
    assert "cpu_pct.max" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "max_agents" in page
    assert 'id="resources"' not in render_html({}) and 'id="capacity"' not in render_html({})


# 2. a hostile server cannot script the report


@pytest.fixture(scope="module")
def xss_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, xss_server.__file__, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop_process(proc)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_hostile_names_and_messages_stay_text(xss_url, tmp_path):
    workflow = [
        {"call": xss_server.OK_TOOL, "args": {"query": "x"}},
        {"call": xss_server.FAILING_TOOL, "args": {"query": "y"}},
        {"think": "50ms"},
    ]
    run = scenario(
        xss_url,
        workflow,
        [{"type": "constant-agents", "agents": 2, "duration": "2s"}],
        name=f"xss {xss_server.SCRIPT}",
        thresholds={f"latency{{op:tools/call {xss_server.OK_TOOL}}}": ["p(95) < 5s"]},
    )
    results = _run(run_scenario(run, seed=1)).results
    assert results["errors"].get("tool_error") and results["top_errors"]
    assert xss_server.SCRIPT in json.dumps(results["target"]["server_info"])
    report = write_html(results, tmp_path / "xss.html")
    page = report.read_text()

    # nothing the server sent reaches the page as markup, nor breaks out of the JSON block
    assert xss_server.SCRIPT not in page and xss_server.IMG not in page
    assert page.count("</script>") == 3
    block = FIGURES.search(page).group(1)
    assert not set(block) & set("<>&\u2028\u2029")
    assert "ok&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in page  # shown as typed
    names = [t.get("name", "") for f in figures(page)["figures"] for t in f["data"]]
    assert any("&lt;script&gt;" in n for n in names) and not any("<script" in n for n in names)

    # and in a real browser: no script ran, no console message (CSP refusals and errors included)
    need(CHROMIUM is not None, "chromium is not installed (apt-get install chromium)")
    dom = chromium(report, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", dom.stdout, re.S).group(1)
    assert title.startswith("mcpload report — xss &lt;script&gt;")  # a payload that ran would set it to PWNED
    assert "&lt;img src=x onerror=" in dom.stdout and '<img src="x"' not in dom.stdout
    assert "main-svg" in dom.stdout, "plotly drew no chart"
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "html-report-xss.png"
    shot.unlink(missing_ok=True)
    done = chromium(report, tmp_path / "profile2", "--window-size=1400,3000", f"--screenshot={shot}")
    assert done.returncode == 0 and shot.stat().st_size > 30_000, done.stderr[-2000:]


# 3. `mcpload report`, and the report of `mcpload run --html`


def test_report_command_from_json_and_interval_logs(demo_run, tmp_path):
    results = demo_run["results"]
    whole = mcpload("report", str(demo_run["json"]), "-o", "from-json.html", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    log = mcpload("report", str(demo_run["ndjson"]), "-o", "from-log.html", cwd=tmp_path)
    assert log.returncode == 0, log.stderr
    assert (tmp_path / "from-log.html").read_text() == (tmp_path / "from-json.html").read_text()

    # a run killed mid-write: the header, some intervals, half a line, no summary
    lines = demo_run["ndjson"].read_text().splitlines()
    assert json.loads(lines[-1])["type"] == "summary"
    cut = tmp_path / "killed.ndjson"
    cut.write_text("\n".join(lines[:-2]) + "\n" + lines[-2][: len(lines[-2]) // 2])
    killed = mcpload("report", str(cut), "-o", "killed.html", cwd=tmp_path)
    assert killed.returncode == 0 and "rebuilt" in killed.stderr, killed.stderr
    page = (tmp_path / "killed.html").read_text()
    assert "rebuilt from an interval log" in page and "not evaluated" in page

    # a rebuild from every interval gives the run's totals back
    full = tmp_path / "full.ndjson"
    full.write_text("\n".join(lines[:-1]) + "\n")
    rebuilt = load_results(full)
    assert rebuilt[REBUILT] and rebuilt["totals"]["calls"] == results["totals"]["calls"]
    for key in ("ok", "failed", "retries"):
        assert rebuilt["totals"][key] == results["totals"][key]
    assert rebuilt["errors"] == results["errors"]
    assert {k: v["calls"] for k, v in rebuilt["operations"].items()} == {
        k: v["calls"] for k, v in results["operations"].items()
    }
    assert rebuilt["sessions"]["started"] == results["sessions"]["started"]
    assert rebuilt["conversations"]["ok"] == results["conversations"]["ok"]
    assert rebuilt["arrivals"]["scheduled"] == results["arrivals"]["scheduled"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"schema": "other/1"}', "not an mcpload results file"),
        ('{"schema": "mcpload.results/2"}', "is not supported"),
        ("[1, 2]", "not an mcpload results file"),
        ("not json at all", "not JSON and not an interval log"),
        ('{"type": "meta"}\nbroken line\n{"type": "interval", "t": 1}\n', ":2: not an interval log record"),
    ],
)
def test_report_command_refuses_bad_files_in_one_line(tmp_path, content, says):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = CliRunner().invoke(app, ["report", str(bad), "-o", str(tmp_path / "x.html")])
    assert done.exit_code == 2 and not (tmp_path / "x.html").exists()
    assert says in done.output and str(bad) in done.output and len(done.output.strip().splitlines()) == 1


def test_report_command_without_plotly_says_what_to_install(tmp_path, monkeypatch, demo_run):
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly → ImportError
    done = CliRunner().invoke(app, ["report", str(demo_run["json"]), "-o", str(tmp_path / "x.html")])
    assert done.exit_code == 2
    assert done.output.strip() == f"mcpload: {NEEDS_PLOTLY}"


def test_run_writes_the_html_report(tmp_path):
    with demo_server(extra_args=("--latency", "1")) as url:
        args = ["run", "--url", url, "--tool", "search_docs", "--args", '{"query": "q"}', "--agents", "2"]
        done = mcpload(*args, "--duration", "1s", "--quiet", "--html", "run.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "report: run.html" in done.stderr
    assert "tools/call search_docs" in (tmp_path / "run.html").read_text()
    missing = mcpload("run", "--url", url, "--tool", "x", "--html", "no/such/dir/r.html", cwd=tmp_path)
    assert missing.returncode == 2 and "no such directory" in missing.stderr


def test_ctrl_c_still_writes_the_html_report(tmp_path):
    with demo_server(extra_args=("--latency", "1")) as url:
        args = ["run", "--url", url, "--tool", "search_docs", "--args", '{"query": "q"}', "--think", "50ms"]
        args += ["--agents", "2", "--duration", "60s", "--quiet", "--out", "r.json", "--html", "r.html"]
        proc = subprocess.Popen(
            [MCPLOAD, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        log, deadline = tmp_path / "r.ndjson", time.monotonic() + 20
        while not (log.exists() and '"type":"interval"' in log.read_text()):  # the run is under way
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"the run did not start: {proc.communicate()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    page = (tmp_path / "r.html").read_text()
    assert "interrupted (Ctrl-C)" in page and "tools/call search_docs" in page


def test_demo_never_skips_its_report_silently(monkeypatch, capsys):
    """A report that cannot be made stops the demo before the load, with one line (issue 15)."""
    import typer

    assert _demo_html(DEMO_HTML) == DEMO_HTML  # plotly is a core dependency: the default report is made
    monkeypatch.setitem(sys.modules, "plotly", None)  # a broken install
    with pytest.raises(typer.Exit) as exc:
        _demo_html(DEMO_HTML)
    assert exc.value.exit_code == 2
    assert capsys.readouterr().err.strip() == f"mcpload: {NEEDS_PLOTLY}"


def test_plain_install_requires_plotly():
    """The HTML report works after `pip install mcpload` without extras: plotly is a core dependency."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("plotly") for dep in project["dependencies"])
    assert not any("plotly" in dep for deps in project["optional-dependencies"].values() for dep in deps)
