"""The terminal view of ``mcpload compare``: one table of base → new figures with their deltas, and
the verdict of each assertion. Operation names come from the server: escaped before rich markup."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.compare import LATENCIES, Comparison, Side

# Changes smaller than these are shown without colour (noise between two runs).
RELATIVE_NOISE = 5.0  # percent
SUCCESS_NOISE = 0.1  # percentage points


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.2f}%"


def _delta(value: float | None, unit: str, worse_when_higher: bool, noise: float) -> str:
    if value is None:
        return "[dim]n/a[/]"
    text = f"{value:+.1f}{unit}" if unit == "%" else f"{value:+.2f}{unit}"
    if abs(value) < noise:
        return text
    worse = value > 0 if worse_when_higher else value < 0
    return f"[red]{text}[/]" if worse else f"[green]{text}[/]"


def _pair(base: str, new: str, delta: str) -> str:
    return f"{base} → {new} {delta}"


def comparison_table(comparison: Comparison, base_name: str = "base", new_name: str = "new") -> Table:
    """A rich table: per row, calls/s, success rate and p50/p95/p99 as ``base → new (delta)``."""
    table = Table(
        title=f"{escape(base_name)} → {escape(new_name)}",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("operation")
    table.add_column("calls/s", justify="right")
    table.add_column("success", justify="right")
    for p in LATENCIES:
        table.add_column(f"{p} ms", justify="right")
    empty = Side()
    for row in comparison.rows:
        b, n, d = row.base or empty, row.new or empty, row.deltas
        name = escape(row.operation)
        if row.base is None:
            name += " [dim](new only)[/]"
        elif row.new is None:
            name += " [dim](base only)[/]"
        cells = [
            _pair(
                _num(b.calls_per_s, ".1f"),
                _num(n.calls_per_s, ".1f"),
                _delta(d["calls_per_s_delta"], "%", False, RELATIVE_NOISE),
            ),
            _pair(
                _pct(b.success_rate),
                _pct(n.success_rate),
                _delta(d["success_rate_delta"], "pp", False, SUCCESS_NOISE),
            ),
        ]
        for p in LATENCIES:
            cells.append(
                _pair(
                    _num(b.latency.get(p), ".1f"),
                    _num(n.latency.get(p), ".1f"),
                    _delta(d[f"{p}_delta"], "%", True, RELATIVE_NOISE),
                )
            )
        table.add_row(name, *cells, style="bold" if row.operation == "all" else None)
    return table


def render_comparison(
    comparison: Comparison,
    verdicts: list[tuple[Any, bool, float | None]],
    console: Console | None = None,
    base_name: str = "base",
    new_name: str = "new",
) -> None:
    """Print the table, then one line per assertion (``verdicts``: ``(assertion, passed, value)``)."""
    console = console or _wide_console()
    console.print(comparison_table(comparison, base_name, new_name))
    lists = (("new", "bold red", comparison.new_findings), ("gone", "green", comparison.gone_findings))
    for label, style, found in lists:
        for f in found:
            console.print(
                f"[{style}]finding {label}[/] {escape(str(f.get('severity')))} [bold]{escape(str(f.get('id')))}[/]: "
                f"{escape(str(f.get('title')))}",
                highlight=False,
            )
    for assertion, passed, value in verdicts:
        mark = "[green]✓[/]" if passed else "[bold red]✗[/]"
        console.print(f"{mark} {escape(assertion.text)}  (value {assertion.shown(value)})", highlight=False)


def _wide_console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=180)
