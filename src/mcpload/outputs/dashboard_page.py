"""The dashboard's page: plotly.js from the plotly package, the layouts and trace styles of the
HTML report's own charts (``html_charts``, drawn once on a sample interval), and a small script
that fills them from the interval events. Self-contained: it loads nothing from the network."""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from mcpload.outputs.html import _csp_hash, script_json

#: charts whose traces are fixed: the report's chart and, per trace, the interval key and how to read it
#: (``value`` as it is, ``per_s`` divided by the interval's length, ``count`` 0 when absent)
FIXED = {
    "throughput": ("throughput_chart", [("calls_per_s", "value"), ("failed", "per_s")]),
    "latency": ("latency_chart", [("p50_ms", "value"), ("p95_ms", "value"), ("p99_ms", "value"), ("max_ms", "value")]),
    "agents": ("agents_chart", [("active_agents", "value"), ("target_agents", "value")]),
    "sessions": (
        "sessions_chart",
        [
            ("sessions_started", "count"),
            ("sessions_failed", "count"),
            ("conversations_ok", "count"),
            ("conversations_failed", "count"),
        ],
    ),
    "loop_lag": ("loop_lag_chart", [("loop_lag_ms", "value"), ("loop_lag_mean_ms", "value")]),
}
#: charts with one trace per operation or error kind: the report's chart, the interval dict, its field
DYNAMIC = {
    "op_rate": ("operation_rate_chart", "ops", "calls", "per_s"),
    "op_latency": ("operation_latency_chart", "ops", "p95_ms", "value"),
    "errors_time": ("errors_over_time_chart", "errors", None, "bars"),
}
ORDER = ("throughput", "latency", "agents", "op_rate", "op_latency", "errors_time", "sessions", "loop_lag")
SAMPLE = [
    {
        "t": 1.0, "calls_per_s": 1, "failed": 1, "active_agents": 1, "target_agents": 1, "p50_ms": 1, "p95_ms": 1,
        "p99_ms": 1, "max_ms": 1, "sessions_started": 1, "loop_lag_ms": 1, "loop_lag_mean_ms": 1,
        "errors": {"x": 1}, "ops": {"x": {"calls": 1, "p95_ms": 1}},
    }
]  # fmt: skip


def chart_specs() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(plotly template, [chart spec])`` from the report's chart functions: their layouts and trace
    styles, without data; the script fills ``x``/``y``."""
    from mcpload.outputs import html_charts

    template, specs = None, []
    for key in ORDER:
        fixed, dynamic = FIXED.get(key), DYNAMIC.get(key)
        name = fixed[0] if fixed else dynamic[0]  # type: ignore[index]
        fig = getattr(html_charts, name)(SAMPLE)
        spec = json.loads(fig.to_json())
        layout = spec.get("layout", {})
        if template is None:
            template = layout.pop("template", None)
        else:
            layout.pop("template", None)
        title = layout.pop("title", None) or {}
        traces = [{k: v for k, v in t.items() if k not in ("x", "y", "width")} for t in spec.get("data", [])]
        entry: dict[str, Any] = {"id": f"chart-{key}", "title": title.get("text", ""), "layout": layout}
        if fixed:
            if len(traces) != len(fixed[1]):
                raise RuntimeError(f"dashboard: the report's {name} has {len(traces)} traces, expected {len(fixed[1])}")
            entry["traces"] = [{**t, "key": k, "read": how} for t, (k, how) in zip(traces, fixed[1], strict=True)]
        else:
            proto = {k: v for k, v in traces[0].items() if k not in ("name",)}
            entry.update(dynamic=True, group=dynamic[1], field=dynamic[2], read=dynamic[3], proto=proto)  # type: ignore[index]
        specs.append(entry)
    return template, specs


def _asset(name: str) -> str:
    return (resources.files("mcpload.outputs") / "assets" / name).read_text(encoding="utf-8")


def render_page(token: str, meta: dict[str, Any]) -> tuple[str, str]:
    """``(page, content security policy)``: the policy allows only the page's own two scripts, and
    connections to this server alone; it goes both in the page and in the response's header."""
    from plotly.offline import get_plotlyjs

    template, specs = chart_specs()
    script, style = _asset("dashboard.js"), _asset("dashboard.css")
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    target = meta.get("target") or {}
    where = str(target.get("url") or target.get("command") or "")
    title = f"mcpload live — {meta.get('scenario') or 'run'}"
    boot = script_json({"token": token, "template": template, "charts": specs})
    figures = "".join(
        f'<figure hidden><figcaption>{html.escape(s["title"])}</figcaption><div id="{s["id"]}"></div></figure>'
        for s in specs
    )
    tiles = "".join(
        f'<div class="tile">{label}<b id="{key}">–</b></div>'
        for key, label in (("elapsed", "elapsed"), ("calls", "calls"), ("rate", "calls/s"), ("success", "success"),
                           ("p95", "p95"), ("p99", "p99"), ("agents", "agents"))
    )  # fmt: skip
    csp = (
        f"default-src 'none'; script-src {_csp_hash(plotly_js)} {_csp_hash(script)}; connect-src 'self'; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1>{tiles}"
        f'<button id="stop" type="button" title="Stop the run gracefully, as Ctrl-C">Stop the run</button></header>'
        f'<div id="status">Live: {html.escape(where)}</div>'
        f"<main>{figures}</main>"
        f'<section><h2>Findings</h2><ul id="findings"></ul></section>'
        f'<script type="application/json" id="boot">{boot}</script>'
        f"<script>{plotly_js}</script><script>{script}</script></body></html>"
    ), csp
