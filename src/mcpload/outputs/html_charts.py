"""The charts of the HTML report, built with plotly from the results document.

Each ``*_chart`` function takes parts of the results and returns a plotly ``Figure``, or ``None``
when there is nothing to draw. Plotly renders a subset of HTML tags in labels, legends and hover
text, so every name that came from the server goes through ``label`` first. plotly is imported
lazily: it is the optional ``report`` extra.
"""

from __future__ import annotations

import html
import math
from types import ModuleType
from typing import Any, TypeAlias

from mcpload.metrics import decode_histogram

PERCENTILES = (0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999)
TAIL_TICKS = {1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10_000: "99.99%", 100_000: "99.999%"}
RED, GREEN, GREY = "#d62728", "#2ca02c", "#7f7f7f"

#: a ``plotly.graph_objects.Figure`` (plotly ships no type information)
Figure: TypeAlias = Any


def label(value: Any) -> str:
    """Text safe for plotly's pseudo-HTML labels: ``<``, ``>`` and ``&`` as entities (shown as typed)."""
    return html.escape(str(value), quote=False)


def graph_objects() -> ModuleType:
    """``plotly.graph_objects``, imported on first use (plotly is heavy to import)."""
    import plotly.graph_objects as go

    module: ModuleType = go  # untyped: plotly ships no type information
    return module


def _figure(title: str, y_title: str, height: int = 340, **layout: Any) -> Figure:
    go = graph_objects()
    fig = go.Figure()
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 30, "b": 45},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        hovermode="x unified",
        template="plotly_white",
        yaxis={"title": {"text": y_title}, "rangemode": "tozero"},
        **layout,
    )
    return fig


def number(value: Any) -> float | None:
    """A finite int or float as it is, anything else (None, bool, NaN, text) as None."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return value if ok and math.isfinite(value) else None


def _times(intervals: list[dict[str, Any]]) -> list[float | None]:
    return [number(iv.get("t")) for iv in intervals]


def _spans(intervals: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Middle and width of each interval, for bars that cover their interval (the last may be short)."""
    middles, widths = [], []
    previous = 0.0
    for iv in intervals:
        t = max(number(iv.get("t")) or previous, previous)
        middles.append(round((previous + t) / 2, 3))
        widths.append(round(0.9 * (t - previous), 3))
        previous = t
    return middles, widths


def _per_s(intervals: list[dict[str, Any]], key: str) -> list[float | None]:
    """``key`` divided by each interval's length (the first one starts at 0)."""
    out: list[float | None] = []
    previous = 0.0
    for iv in intervals:
        t = number(iv.get("t")) or 0.0
        value = number(iv.get(key)) or 0
        out.append(round(value / (t - previous), 3) if t > previous else None)
        previous = t
    return out


def _time_axis(fig: Figure) -> None:
    fig.update_xaxes(title={"text": "seconds since start"}, rangemode="tozero")


def throughput_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """Calls per second and failures per second over time."""
    if not intervals:
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("Calls and failures per second", "per second")
    fig.add_trace(go.Scatter(x=t, y=[number(iv.get("calls_per_s")) for iv in intervals], name="calls/s"))
    fig.add_trace(go.Scatter(x=t, y=_per_s(intervals, "failed"), name="failures/s", line={"color": RED}))
    _time_axis(fig)
    return fig


def agents_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """The load shape asked (target agents) against the agents that ran."""
    if not intervals:
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("Agents: asked vs running", "agents")
    active = [number(iv.get("active_agents")) for iv in intervals]
    fig.add_trace(go.Scatter(x=t, y=active, name="running (active)", line={"shape": "hv", "width": 3}))
    target = [number(iv.get("target_agents")) for iv in intervals]  # drawn last: dashed, over the running line
    fig.add_trace(
        go.Scatter(x=t, y=target, name="asked (target)", line={"shape": "hv", "dash": "dash", "color": "#222"})
    )
    _time_axis(fig)
    return fig


def latency_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """First-attempt latency percentiles of each interval."""
    if not any(number(iv.get("p50_ms")) is not None for iv in intervals):
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("Latency over time (first attempts)", "ms")
    for key, name, extra in (
        ("p50_ms", "p50", {}),
        ("p95_ms", "p95", {}),
        ("p99_ms", "p99", {}),
        ("max_ms", "max", {"visible": "legendonly"}),
    ):
        fig.add_trace(go.Scatter(x=t, y=[number(iv.get(key)) for iv in intervals], name=name, **extra))
    _time_axis(fig)
    return fig


