"""Charts of the report's optional sections (resources, capacity) drawn from whatever records they
hold: every numeric field becomes a small chart of its own, stacked, with a shared x axis."""

from __future__ import annotations

from typing import Any

from mcpload.outputs.html_charts import Figure, graph_objects, label, number

MAX_SERIES = 8  # rows of one chart


def flatten(record: Any) -> dict[str, Any]:
    """One level of nesting flattened into dotted keys (``{"cpu": {"pct": 3}}`` → ``{"cpu.pct": 3}``)."""
    if not isinstance(record, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                out[f"{key}.{sub}"] = inner
        else:
            out[str(key)] = value
    return out


def series_chart(
    title: str, rows: list[dict[str, Any]], x_keys: tuple[str, ...], group_keys: tuple[str, ...] = ()
) -> Figure | None:
    """Every numeric field of ``rows`` as one small chart each, stacked (resources, capacity steps).

    Args:
        title: the figure's title.
        rows: records (one level of nesting is flattened).
        x_keys: candidate x fields, the first present wins (else the row's index).
        group_keys: candidate fields that split rows into series (e.g. a process name).
    """
    flat = [flatten(r) for r in rows if isinstance(r, dict)]
    if not flat:
        return None
    x_key = next((k for k in x_keys if any(number(r.get(k)) is not None for r in flat)), None)
    group_key = next((k for k in group_keys if any(k in r for r in flat)), None)
    fields: list[str] = []
    for r in flat:
        fields += [k for k, v in r.items() if number(v) is not None and k not in (x_key, group_key) and k not in fields]
    fields = fields[:MAX_SERIES]
    if not fields:
        return None
    from plotly.subplots import make_subplots

    go = graph_objects()
    fig = make_subplots(rows=len(fields), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label(f) for f in fields])  # fmt: skip
    groups: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for i, r in enumerate(flat):
        x = r.get(x_key) if x_key else i
        groups.setdefault(str(r.get(group_key, "")) if group_key else "", []).append((x, r))
    for gi, (group, points) in enumerate(groups.items()):
        for row, field in enumerate(fields, start=1):
            fig.add_trace(
                go.Scatter(
                    x=[x for x, _ in points],
                    y=[number(r.get(field)) for _, r in points],
                    name=label(group or field),
                    legendgroup=label(group),
                    showlegend=bool(group) and row == 1,
                    mode="lines+markers",
                    marker={"size": 4},
                    line={"color": _palette(gi if group else row - 1)},
                ),
                row=row,
                col=1,
            )
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=120 + 170 * len(fields),
        margin={"l": 60, "r": 20, "t": 30, "b": 45},
        template="plotly_white",
        hovermode="x unified",
    )
    fig.update_xaxes(title={"text": label(x_key or "#")}, row=len(fields), col=1)
    return fig


def _palette(i: int) -> str:
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
    return colours[i % len(colours)]
