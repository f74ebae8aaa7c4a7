"""The HTML diff of two runs (``mcpload compare --html``): one self-contained page, opens offline,
with both runs overlaid — calls/s and p95 over time, per-operation p95 side by side — and the table
of deltas.

Built like the HTML report (``outputs.html``): plotly.js embedded from the plotly package (the
optional ``report`` extra), a Jinja2 template with autoescape, chart data as JSON with ``<``, ``>``
and ``&`` escaped in a non-executed ``application/json`` script, server names entity-escaped for
plotly's labels, and a Content-Security-Policy that lets only the page's two scripts run.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from mcpload.atomic import write_text_atomic
from mcpload.compare import LATENCIES, Comparison, Side
from mcpload.outputs.html import require_plotly, script_json
from mcpload.outputs.html_charts import label
from mcpload.version import __version__

BASE_COLOR, NEW_COLOR = "#7f7f7f", "#1f77b4"

BOOT_JS = """(function () {
  var spec = JSON.parse(document.getElementById("mcpload-figures").textContent);
  spec.figures.forEach(function (f) {
    var el = document.getElementById(f.id);
    if (el) { Plotly.newPlot(el, f.data, f.layout, {responsive: true, displaylogo: false}); }
  });
})();"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="generator" content="mcpload {{ version }}">
<title>mcpload compare — {{ base.name }} → {{ new.name }}</title>
<style>
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329;
         background: #f6f7f9; }
  main { max-width: 1340px; margin: 0 auto; padding: 8px 32px 40px; }
  h1 { font-size: 22px; font-weight: 600; margin: 18px 0 4px; }
  section { background: #fff; border: 1px solid #e2e6ea; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
  h2 { margin: 0 0 12px; font-size: 17px; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #e2e6ea; vertical-align: top; }
  th { font-weight: 600; color: #5b6670; font-size: 12px; }
  td.n { text-align: right; white-space: nowrap; }
  .worse { color: #c62828; font-weight: 600; } .better { color: #1a7f37; font-weight: 600; }
  .dim { color: #5b6670; }
  .chart { min-height: 320px; margin: 8px 0; }
</style>
</head>
<body>
<main>
<h1>mcpload compare</h1>
<section>
  <h2>Runs</h2>
  <table>
    <tr><th></th><th>file</th><th>scenario</th><th>started</th><th>duration</th><th>target</th></tr>
    {% for side in (base, new) %}
    <tr><th>{{ side.role }}</th><td>{{ side.name }}</td><td>{{ side.scenario }}</td><td>{{ side.started_at }}</td>
        <td>{{ side.duration }}</td><td>{{ side.target }}</td></tr>
    {% endfor %}
  </table>
</section>
{% if verdicts %}
<section>
  <h2>Assertions</h2>
  <table>
    {% for v in verdicts %}
    <tr><td class="{{ 'better' if v.passed else 'worse' }}">{{ 'pass' if v.passed else 'FAIL' }}</td>
        <td>{{ v.text }}</td><td class="n">{{ v.value }}</td></tr>
    {% endfor %}
  </table>
</section>
{% endif %}
{% if findings %}
<section>
  <h2>Findings new or gone</h2>
  <table>
    {% for f in findings %}
    <tr><td class="{{ 'worse' if f.change == 'new' else 'better' }}">{{ f.change }}</td><td>{{ f.severity }}</td>
        <td>{{ f.id }}</td><td>{{ f.title }}</td></tr>
    {% endfor %}
  </table>
</section>
{% endif %}
<section>
  <h2>Deltas (new relative to base)</h2>
  <table>
    <tr><th>operation</th>{% for c in columns %}<th class="n">{{ c }}</th>{% endfor %}</tr>
    {% for row in rows %}
    <tr><td>{{ row.name }}{% if row.note %} <span class="dim">({{ row.note }})</span>{% endif %}</td>
      {% for cell in row.cells %}<td class="n">{{ cell.base }} → {{ cell.new }}
        <span class="{{ cell.tone }}">{{ cell.delta }}</span></td>{% endfor %}</tr>
    {% endfor %}
  </table>
</section>
{% for chart in charts %}
<section><div id="{{ chart }}" class="chart"></div></section>
{% endfor %}
</main>
<script>{{ plotly_js }}</script>
<script type="application/json" id="mcpload-figures">{{ figures_json }}</script>
<script>{{ boot_js }}</script>
</body>
</html>
"""


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _layout(title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": 340,
        "margin": {"l": 60, "r": 20, "t": 60, "b": 45},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        **extra,
    }


def _series(results: dict[str, Any], key: str) -> tuple[list[Any], list[Any]]:
    intervals = [iv for iv in results.get("intervals") or [] if isinstance(iv, dict)]
    return [iv.get("t") for iv in intervals], [iv.get(key) for iv in intervals]


def _over_time(title: str, y_title: str, key: str, runs: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    data = []
    for name, results, color in runs:
        x, y = _series(results, key)
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y, "line": {"color": color}})
    xaxis = {"title": {"text": "seconds since start"}, "rangemode": "tozero"}
    return {"data": data, "layout": _layout(title, y_title, xaxis=xaxis)}


def _op_bars(comparison: Comparison, names: tuple[str, str]) -> dict[str, Any] | None:
    rows = [r for r in comparison.rows if r.operation != "all"]
    if not rows:
        return None
    ops = [label(r.operation) for r in rows]
    data = []
    for name, color, sides in (
        (names[0], BASE_COLOR, [r.base for r in rows]),
        (names[1], NEW_COLOR, [r.new for r in rows]),
    ):
        values = [side.latency.get("p95") if side else None for side in sides]
        data.append({"type": "bar", "name": name, "x": ops, "y": values, "marker": {"color": color}})
    return {"data": data, "layout": _layout("p95 latency by operation", "ms", barmode="group")}


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if kind == "rate" else f"{value:.1f}"


def _cell(
    base: float | None, new: float | None, delta: float | None, kind: str, higher_is_worse: bool
) -> dict[str, Any]:
    unit = "pp" if kind == "rate" else "%"
    noise = 0.1 if kind == "rate" else 5.0
    tone = ""
    if delta is not None and abs(delta) >= noise:
        tone = "worse" if (delta > 0) == higher_is_worse else "better"
    shown = "n/a" if delta is None else f"{delta:+.1f}{unit}" if unit == "%" else f"{delta:+.2f}{unit}"
    return {"base": _fmt(base, kind), "new": _fmt(new, kind), "delta": shown, "tone": tone}


def _latency(side: Side | None, p: str) -> float | None:
    return side.latency.get(p) if side is not None else None


def _table_rows(comparison: Comparison) -> list[dict[str, Any]]:
    out = []
    for row in comparison.rows:
        b, n, d = row.base, row.new, row.deltas
        cells = [
            _cell(b.calls_per_s if b else None, n.calls_per_s if n else None, d["calls_per_s_delta"], "num", False),
            _cell(b.success_rate if b else None, n.success_rate if n else None, d["success_rate_delta"], "rate", False),
        ]
        cells += [_cell(_latency(b, p), _latency(n, p), d[f"{p}_delta"], "num", True) for p in LATENCIES]
        note = "new only" if b is None else "base only" if n is None else ""
        out.append({"name": row.operation, "note": note, "cells": cells})
    return out


def _run_facts(role: str, name: str, results: dict[str, Any]) -> dict[str, str]:
    target = target if isinstance(target := results.get("target"), dict) else {}
    duration = results.get("duration_s")
    return {
        "role": role,
        "name": name,
        "scenario": str(results.get("scenario") or "-"),
        "started_at": str(results.get("started_at") or "-"),
        "duration": f"{duration:.1f} s" if isinstance(duration, int | float) else "-",
        "target": str(target.get("url") or target.get("command") or "-"),
    }


def render_compare_html(
    comparison: Comparison,
    base: dict[str, Any],
    new: dict[str, Any],
    names: tuple[str, str] = ("base", "new"),
    verdicts: list[tuple[Any, bool, float | None]] = (),  # type: ignore[assignment]
) -> str:
    """The diff page of two results documents and their comparison.

    Args:
        comparison: ``compare(base, new)``.
        base, new: the results documents.
        names: how the two runs are labelled (their file names).
        verdicts: ``(assertion, passed, value)`` of each ``--assert``.

    Raises:
        HtmlReportError: plotly is not installed.
    """
    require_plotly()
    from jinja2 import Environment
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    legend = (label(f"base: {names[0]}"), label(f"new: {names[1]}"))
    runs = [(legend[0], base, BASE_COLOR), (legend[1], new, NEW_COLOR)]
    figures = {
        "chart-rate": _over_time("Calls per second", "calls/s", "calls_per_s", runs),
        "chart-p95": _over_time("p95 latency over time", "ms", "p95_ms", runs),
        "chart-ops": _op_bars(comparison, legend),
    }
    specs = [{"id": key, **fig} for key, fig in figures.items() if fig is not None]
    plotly_js = get_plotlyjs()
    page = (
        Environment(autoescape=True)
        .from_string(TEMPLATE)
        .render(
            version=__version__,
            csp=f"default-src 'none'; script-src {_hash(plotly_js)} {_hash(BOOT_JS)}; "
            "style-src 'unsafe-inline'; img-src data: blob:; font-src data:",
            base=_run_facts("base", names[0], base),
            new=_run_facts("new", names[1], new),
            verdicts=[
                {
                    "passed": passed,
                    "text": a.text,
                    "value": a.shown(value),
                }
                for a, passed, value in verdicts
            ],
            findings=[
                {"change": change, **{k: str(f.get(k)) for k in ("severity", "id", "title")}}
                for change, found in (("new", comparison.new_findings), ("gone", comparison.gone_findings))
                for f in found
            ],
            columns=["calls/s", "success", *(f"{p} ms" for p in LATENCIES)],
            rows=_table_rows(comparison),
            charts=[spec["id"] for spec in specs],
            plotly_js=Markup(plotly_js),  # the plotly package's own bundle
            figures_json=Markup(script_json({"figures": specs})),
            boot_js=Markup(BOOT_JS),
        )
    )
    return page


def write_compare_html(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    """Render the diff page (``render_compare_html`` arguments) and write it atomically. Returns the path."""
    return write_text_atomic(path, render_compare_html(*args, **kwargs))
