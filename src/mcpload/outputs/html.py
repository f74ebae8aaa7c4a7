"""The HTML report: one self-contained file, interactive plotly charts, opens offline.

plotly.js is embedded once from the plotly package (a core dependency); nothing is
fetched from the network. Whatever the server sent is text, never markup: the Jinja2 template
autoescapes, chart data travels as JSON with ``<``, ``>``, ``&`` and U+2028/9 escaped inside a
non-executed ``application/json`` script, chart labels are entity-escaped for plotly, and a
Content-Security-Policy lets only the report's own two scripts run (by hash) and blocks every
network request.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from mcpload.atomic import write_text_atomic
from mcpload.findings import findings_of
from mcpload.outputs import html_charts as charts
from mcpload.outputs import html_context as ctx
from mcpload.outputs.base import FileOutput
from mcpload.outputs.findings_text import evidence_text, span_text
from mcpload.outputs.html_series import series_chart
from mcpload.version import __version__

NEEDS_PLOTLY = "the HTML report needs plotly, a dependency of mcpload that is missing: pip install plotly"

# Draws every figure of the JSON block; constant, so that the CSP can name it by hash.
BOOT_JS = """(function () {
  var spec = JSON.parse(document.getElementById("mcpload-figures").textContent);
  var config = {responsive: true, displaylogo: false};
  spec.figures.forEach(function (f) {
    var el = document.getElementById(f.id);
    if (!el) { return; }
    if (spec.template && !f.layout.template) { f.layout.template = spec.template; }
    Plotly.newPlot(el, f.data, f.layout, config);
  });
})();"""


class HtmlReportError(Exception):
    """The report cannot be made (plotly missing); the message is one line for the user."""


def require_plotly() -> None:
    """Raise ``HtmlReportError`` when plotly is not installed (a broken install: it is a core dependency)."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise HtmlReportError(NEEDS_PLOTLY) from None


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``</script>``, ``<!--`` and U+2028/9 cannot occur."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _figures(results: dict[str, Any]) -> dict[str, Any]:
    """Section key → plotly figure, or None where a chart has nothing to draw."""
    intervals = [iv for iv in ctx.as_list(results.get("intervals")) if isinstance(iv, dict)]
    operations = ctx.as_dict(results.get("operations"))
    resources, capacity = ctx.as_dict(results.get("resources")), ctx.as_dict(results.get("capacity"))
    return {
        "throughput": charts.throughput_chart(intervals),
        "agents": charts.agents_chart(intervals),
        "latency": charts.latency_chart(intervals),
        "distribution": charts.distribution_chart(results.get("histograms")),
        "op_percentiles": charts.operation_percentiles_chart(operations),
        "op_rate": charts.operation_rate_chart(intervals),
        "op_latency": charts.operation_latency_chart(intervals),
        "errors_time": charts.errors_over_time_chart(intervals),
        "errors_ops": charts.errors_by_operation_chart(operations),
        "sessions": charts.sessions_chart(intervals),
        "loop_lag": charts.loop_lag_chart(intervals),
        "canary": charts.canary_chart(intervals),
        "arrivals": charts.arrivals_chart(intervals) if results.get("arrivals") else None,
        "resources": series_chart(
            "Resources over time",
            ctx.as_list(resources.get("samples")),
            ("t", "t_s", "time_s", "elapsed_s", "time"),
            ("name", "process", "label", "pid", "target"),
        ),
        "capacity": series_chart(
            "Capacity steps",
            ctx.as_list(capacity.get("steps")),
            ("agents", "target_agents", "rate", "arrival_rate", "level", "step", "t"),
        ),
    }