def _op_series(intervals: list[dict[str, Any]], key: str) -> dict[str, list[float | None]]:
    names = sorted({name for iv in intervals if isinstance(iv.get("ops"), dict) for name in iv["ops"]})
    series: dict[str, list[float | None]] = {}
    for name in names:
        column = []
        for iv in intervals:
            op = iv.get("ops", {}).get(name) if isinstance(iv.get("ops"), dict) else None
            column.append(number(op.get(key)) if isinstance(op, dict) else None)
        series[name] = column
    return series


def operation_rate_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """Calls per second of each operation, stacked."""
    series = _op_series(intervals, "calls")
    if not series:
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("Calls per second by operation", "calls/s")
    for name, counts in series.items():
        per_s = _per_s([{"t": x, "calls": c or 0} for x, c in zip(t, counts, strict=True)], "calls")
        fig.add_trace(go.Scatter(x=t, y=per_s, name=label(name), stackgroup="calls", line={"width": 0.5}))
    _time_axis(fig)
    return fig


def operation_latency_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """p95 latency of each operation over time."""
    series = _op_series(intervals, "p95_ms")
    if not any(v is not None for column in series.values() for v in column):
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("p95 latency by operation over time", "ms")
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=t, y=values, name=label(name), mode="lines+markers", marker={"size": 4}))
    _time_axis(fig)
    return fig


def _curve(encoded: Any) -> tuple[list[float], list[float], list[str]] | None:
    """The percentile curve of an encoded histogram: x = 1 / (1 - p), y = latency in ms."""
    if not isinstance(encoded, str):
        return None
    try:
        hist = decode_histogram(encoded)
    except ValueError:
        return None
    count = hist.get_total_count()
    if not count:
        return None
    xs, ys, texts = [], [], []
    for p in PERCENTILES:
        x = 1 / (1 - p / 100)
        if x > count:
            break
        xs.append(x)
        ys.append(hist.get_value_at_percentile(p) / 1000)
        texts.append(f"p{p:g}")
    xs.append(max(float(count), xs[-1] * 1.0001 if xs else 1.0))
    ys.append(hist.get_max_value() / 1000)
    texts.append("max")
    return xs, ys, texts


def distribution_chart(histograms: object) -> Figure | None:
    """Latency by percentile per operation, from the run's HDR histograms (HdrHistogram's plot)."""
    if not isinstance(histograms, dict):
        return None
    go = graph_objects()
    fig = _figure("Latency distribution by percentile (first attempts)", "ms", height=420)
    names = sorted(k for k in histograms if not k.startswith("__"))
    specials = {"__all__": "all operations", "__retries__": "retries", "__corrected__": "all, from intended start"}
    drawn = 0
    for key in [*specials, *names]:
        if key not in histograms:
            continue
        curve = _curve(histograms[key])
        if curve is None:
            continue
        xs, ys, texts = curve
        name = specials.get(key) or label(key)
        style = {"width": 3, "color": "#222"} if key == "__all__" else {}
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                text=texts,
                name=name,
                line=style,
                mode="lines+markers",
                marker={"size": 4},
                hovertemplate="%{text}: %{y:.2f} ms<extra>" + name + "</extra>",
            )
        )
        drawn += 1
    if not drawn:
        return None
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(
        type="log", title={"text": "percentile"}, tickvals=list(TAIL_TICKS), ticktext=list(TAIL_TICKS.values())
    )
    return fig


def operation_percentiles_chart(operations: dict[str, Any]) -> Figure | None:
    """p50, p95 and p99 of each operation, side by side."""
    rows = [
        (label(name), op["latency_ms"])
        for name, op in sorted(operations.items())
        if isinstance(op, dict) and isinstance(op.get("latency_ms"), dict)
    ]
    if not rows:
        return None
    go = graph_objects()
    fig = _figure("Latency percentiles by operation", "ms", height=max(300, 120 + 28 * len(rows)))
    for key in ("p50", "p95", "p99"):
        values = [number(lat.get(key)) for _, lat in rows]
        fig.add_trace(go.Bar(y=[name for name, _ in rows], x=values, name=key, orientation="h"))
    fig.update_layout(barmode="group", hovermode="y unified", yaxis={"autorange": "reversed", "title": None})
    fig.update_xaxes(title={"text": "ms"})
    return fig


