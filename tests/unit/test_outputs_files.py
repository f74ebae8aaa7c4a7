"""The file outputs written after a run: JUnit XML of the thresholds, CSV of the intervals."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

from mcpload.outcome import KINDS
from mcpload.outputs.csv_output import COLUMNS, CSVOutput, write_csv
from mcpload.outputs.junit import JUnitOutput, write_junit

RESULTS = {
    "schema": "mcpload.results/1",
    "started_at": "2025-06-01T10:00:00+00:00",
    "duration_s": 12.5,
    "scenario": "checkout <agents>",
    "seed": 7,
    "target": {"url": "http://127.0.0.1:8000/mcp"},
    "totals": {"calls": 100, "success_rate": 0.99},
    "thresholds": [
        {"metric": "success_rate", "expr": "rate > 0.999", "passed": False, "value": 0.99, "no_data": False},
        {"metric": "latency{op:tools/call search}", "expr": "p(95) < 400ms", "passed": True, "value": 120.5},
        {"metric": "latency_corrected", "expr": "p(99) < 1s", "passed": True, "value": None, "no_data": True},
        {"metric": "errors{kind:timeout}", "expr": "count < 1", "passed": False, "value": 3, "no_data": False},
    ],
    "aborted_by": None,
    "intervals": [],
}


def test_junit_one_case_per_threshold(tmp_path):
    path = tmp_path / "junit.xml"
    write_junit(RESULTS, path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("errors") == "0"
    assert suite.get("time") == "12.500"
    assert suite.get("name") == "mcpload checkout <agents>"  # escaped in the file, text again when parsed
    assert suite.get("timestamp") == "2025-06-01T10:00:00"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["target"] == "http://127.0.0.1:8000/mcp" and props["seed"] == "7"

    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "success_rate: rate > 0.999",
        "latency{op:tools/call search}: p(95) < 400ms",
        "latency_corrected: p(99) < 1s",
        "errors{kind:timeout}: count < 1",
    ]
    failed = cases[0].find("failure")
    assert failed is not None and "measured 0.99" in failed.get("message")
    assert "measured: 0.99" in failed.text
    assert cases[1].find("failure") is None
    assert cases[1].find("system-out").text == "measured: 120.5"
    no_data = cases[2]
    assert no_data.find("failure") is None
    assert no_data.find("properties/property").attrib == {"name": "no_data", "value": "true"}
    assert "no data" in no_data.find("system-out").text
    assert "measured 3" in cases[3].find("failure").get("message")
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


def test_junit_without_thresholds_and_aborted_run(tmp_path):
    results = {**RESULTS, "thresholds": [], "aborted_by": "success_rate rate > 0.9\x01"}
    JUnitOutput(tmp_path / "j.xml").stop(results)
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite.get("tests") == "0" and suite.get("failures") == "0"
    assert "run aborted: threshold success_rate rate > 0.9" in suite.find("system-out").text  # control char replaced


def interval(t: float, **extra) -> dict:
    base = {
        "t": t,
        "calls": 10,
        "ok": 9,
        "failed": 1,
        "errors": {"timeout": 1},
        "retries": 0,
        "calls_per_s": 10.0,
        "p50_ms": 5.0,
        "p95_ms": 9.5,
        "p99_ms": 12.0,
        "max_ms": 13.1,
        "active_agents": 3,
        "target_agents": 4,
        "ops": {"tools/call x": {"calls": 10}},
    }
    return {**base, **extra}


def test_csv_stable_columns(tmp_path):
    path = tmp_path / "iv.csv"
    rows = [interval(1.0), interval(2.0, calls=0, ok=0, failed=0, errors={}, p50_ms=None, p95_ms=None)]
    write_csv(rows, path)
    with path.open(newline="") as f:
        table = list(csv.reader(f))
    header = table[0]
    assert tuple(header) == COLUMNS
    assert header[:12] == [
        "t",
        "calls",
        "ok",
        "failed",
        "retries",
        "calls_per_s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "active_agents",
        "target_agents",
    ]
    assert [c for c in header if c.startswith("errors_")] == [f"errors_{k}" for k in KINDS if k != "ok"]
    first = dict(zip(header, table[1], strict=True))
    assert first["t"] == "1.0" and first["calls"] == "10" and first["p95_ms"] == "9.5"
    assert first["errors_timeout"] == "1" and first["errors_transport"] == "0"
    assert first["sessions_started"] == ""  # a field the record lacks is empty, never a made-up 0
    second = dict(zip(header, table[2], strict=True))
    assert second["p50_ms"] == "" and second["p95_ms"] == "" and second["errors_timeout"] == "0"
    assert len(table) == 3


def test_csv_output_writes_the_runs_intervals(tmp_path):
    CSVOutput(tmp_path / "c.csv").stop({"intervals": [interval(1.0)]})
    assert (tmp_path / "c.csv").read_text().count("\n") == 2
    CSVOutput(tmp_path / "empty.csv").stop({})
    assert (tmp_path / "empty.csv").read_text().strip() == ",".join(COLUMNS)
