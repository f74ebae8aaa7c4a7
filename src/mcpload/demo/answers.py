"""The three short answers ``mcpload demo`` ends with: behaviour under load, resources, baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

MIB = 1024**2


def _read(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())  # a results file mcpload wrote
        return data
    except (OSError, ValueError):
        return None


def behaviour(results: dict[str, Any]) -> str:
    totals = results.get("totals", {})
    latency = results.get("latency_ms") or {}
    peak = max((iv.get("active_agents", 0) for iv in results.get("intervals", [])), default=0)
    rate = totals.get("success_rate")
    thresholds = results.get("thresholds", [])
    passed = sum(1 for t in thresholds if t.get("passed"))
    text = (
        f"{totals.get('calls', 0):,} calls from up to {peak} agents, "
        f"{'-' if rate is None else f'{100 * rate:.2f}%'} succeeded, p95 {latency.get('p95', 0) or 0:.0f} ms"
    )
    if thresholds:
        text += f"; thresholds passed {passed}/{len(thresholds)}"
    return text


def resources(results: dict[str, Any]) -> str:
    res = results.get("resources")
    if not res:
        return "not measured"
    summary, derived = res.get("summary", {}), res.get("derived", {})
    cpu, rss = summary.get("cpu_percent", {}), summary.get("rss_bytes", {})
    text = f"the demo server peaked at {cpu.get('peak') or 0:.0f}% of a core and {(rss.get('peak') or 0) / MIB:.0f} MiB"
    if derived.get("cpu_seconds_per_1k_calls") is not None:
        text += f", {derived['cpu_seconds_per_1k_calls']:.2f} CPU-s per 1k calls"
    extra = derived.get("extrapolation")
    if extra:
        text += f"; {extra['statement']} (linear extrapolation)"
    return text


def baseline(capacity: dict[str, Any] | None) -> str:
    if capacity is None:
        return "run `mcpload demo --capacity` for a short capacity search (`mcpload capacity` for your own server)"
    text: str = capacity.get("verdict", "")
    slos = ", ".join(capacity.get("slos", []))
    broken = capacity.get("first_broken")
    if slos:
        text += f" ({slos})"
    if broken:
        text += f"; first to break: {broken['slo']} at {broken['load']:g} {capacity['settings']['unit']}"
    ceiling = capacity.get("ceiling") or {}
    if ceiling.get("tool_calls_per_s") is not None:
        from mcpload.demo.capacity import LIMIT_TOOL_CALLS_PER_S

        share = ceiling["tool_calls_per_s"] / LIMIT_TOOL_CALLS_PER_S
        text += (
            f"; {ceiling['tool_calls_per_s']:.0f} tool calls/s at the ceiling, {share:.0%} of the demo server's "
            f"configured limit ({LIMIT_TOOL_CALLS_PER_S:g}/s)"
        )
    return text


def findings_answer(results: dict[str, Any]) -> str:
    """What the figures mean: the findings of the run, most severe first (or that there are none)."""
    from mcpload.findings import findings_of

    found = findings_of(results)
    if not found:
        return "none: no known failure signature in this run (README, Findings)"
    return "; ".join(f"{f.get('severity')} {f.get('id')}: {f.get('title')}" for f in found[:3]) + (
        f" (+{len(found) - 3} more)" if len(found) > 3 else ""
    )


def print_answers(results_path: Path, capacity_path: Path | None = None, console: Console | None = None) -> None:
    """Print the answers from the demo's results file (and the capacity search's, when it ran)."""
    results = _read(results_path)
    if results is None:
        return
    capacity = (_read(capacity_path) or {}).get("capacity") if capacity_path is not None else None
    console = console or Console()
    console.print("[bold]the demo's answers[/]")
    for label, text in (
        ("behaviour under load", behaviour(results)),
        ("resources", resources(results)),
        ("baseline", baseline(capacity)),
        ("findings", findings_answer(results)),
    ):
        console.print(f"  [bold]{label}:[/] {escape(text)}", highlight=False, soft_wrap=True)
