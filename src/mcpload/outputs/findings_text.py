"""The findings of a run in the terminal: most severe first, each with its title, key figures and
advice. Everything in a finding is escaped before it reaches rich markup (titles can quote the server)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
MAX_EVIDENCE = 6  # figures shown per finding; the results JSON has them all


def evidence_text(evidence: Any) -> str:
    """``key=value`` pairs of the scalar figures of a finding's evidence (lists and tables left to the report)."""
    if not isinstance(evidence, dict):
        return ""
    pairs = []
    for key, value in evidence.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        pairs.append(f"{key}={shown}")
    return ", ".join(pairs[:MAX_EVIDENCE])


def span_text(span: Any) -> str:
    """``t 12–30 s`` for a finding's ``interval``; "" when it has none (or an odd one)."""
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int | float) for x in span)):
        return ""
    return f"t {span[0]:g}–{span[1]:g} s"


def render_findings(findings: Any, console: Console) -> None:
    """Print the findings (a list of finding dicts, most severe first), or nothing when there are none."""
    if not isinstance(findings, list) or not findings:
        return
    console.print(f"[bold]findings[/] {len(findings)}")
    for f in findings:
        if not isinstance(f, dict):
            continue
        severity = str(f.get("severity"))
        style = _STYLE.get(severity, "bold")
        span = span_text(f.get("interval"))
        where = f" ({span})" if span else ""
        name, title = escape(str(f.get("id"))), escape(str(f.get("title")))
        console.print(f"  [{style}]{escape(severity)}[/] [bold]{name}[/]: {title}{where}")
        figures = evidence_text(f.get("evidence"))
        if figures:
            console.print(f"    [dim]{escape(figures)}[/]")
        if f.get("advice"):
            console.print(f"    → {escape(str(f.get('advice')))}")