def render_html(results: dict[str, Any]) -> str:
    """The report of a results document (``mcpload.results/1``) as one self-contained HTML page.

    Raises:
        HtmlReportError: plotly is not installed.
    """
    require_plotly()
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    results = results if isinstance(results, dict) else {}
    specs, template, titles = [], None, {}
    figures = _figures(results)
    for key, fig in figures.items():
        if fig is None:
            continue
        spec = json.loads(fig.to_json())
        layout = spec.setdefault("layout", {})
        if template is None:
            template = layout.pop("template", None)
        elif layout.get("template") == template:
            del layout["template"]
        title = layout.pop("title", None) or {}  # shown as the figure's HTML caption instead
        titles[key] = title.get("text", "") if isinstance(title, dict) else str(title)
        specs.append({"id": f"chart-{key}", "data": spec.get("data", []), "layout": layout})
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")  # none today; "<\/" means the same in JS
    env = Environment(loader=PackageLoader("mcpload.outputs", "templates"), autoescape=True, undefined=StrictUndefined)
    resources, capacity = ctx.as_dict(results.get("resources")), ctx.as_dict(results.get("capacity"))
    summary = ctx.matrix(resources.get("summary"))  # {metric: {stat: value}} reads best as one table
    page = env.get_template("report.html.j2").render(
        title=f"mcpload report — {results.get('scenario') or 'run'}",
        version=__version__,
        schema=str(results.get("schema", "")),
        verdict=ctx.verdict(results),
        findings=finding_rows(findings_of(results), {k for k, fig in figures.items() if fig is not None}),
        notes=ctx.notes(results),
        glance=ctx.glance(results),
        headline=ctx.headline(results),
        thresholds=ctx.thresholds(results),
        operations=ctx.operations(results),
        top_errors=ctx.top_errors(results),
        slowest_traces=ctx.slowest_traces(results),
        errors=ctx.errors_text(results.get("errors")),
        sessions=ctx.sessions(results),
        conversations=ctx.conversations(results),
        arrivals=ctx.arrivals(results),
        has_resources="resources" in results,
        resources_summary=summary,
        resources_facts=ctx.facts(resources, ("samples", "summary") if summary["rows"] else ("samples",)),
        has_capacity="capacity" in results,
        capacity_facts=ctx.facts(capacity, ("steps",)),
        capacity_table=ctx.table(capacity.get("steps")),
        charts={key: {"id": f"chart-{key}", "title": titles[key]} if fig else None for key, fig in figures.items()},
        csp=f"default-src 'none'; script-src {_csp_hash(plotly_js)} {_csp_hash(BOOT_JS)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:",
        plotly_js=Markup(plotly_js),  # the plotly package's own bundle (holds no "</script")
        figures_json=Markup(script_json({"template": template, "figures": specs})),
        boot_js=Markup(BOOT_JS),
    )
    return page


def finding_rows(findings: list[dict[str, Any]], drawn: set[str]) -> list[dict[str, Any]]:
    """What the report's findings section shows of each finding: its texts, its scalar figures, the
    time range, and links to the charts that hold its evidence (only those drawn)."""
    rows = []
    for f in findings:
        listed = f.get("charts")
        charts_: list[Any] = listed if isinstance(listed, list) else []
        rows.append(
            {
                "id": str(f.get("id")),
                "severity": str(f.get("severity")),
                "title": str(f.get("title")),
                "advice": str(f.get("advice") or ""),
                "evidence": evidence_text(f.get("evidence")),
                "span": span_text(f.get("interval")),
                "links": [(f"#chart-{key}", str(key)) for key in charts_ if key in drawn],
            }
        )
    return rows


def write_html(results: dict[str, Any], path: str | Path) -> Path:
    """Render the report and write it atomically (temp file + rename). Returns the path.

    Raises:
        HtmlReportError: plotly is not installed.
        OSError: the file cannot be written.
    """
    return write_text_atomic(path, render_html(results))


class HtmlOutput(FileOutput):
    """Writes the HTML report when the run stops: ``run_scenario(..., outputs=[HtmlOutput("r.html")])``."""

    name = "html"

    def __init__(self, path: str | Path) -> None:
        require_plotly()
        super().__init__(path)

    def stop(self, results: dict[str, Any]) -> None:
        write_html(results, self.path)
