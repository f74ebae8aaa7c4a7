"""Terminal rendering of a `mcpload diagnose` result."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.diagnose import FAIL, PASS, SKIP, WARN, Diagnosis
from mcpload.outputs.findings_text import render_findings

_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}


def render(diag: Diagnosis, console: Console | None = None) -> None:
    console = console or Console()
    info = diag.server_info or {}
    server = " ".join(str(info.get(k, "")) for k in ("name", "version")).strip() or "?"
    console.print(f"[bold]target[/] {escape(diag.target)}")
    if diag.connected:
        console.print(
            f"[bold]server[/] {escape(server)}  [bold]transport[/] {diag.transport}  "
            f"[bold]era[/] {diag.era}  [bold]protocol[/] {diag.protocol_version}"
        )
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("ms", justify="right")
    table.add_column("detail", overflow="fold")
    for c in diag.checks:
        ms = f"{c.ms:.1f}" if c.ms is not None else ""
        table.add_row(escape(c.name), f"[{_STYLE[c.status]}]{c.status}[/]", ms, escape(c.detail))
    console.print(table)
    counts = {s: sum(1 for c in diag.checks if c.status == s) for s in (PASS, WARN, FAIL, SKIP)}
    console.print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
    render_findings(diag.findings, console)
