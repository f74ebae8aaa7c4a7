"""Terminal rendering of a run's plan (``mcpload run --dry-run``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcpload.plan import Plan
from mcpload.profiles import format_duration


def _rate(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:.1f}"


def render_plan(plan: Plan, target: str, server: dict[str, Any] | None = None, console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]dry run[/] — nothing is sent beyond the preflight. target {escape(target)}")
    if server:
        console.print(
            f"[bold]server[/] {escape(str(server.get('name', '?')))}  [bold]transport[/] {server.get('transport')}  "
            f"[bold]era[/] {server.get('era')}  [bold]protocol[/] {server.get('protocol')}  preflight passed"
        )
    for profile in plan.profiles:
        console.print(f"[bold]profile[/] {escape(profile)}")
    table = Table(show_edge=False, pad_edge=False)
    for column, justify in (
        ("agent type", "left"),
        ("agents at peak", "right"),
        ("calls/conv", "right"),
        ("think s", "right"),
        ("idle s", "right"),
        ("calls/s per agent", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, agents in plan.agents_per_type.items():
        w = plan.workloads.get(name)
        if w is None:
            table.add_row(escape(name), str(agents), "?", "?", "?", "? (Python agent)")
            continue
        per_agent = None if w.cycle_s <= 0 else w.calls / w.cycle_s
        table.add_row(
            escape(name), str(agents), f"{w.calls:.1f}", f"{w.think_s:.2f}", f"{w.idle_s:.2f}", _rate(per_agent)
        )
    console.print(table)
    console.print(
        f"duration {format_duration(plan.duration_s)} · peak agents {plan.peak_agents} · peak arrival rate "
        f"{plan.peak_arrival_rate:.2f}/s · expected calls/s: peak {_rate(plan.peak_calls_per_s)}, "
        f"mean {_rate(plan.mean_calls_per_s)} (server latency not counted: upper bounds)"
    )
    for note in plan.notes:
        console.print(f"[yellow]note[/] {escape(note)}")
