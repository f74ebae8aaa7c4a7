"""Terminal rendering of a `mcpload diagnose` result."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.diagnose import FAIL, PASS, SKIP, WARN, Diagnosis
from mcpload.redaction import neutralise

_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}


def render(diag: Diagnosis, console: Console | None = None) -> None:
    console = console or Console()
    info = diag.server_info or {}
    info = info if isinstance(info, dict) else {}
    # Everything the server said is shown with its control characters made visible (no escapes run).
    server = neutralise(" ".join(str(info.get(k, "")) for k in ("name", "version")).strip() or "?")
    console.print(f"[bold]target[/] {escape(neutralise(diag.target))}")
    if diag.connected:
        console.print(
            f"[bold]server[/] {escape(server)}  [bold]transport[/] {escape(neutralise(diag.transport))}  "
            f"[bold]era[/] {escape(neutralise(diag.era))}  "
            f"[bold]protocol[/] {escape(neutralise(diag.protocol_version))}"
        )
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("ms", justify="right")
    table.add_column("detail", overflow="fold")
    for c in diag.checks:
        ms = f"{c.ms:.1f}" if c.ms is not None else ""
        table.add_row(
            escape(neutralise(c.name)), f"[{_STYLE[c.status]}]{c.status}[/]", ms, escape(neutralise(c.detail))
        )
    console.print(table)
    counts = {s: sum(1 for c in diag.checks if c.status == s) for s in (PASS, WARN, FAIL, SKIP)}
    console.print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
