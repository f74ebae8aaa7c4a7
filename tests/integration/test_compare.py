"""`mcpload compare` on two real runs against demo servers of different latency (5 ms and 50 ms
median): the table, the exit codes of --assert (0, 99, 2) and the self-contained HTML diff."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpload.cli import app
from mcpload.demo.launch import demo_server
from mcpload.engine.execute import run_scenario
from mcpload.scenario import Scenario

SEARCH = "tools/call search_docs"


def _run(latency: str, out: Path) -> None:
    with demo_server(extra_args=("--latency", latency, "--seed", "3")) as url:
        scenario = Scenario.from_dict(
            {
                "name": "compare-test",
                "target": {"url": url},
                "agents": {
                    "a": {
                        "workflow": [
                            {"call": "search_docs", "args": {"query": "x", "limit": 2}},
                            {"call": "get_doc", "args": {"doc_id": "doc-1"}},
                        ]
                    }
                },
                "profiles": [{"type": "constant-agents", "agents": 4, "duration": "2s"}],
            },
            source="<test>",
        )
        asyncio.run(run_scenario(scenario, seed=1, out=out))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("compare")
    base, new = directory / "base.json", directory / "new.json"
    _run("5", base)
    _run("50", new)
    return base, new


def compare(*args: str):
    return CliRunner().invoke(app, ["compare", *map(str, args)], catch_exceptions=False)


def test_table_shows_both_runs_and_deltas(runs):
    base, new = runs
    res = compare(base, new)
    assert res.exit_code == 0, res.output
    assert "base.json" in res.output and "new.json" in res.output
    for op in ("all", SEARCH, "tools/call get_doc"):
        assert op in res.output
    # the slower server: p95 went up by far more than 100 %
    [row] = [line for line in res.output.splitlines() if line.strip().startswith("all")]
    deltas = [float(d) for d in re.findall(r"([+-]\d+\.\d+)%", row)]
    assert deltas[0] < -20  # calls/s fell (the agents wait longer for each answer)
    assert deltas[-3] > 100 and deltas[-2] > 0  # p50, p95 (a tail on a busy machine is noisier)


def test_assert_exit_codes(runs):
    base, new = runs
    ok = compare(base, new, "--assert", "p50_delta > 100%", "--assert", "success_rate_delta > -0.1%")
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("✓") == 2 and "✗" not in ok.output

    failed = compare(base, new, "--assert", "p50_delta < 10%", "--assert", f"{SEARCH}: p50_delta < 10%")
    assert failed.exit_code == 99, failed.output
    assert failed.output.count("✗") == 2

    same = compare(base, base, "--assert", "p95_delta < 10%", "--assert", "calls_per_s_delta > -1%")
    assert same.exit_code == 0, same.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--assert", "p95 < 10%"], "unknown metric 'p95' (did you mean 'p95_delta'?)"),
        (["--assert", "p95_delta < 10"], "needs the unit"),
        (["--assert", "tools/call nope: p95_delta < 10%"], "no operation 'tools/call nope' in either run"),
    ],
)
def test_bad_expression_exits_2(runs, args, message):
    base, new = runs
    res = compare(base, new, *args)
    assert res.exit_code == 2
    assert message in res.output
    assert res.output.startswith("mcpload: ") and res.output.count("\n") == 1  # one line, no table


def test_unreadable_file_exits_2(runs, tmp_path):
    base, _ = runs
    res = compare(base, tmp_path / "missing.json")
    assert res.exit_code == 2 and "missing.json: no such file" in res.output
    (tmp_path / "junk.json").write_text("[1, 2")
    res = compare(tmp_path / "junk.json", base)
    assert res.exit_code == 2 and "junk.json: not a JSON results file" in res.output


def test_html_diff_is_self_contained_and_escaped(runs, tmp_path):
    base, new = runs
    hostile = json.loads(new.read_text())
    evil = "tools/call <script>alert(1)</script>"
    hostile["operations"][evil] = copy.deepcopy(hostile["operations"][SEARCH])
    hostile["scenario"] = "</script><img src=x onerror=alert(2)>"
    evil_new = tmp_path / "new.json"
    evil_new.write_text(json.dumps(hostile))
    out = tmp_path / "diff.html"
    res = compare(base, evil_new, "--html", out, "--assert", "p95_delta < 10%")
    assert res.exit_code == 99, res.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no external script, stylesheet or image (plotly.js itself is inline)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", markup, re.IGNORECASE)
    assert "default-src &#39;none&#39;" in page  # and the CSP would block any request anyway
    assert "Plotly.newPlot" in page and "chart-rate" in page and "chart-p95" in page and "chart-ops" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the table shows it as text
    figures = re.search(r'<script type="application/json" id="mcpload-figures">(.*?)</script>', page, re.DOTALL)
    assert figures is not None and "<" not in figures.group(1)
    spec = json.loads(figures.group(1))
    names = [trace["name"] for fig in spec["figures"] for trace in fig["data"]]
    assert "base: base.json" in names and "new: new.json" in names
    [bars] = [fig for fig in spec["figures"] if fig["id"] == "chart-ops"]
    assert "tools/call &lt;script&gt;alert(1)&lt;/script&gt;" in bars["data"][0]["x"]  # plotly shows it as typed


def test_html_needs_an_existing_directory(runs, tmp_path):
    base, new = runs
    res = compare(base, new, "--html", tmp_path / "nope" / "diff.html")
    assert res.exit_code == 2 and "no such directory" in res.output


def test_html_without_plotly_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "plotly", None)  # import fails as in a broken install
    res = compare(tmp_path / "a.json", tmp_path / "b.json", "--html", tmp_path / "diff.html")
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "pip install plotly" in res.output
