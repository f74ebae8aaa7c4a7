"""Terminal output of a capacity search: a line per step while it runs, then the table and the
answers (ceiling, knee, first broken SLO, dominant error, recovery, guard)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

MARKS = {
    "pass": "[green]pass[/]",
    "fail": "[red]fail[/]",
    "inconclusive": "[yellow]inconclusive[/]",
    "generator-bound": "[yellow]generator-bound[/]",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    console = Console()
    return console if console.is_terminal else Console(width=160)


def step_line(step: dict[str, Any], unit: str) -> str:
    """One line for a step that just ended (or the recovery phase)."""
    if step.get("phase") == "recovery":
        how = f"recovered in {step['recovery_s']:g}s" if step["recovered"] else "did not recover"
        return (
            f"recovery: overload {step['overload']:g} {unit}, then {step['load']:g} {unit}: {how} "
            f"(timeout {step['timeout_s']:g}s)"
        )
    lat = step.get("latency_ms") or {}
    return (
        f"step {step['load']:>8g} {unit} ({step['phase']}): {step.get('calls_per_s') or 0:8.1f} calls/s  "
        f"ok {_rate(step.get('success_rate'))}  p95 {_ms(lat.get('p95'))} ms  "
        f"p99 {_ms(lat.get('p99'))} ms  → {step['verdict']}"
    )


def render_capacity(capacity: dict[str, Any], console: Console | None = None) -> None:
    """The table of steps (by load) and the answers."""
    console = _console(console)
    unit = capacity["settings"]["unit"]
    table = Table(title=f"capacity search by {unit}", title_justify="left", show_edge=False)
    for col in (unit, "phase", "calls/s", "success", "p50 ms", "p95 ms", "p99 ms", "calls", "mcpload CPU", "verdict"):
        table.add_column(col, justify="left" if col in ("phase", "verdict") else "right")
    for step in sorted(capacity["steps"], key=lambda s: s["load"]):
        lat = step.get("latency_ms") or {}
        broken = ", ".join(c["slo"] for c in step.get("slos", []) if not c["passed"])
        cpu = step.get("generator_cpu")
        table.add_row(
            f"{step['load']:g}",
            step["phase"],
            f"{step.get('calls_per_s') or 0:.1f}",
            _rate(step.get("success_rate")),
            _ms(lat.get("p50")),
            _ms(lat.get("p95")),
            _ms(lat.get("p99")),
            f"{step.get('calls', 0)}{'' if step.get('enough_calls', True) else '*'}",
            "-" if cpu is None else f"{100 * cpu:.0f}%",
            MARKS.get(step["verdict"], step["verdict"]) + (f" ({escape(broken)})" if broken else ""),
        )
    console.print(table)
    if any(not s.get("enough_calls", True) for s in capacity["steps"]):
        console.print(f"[dim]* fewer calls than --min-calls {capacity['settings']['min_calls']}[/]")
    for line in answer_lines(capacity):
        console.print(line, highlight=False, soft_wrap=True)


def answer_lines(capacity: dict[str, Any]) -> list[str]:
    """The answers under the table, as rich-markup lines."""
    unit = capacity["settings"]["unit"]
    lines = [f"[bold]SLOs[/] {escape(', '.join(capacity['slos']))}", f"[bold]answer[/] {escape(capacity['verdict'])}"]
    base = capacity.get("baseline")
    if base and base.get("error_rate") is not None:
        low, high = base["interval"]
        lines.append(
            f"[bold]baseline[/] {base['load']:g} {unit}: error rate {_rate(base['error_rate'])} "
            f"(95% interval {_rate(low)} … {_rate(high)}, {base['calls']} calls), p95 {_ms(base.get('p95_ms'))} ms"
            + ("; rate SLOs judge the errors above it" if base.get("applied") else "")
        )
    guard = capacity.get("generator_bound")
    if guard:
        lines.append(f"[bold yellow]stopped early[/] at {guard['load']:g} {unit}: {escape(guard['reason'])}")
    knee = capacity.get("knee")
    if knee:
        lines.append(
            f"[bold]knee[/] latency starts to climb at {knee['load']:g} {unit}: p95 {_ms(knee['p95_ms'])} ms, "
            f"over {knee['factor']:g}× the {_ms(knee['baseline_p95_ms'])} ms at {knee['baseline_load']:g} {unit}"
        )
    broken = capacity.get("first_broken")
    if broken:
        value = broken["value"]
        shown = "no data" if value is None else f"{value:.4g}"
        lines.append(
            f"[bold]first SLO to break[/] {escape(broken['slo'])} at {broken['load']:g} {unit} (measured {shown})"
        )
    error = capacity.get("dominant_error")
    if error:
        message = f": {escape(str(error['message']))}" if error.get("message") else ""
        lines.append(f"[bold]dominant error at the breaking point[/] {escape(error['kind'])}{message}")
    recovery = capacity.get("recovery")
    if recovery:
        if recovery["recovered"]:
            how = f"the SLOs held again {recovery['recovery_s']:g} s after the drop"
        else:
            how = f"the SLOs did not hold again within {recovery['timeout_s']:g} s"
        lines.append(
            f"[bold]recovery[/] after {recovery['overload']:g} {unit}, back to {recovery['load']:g} {unit}: {how}"
        )
    return lines
