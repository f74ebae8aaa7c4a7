"""Terminal rendering of a `mcpload diagnose` result."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.diagnose import FAIL, PASS, SKIP, WARN, Diagnosis
from mcpload.outputs.findings_text import render_findings
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
    table.add_column("arguments sent", overflow="fold", max_width=48)
    table.add_column("detail", overflow="fold")
    for c in diag.checks:
        ms = f"{c.ms:.1f}" if c.ms is not None else ""
        sent = _arguments(c.arguments)
        table.add_row(
            escape(neutralise(c.name)),
            f"[{_STYLE[c.status]}]{c.status}[/]",
            ms,
            escape(neutralise(sent)),
            escape(neutralise(c.detail)),
        )
    console.print(table)
    counts = {s: sum(1 for c in diag.checks if c.status == s) for s in (PASS, WARN, FAIL, SKIP)}
    console.print(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n))
    if diag.not_called:
        called = sum(1 for c in diag.checks if c.arguments is not None)
        names = ", ".join(diag.not_called[:8]) + (
            f" and {len(diag.not_called) - 8} more" if len(diag.not_called) > 8 else ""
        )
        n = len(diag.not_called)
        console.print(
            f"[yellow]{n} tool{'s' * (n != 1)} listed, not called[/] (called {called}; policy "
            f"{escape(diag.call_policy)}): {escape(names)}. A tool is called unasked only when its annotations "
            "say readOnlyHint: true and openWorldHint: false (missing hints take the spec defaults: side "
            "effects possible); opt in with --call-tools NAME, or --call-tools all."
        )
    render_findings(diag.findings, console)


def _arguments(args: dict[str, Any] | None, limit: int = 120) -> str:
    """The arguments sent, as compact JSON (cut for the table; ``--json`` has them whole)."""
    if args is None:
        return ""
    text = json.dumps(args, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
