"""The Grafana dashboard (dashboards/mcpload.json): importable as is, and every PromQL query in it
names only metrics that mcpload exports (the list comes from the collector itself)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mcpload.outputs.prometheus import RunCollector
from tests.conftest import ROOT, need

DASHBOARD = ROOT / "dashboards" / "mcpload.json"
DS = "${DS_PROMETHEUS}"
METRIC = re.compile(r"\bmcpload_[a-z_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
# Grafana's variables, as a test against a real Prometheus substitutes them
VARIABLES = {"$__rate_interval": "10s", "$__range": "1m", "$__interval": "5s", "$instance": ".*"}


def load() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(items: list[dict]) -> Iterator[dict]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))  # rows may hold their panels when collapsed


def queries(dashboard: dict | None = None) -> list[str]:
    """Every PromQL ``expr`` of the dashboard's panels."""
    dashboard = dashboard or load()
    return [t["expr"] for p in panels(dashboard["panels"]) for t in p.get("targets", []) if "expr" in t]


def runnable(expr: str) -> str:
    """``expr`` with Grafana's variables replaced, ready for Prometheus."""
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown variable in {expr!r}"
    return expr


def exported() -> dict[str, str]:
    """Family name → type of everything mcpload exports, from the collector's own description."""
    return {family.name: family.type for family in RunCollector().describe()}


def family_of(name: str, families: dict[str, str]) -> str | None:
    """The exported family a series name belongs to (``_bucket`` only of a histogram, ``_total`` only
    of a counter), or None."""
    for family, kind in families.items():
        if any(name == family + suffix for suffix in SUFFIXES[kind]):
            return family
    return None


def test_the_dashboard_is_importable_with_a_prometheus_input():
    dashboard = load()
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert dashboard["uid"] == "mcpload" and dashboard["id"] is None
    ids = [p["id"] for p in panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": DS}, panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == DS for t in panel["targets"]), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    titles = {p["title"] for p in panels(dashboard["panels"])}
    for wanted in ("Throughput by operation", "Success ratio", "Latency p50 / p95 / p99", "Active vs target agents"):
        assert wanted in titles


def test_every_query_is_well_formed_and_names_exported_metrics_only():
    families = exported()
    used: set[str] = set()
    exprs = queries()
    variables = load()["templating"]["list"]
    exprs += [v["definition"] for v in variables if v["type"] == "query"]
    assert len(exprs) > 10
    for expr in exprs:
        text = runnable(expr)
        for opening, closing in ("()", "[]", "{}"):
            assert text.count(opening) == text.count(closing), expr
        assert text.count('"') % 2 == 0, expr
        names = METRIC.findall(expr)
        assert names, f"no mcpload metric in {expr!r}"
        for name in names:
            family = family_of(name, families)
            assert family is not None, f"{name} (in {expr!r}) is not a series mcpload exports: {sorted(families)}"
            used.add(family)
    # a metric added to the exporter shows up on the dashboard too
    assert used == set(families), f"not on the dashboard: {sorted(set(families) - used)}"


def test_the_family_lookup_strips_suffixes_by_type():
    families = {"mcpload_calls": "counter", "mcpload_call_duration_seconds": "histogram", "mcpload_active": "gauge"}
    assert family_of("mcpload_calls_total", families) == "mcpload_calls"
    assert family_of("mcpload_call_duration_seconds_bucket", families) == "mcpload_call_duration_seconds"
    assert family_of("mcpload_call_duration_seconds_count", families) == "mcpload_call_duration_seconds"
    assert family_of("mcpload_calls_count", families) is None  # a counter has no _count
    assert family_of("mcpload_calls", families) is None  # a counter's series ends in _total
    assert family_of("mcpload_active", families) == "mcpload_active"
    assert family_of("mcpload_active_total", families) is None


def test_promtool_parses_every_query(tmp_path: Path):
    promtool = shutil.which("promtool")
    need(promtool is not None, "promtool not installed (Debian package prometheus)")
    rules = [{"record": f"mcpload:dashboard:q{i}", "expr": runnable(expr)} for i, expr in enumerate(queries())]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
