"""The analysis as one self-contained HTML page in the report's look (its stylesheet is read from the
report template), with charts drawn as inline SVG: no script at all, so it opens offline, needs no
plotly, and its Content-Security-Policy forbids every script and request.

Everything in the trace came from the network: values are text (Jinja2 autoescape) and SVG is built
from numbers only; labels go through the same escaping.
"""

from __future__ import annotations

import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from mcpload.atomic import write_text_atomic
from mcpload.version import __version__

W, H, PAD = 640, 220, 36


def report_style() -> str:
    """The report's stylesheet, so both pages look alike without a second copy to keep in step."""
    text = resources.files("mcpload.outputs").joinpath("templates/report.html.j2").read_text()
    found = re.search(r"<style>(.*?)</style>", text, re.S)
    return found.group(1) if found else ""


def _axis(x0: float, x1: float, y1: float, xlabel: str, ylabel: str) -> str:
    return (f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 8}" y2="{H - PAD}" stroke="#888"/>'
            f'<line x1="{PAD}" y1="8" x2="{PAD}" y2="{H - PAD}" stroke="#888"/>'
            f'<text x="{PAD}" y="{H - 8}" font-size="11">{escape(_num(x0))}</text>'
            f'<text x="{W - 8}" y="{H - 8}" font-size="11" text-anchor="end">{escape(_num(x1))} {escape(xlabel)}</text>'
            f'<text x="4" y="16" font-size="11">{escape(_num(y1))} {escape(ylabel)}</text>')  # fmt: skip


def _num(v: float) -> str:
    return f"{v:.3g}"


def line_chart(values: list[float], xlabel: str, ylabel: str) -> Markup | None:
    """A polyline of ``values`` over their index."""
    if len(values) < 2:
        return None
    top = max(values) or 1
    sx, sy = (W - PAD - 8) / (len(values) - 1), (H - PAD - 12) / top
    points = " ".join(f"{PAD + i * sx:.1f},{H - PAD - v * sy:.1f}" for i, v in enumerate(values))
    body = _axis(0, len(values) - 1, top, xlabel, ylabel)
    return Markup(f'<svg viewBox="0 0 {W} {H}" width="100%" role="img">{body}'
                  f'<polyline fill="none" stroke="#0b5cad" stroke-width="1.5" points="{points}"/></svg>')  # fmt: skip


def gap_histogram(think: list[float], idle: list[float], threshold: float | None) -> Markup | None:
    """Gaps on a log10 axis (think blue, idle orange), with the idle threshold as a line."""
    gaps = [g for g in think + idle if g > 0]
    if len(gaps) < 2:
        return None
    lo, hi = math.log10(min(gaps)), math.log10(max(gaps))
    hi = hi if hi > lo else lo + 1
    bins = 40
    counts = {"think": [0] * bins, "idle": [0] * bins}
    for kind, values in (("think", think), ("idle", idle)):
        for g in values:
            if g > 0:
                counts[kind][min(bins - 1, int((math.log10(g) - lo) / (hi - lo) * bins))] += 1
    top = max(max(counts["think"]), max(counts["idle"]), 1)
    bw, sy = (W - PAD - 8) / bins, (H - PAD - 12) / top
    rects = []
    for kind, colour in (("think", "#0b5cad"), ("idle", "#e07b00")):
        for i, n in enumerate(counts[kind]):
            if n:
                rects.append(f'<rect x="{PAD + i * bw:.1f}" y="{H - PAD - n * sy:.1f}" width="{bw - 1:.1f}" '
                             f'height="{n * sy:.1f}" fill="{colour}" fill-opacity="0.7"/>')  # fmt: skip
    if threshold and threshold > 0:
        x = PAD + (math.log10(threshold) - lo) / (hi - lo) * (W - PAD - 8)
        rects.append(f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{H - PAD}" stroke="#c62828" stroke-dasharray="4"/>')
    body = _axis(10**lo, 10**hi, top, "s (log)", "gaps")
    return Markup(f'<svg viewBox="0 0 {W} {H}" width="100%" role="img">{body}{"".join(rects)}</svg>')


def _matrix(transitions: dict[str, dict[str, int]]) -> dict[str, Any]:
    rows = list(transitions)
    cols = sorted({b for row in transitions.values() for b in row}, key=lambda s: (s == "<end>", s))
    cells = []
    for a in rows:
        total = sum(transitions[a].values()) or 1
        cells.append((a, [(transitions[a].get(b, 0) / total, transitions[a].get(b, 0)) for b in cols]))
    return {"cols": cols, "rows": cells}


def render_page(a: dict[str, Any], think: list[float], idle: list[float]) -> str:
    """The page for an analysis (``analysis.analyze``) and its raw gaps (for the histogram)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("mcpload.traffic", "templates"), autoescape=True, undefined=StrictUndefined)
    return env.get_template("analysis.html.j2").render(
        a=a,
        version=__version__,
        style=Markup(report_style()),
        concurrency=line_chart(
            a["sessions"]["concurrency"]["series"], f"× {a['sessions']['concurrency']['bin_s']:.3g} s", "sessions"
        ),
        gaps=gap_histogram(think, idle, a["idle_threshold"]["seconds"]),
        matrix=_matrix(a["transitions"]),
        csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    )


def write_page(path: str | Path, a: dict[str, Any], think: list[float], idle: list[float]) -> Path:
    """Render and write atomically. Raises OSError when the file cannot be written."""
    return write_text_atomic(path, render_page(a, think, idle))
