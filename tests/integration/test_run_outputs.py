"""`mcpload run --junit/--csv/--otlp` as a user runs it: files written after a real run, bad values
refused with one line and exit 2 before any load."""

from __future__ import annotations

import csv
import json
import sys
import xml.etree.ElementTree as ET

from typer.testing import CliRunner

from mcpload.cli import app
from tests.integration.test_run_cli import SEARCH, mcpload, write_scenario


def test_junit_and_csv_after_a_run(demo_url, tmp_path):
    thresholds = {
        "success_rate": ["rate > 0.5"],
        f"latency{{op:{SEARCH}}}": ["p(95) < 1ms"],  # fails: the demo's round trip is above 1 ms
        "latency{op:tools/call get_doc}": ["p(95) < 1s"],  # never called: no data
    }
    name = write_scenario(tmp_path, demo_url, thresholds=thresholds)
    res = mcpload("run", name, "--out", "r.json", "-q", "--junit", "j.xml", "--csv", "iv.csv", cwd=tmp_path)
    assert res.returncode == 99, res.stderr
    results = json.loads((tmp_path / "r.json").read_text())

    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failed = cases[f"latency{{op:{SEARCH}}}: p(95) < 1ms"].find("failure")
    assert failed is not None and "measured" in failed.get("message")
    assert cases["success_rate: rate > 0.5"].find("failure") is None
    no_data = cases["latency{op:tools/call get_doc}: p(95) < 1s"]
    assert no_data.find("failure") is None and "no data" in no_data.find("system-out").text

    with (tmp_path / "iv.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(results["intervals"]) >= 1
    assert sum(int(r["calls"]) for r in rows) == results["totals"]["calls"]
    assert [float(r["t"]) for r in rows] == [iv["t"] for iv in results["intervals"]]


def test_bad_output_options_exit_2_before_the_load(tmp_path):
    runner = CliRunner()
    adhoc = ["run", "--url", "http://127.0.0.1:9/mcp", "--tool", "x", "--agents", "1", "--duration", "1s", "-q"]
    res = runner.invoke(app, [*adhoc, "--otlp", "localhost:4318"])
    assert res.exit_code == 2 and "expected an http(s) URL" in res.output and res.output.count("\n") == 1
    res = runner.invoke(app, [*adhoc, "--junit", str(tmp_path / "no" / "j.xml")])
    assert res.exit_code == 2 and "--junit" in res.output and "no such directory" in res.output
    res = runner.invoke(app, [*adhoc, "--csv", str(tmp_path / "no" / "c.csv")])
    assert res.exit_code == 2 and "--csv" in res.output and "no such directory" in res.output


def test_otlp_without_the_extra_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.metrics", None)  # import fails as if not installed
    adhoc = ["run", "--url", "http://127.0.0.1:9/mcp", "--tool", "x", "--agents", "1", "--duration", "1s"]
    res = CliRunner().invoke(app, [*adhoc, "--otlp", "http://127.0.0.1:4318"])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "pip install 'mcpload[otel]'" in res.output