def errors_by_operation_chart(operations: dict[str, Any]) -> Figure | None:
    """Failed calls of each operation, stacked by outcome kind."""
    kinds: dict[str, dict[str, int]] = {}
    for name, op in sorted(operations.items()):
        errors = op.get("errors") if isinstance(op, dict) else None
        for kind, count in (errors or {}).items():
            if number(count):
                kinds.setdefault(kind, {})[name] = count
    if not kinds:
        return None
    go = graph_objects()
    names = sorted({name for by_op in kinds.values() for name in by_op})
    fig = _figure("Errors by operation and kind", "failed calls", height=140 + 40 * len(names))
    for kind, by_op in sorted(kinds.items()):
        fig.add_trace(
            go.Bar(y=[label(n) for n in names], x=[by_op.get(n, 0) for n in names], name=label(kind), orientation="h")
        )
    fig.update_layout(
        barmode="stack", hovermode="y unified", showlegend=True, yaxis={"autorange": "reversed", "title": None}
    )
    fig.update_xaxes(title={"text": "failed calls"})
    return fig


def errors_over_time_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """Failed calls of each interval, stacked by outcome kind."""
    kinds = sorted({k for iv in intervals if isinstance(iv.get("errors"), dict) for k in iv["errors"]})
    if not kinds:
        return None
    go = graph_objects()
    middles, widths = _spans(intervals)
    fig = _figure("Errors over time by kind", "failed calls")
    for kind in kinds:
        counts = [number((iv.get("errors") or {}).get(kind)) or 0 for iv in intervals]
        fig.add_trace(go.Bar(x=middles, y=counts, width=widths, name=label(kind)))
    fig.update_layout(barmode="stack", showlegend=True)
    _time_axis(fig)
    return fig


def _counts_chart(
    title: str, y_title: str, intervals: list[dict[str, Any]], series: list[tuple[str, str, str | None]]
) -> Figure | None:
    """Per-interval counts as lines (``series``: key, name, colour)."""
    if not any(number(iv.get(key)) for iv in intervals for key, _, _ in series):
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure(title, y_title)
    for key, name, colour in series:
        values = [number(iv.get(key)) or 0 for iv in intervals]
        line = {"shape": "hv", **({"color": colour} if colour else {})}
        fig.add_trace(go.Scatter(x=t, y=values, name=name, line=line))
    _time_axis(fig)
    return fig


def sessions_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """Sessions opened and failed, conversations finished ok and failed, per interval."""
    return _counts_chart(
        "Sessions and conversations per interval",
        "count",
        intervals,
        [
            ("sessions_started", "sessions started", None),
            ("sessions_failed", "sessions failed", "#ff7f0e"),
            ("conversations_ok", "conversations ok", GREEN),
            ("conversations_failed", "conversations failed", RED),
        ],
    )


def arrivals_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """Open profiles: arrivals that came due and those dropped, per interval."""
    return _counts_chart(
        "Arrivals per interval (open profiles)",
        "arrivals",
        intervals,
        [("arrivals", "arrivals", None), ("dropped", "dropped", RED)],
    )


def loop_lag_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """mcpload's own event-loop lag in each interval (findings: generator-bound)."""
    if not any(number(iv.get("loop_lag_ms")) is not None for iv in intervals):
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("mcpload event-loop lag (the load generator's own delay)", "ms")
    fig.add_trace(go.Scatter(x=t, y=[number(iv.get("loop_lag_ms")) for iv in intervals], name="worst"))
    fig.add_trace(go.Scatter(x=t, y=[number(iv.get("loop_lag_mean_ms")) for iv in intervals], name="mean"))
    _time_axis(fig)
    return fig


def canary_chart(intervals: list[dict[str, Any]]) -> Figure | None:
    """The canary's latency in each interval (``options.canary``; finding event-loop-blocking)."""
    samples: list[dict[str, Any]] = [c if isinstance(c := iv.get("canary"), dict) else {} for iv in intervals]
    if not any(number(s.get("max_ms")) is not None for s in samples):
        return None
    go, t = graph_objects(), _times(intervals)
    fig = _figure("Canary latency (a cheap call beside the load)", "ms")
    fig.add_trace(go.Scatter(x=t, y=[number(s.get("p50_ms")) for s in samples], name="p50"))
    fig.add_trace(go.Scatter(x=t, y=[number(s.get("max_ms")) for s in samples], name="max"))
    _time_axis(fig)
    return fig
