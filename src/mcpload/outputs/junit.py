"""The thresholds of a run as a JUnit XML report, one test case per threshold, for CI systems that
show test results (GitLab, Jenkins, GitHub Actions test reporters)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from mcpload.atomic import write_atomic
from mcpload.outputs.base import FileOutput

CLASSNAME = "mcpload.thresholds"
# XML 1.0 forbids most control characters, even escaped: a stray one would make the file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _shown(value: Any) -> str:
    if value is None:
        return "no data"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def junit_tree(results: dict[str, Any]) -> ET.ElementTree:
    """Build the JUnit document of a results document (schema ``mcpload.results/1``).

    A failed threshold is a ``<failure>`` with the measured value; a threshold without data passes
    (as it does for the exit code), with a ``no_data`` property and a note in ``<system-out>``. A run
    aborted by a threshold says so in the suite's ``<system-out>``.
    """
    thresholds = results.get("thresholds") or []
    failures = sum(1 for th in thresholds if not th.get("passed"))
    duration = f"{float(results.get('duration_s') or 0):.3f}"
    name = f"mcpload {results.get('scenario') or 'run'}"
    suites = ET.Element("testsuites", name="mcpload", tests=str(len(thresholds)), failures=str(failures))
    suites.set("errors", "0")
    suites.set("time", duration)
    suite = ET.SubElement(suites, "testsuite", name=_text(name), tests=str(len(thresholds)), failures=str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", duration)
    if results.get("started_at"):
        suite.set("timestamp", _text(results["started_at"]).replace("+00:00", ""))
    props = ET.SubElement(suite, "properties")
    target = results.get("target") or {}
    for key, value in (
        ("target", target.get("url") or target.get("command")),
        ("seed", results.get("seed")),
        ("calls", (results.get("totals") or {}).get("calls")),
        ("success_rate", (results.get("totals") or {}).get("success_rate")),
    ):
        if value is not None:
            ET.SubElement(props, "property", name=key, value=_text(_shown(value)))
    for th in thresholds:
        metric, expr, value = _text(th.get("metric")), _text(th.get("expr")), th.get("value")
        case = ET.SubElement(suite, "testcase", name=f"{metric}: {expr}", classname=CLASSNAME, time="0")
        if th.get("no_data") or value is None:
            case_props = ET.SubElement(case, "properties")
            ET.SubElement(case_props, "property", name="no_data", value="true")
            ET.SubElement(case, "system-out").text = f"no data for {metric}: passes, as k6 does"
        elif not th.get("passed"):
            failure = ET.SubElement(case, "failure", message=f"{metric}: {expr} failed: measured {_shown(value)}")
            failure.set("type", "threshold")
            failure.text = f"{metric}: {expr}\nmeasured: {_shown(value)}"
        else:
            ET.SubElement(case, "system-out").text = f"measured: {_shown(value)}"
    if results.get("aborted_by"):
        ET.SubElement(suite, "system-out").text = _text(f"run aborted: threshold {results['aborted_by']} failed")
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(results: dict[str, Any], path: str | Path) -> None:
    """Write the JUnit XML report of ``results`` to ``path`` atomically (temp file + rename)."""
    tree = junit_tree(results)
    write_atomic(path, lambda tmp: tree.write(tmp, encoding="utf-8", xml_declaration=True))


class JUnitOutput(FileOutput):
    """Writes the JUnit report when the run ends (``mcpload run --junit PATH``)."""

    name = "junit"

    def stop(self, results: dict[str, Any]) -> None:
        """Write the report."""
        write_junit(results, self.path)
