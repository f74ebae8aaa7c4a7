"""Terminal rendering of a `mcpload diagnose` result."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.diagnose import FAIL, PASS, SKIP, WARN, Diagnosis

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
    table.add_column("arguments sent", overflow="fold", max_width=48)
    table.add_column("detail", overflow="fold")
    for c in diag.checks:
        ms = f"{c.ms:.1f}" if c.ms is not None else ""
        sent = _arguments(c.arguments)
        table.add_row(escape(c.name), f"[{_STYLE[c.status]}]{c.status}[/]", ms, escape(sent), escape(c.detail))
    console.print(table)
    counts = {s: sum(1 for c in diag.checks if c.status == s) for s in (PASS, WARN, FAIL, SKIP)}
    console.print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
    if diag.not_called:
        called = sum(1 for c in diag.checks if c.arguments is not None)
        names = ", ".join(diag.not_called[:8]) + (
            f" and {len(diag.not_called) - 8} more" if len(diag.not_called) > 8 else ""
        )
        console.print(
            f"[yellow]{len(diag.not_called)} tools listed, not called[/] (called {called}; policy "
            f"{escape(diag.call_policy)}): {escape(names)} — their annotations allow side effects "
            "(no readOnlyHint: true, or openWorldHint not false: the spec defaults assume side effects). "
            "Opt in with --call-tools NAME, or --call-tools all."
        )


def _arguments(args: dict | None, limit: int = 120) -> str:
    """The arguments sent, as compact JSON (cut for the table; ``--json`` has them whole)."""
    if args is None:
        return ""
    text = json.dumps(args, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
