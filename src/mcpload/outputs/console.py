"""Terminal output of a run: a live view while it runs, a summary when it ends.

Reads interval and results dicts only. Everything the server sent (operation names, error
messages) is escaped before it reaches rich markup, and its terminal control characters (ESC,
CSI, OSC 8 links, other C0/C1 controls) are made visible (``mcpload.redaction.neutralise``).
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from mcpload.outputs.findings_text import render_findings, severity_text
from mcpload.redaction import terminal_safe


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(ok: int, calls: int) -> str:
    return "-" if not calls else f"{100 * ok / calls:.2f}%"


def _errors(errors: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])) or "none"


class LiveView:
    """A progress line with the last interval's figures; plain lines when not on a terminal."""

    def __init__(self, planned_s: float, console: Console | None = None, quiet: bool = False, every_s: int = 5):
        self.console = console or Console(stderr=True)
        self.planned_s = max(planned_s, 1e-9)
        self.quiet = quiet
        self.every_s = every_s
        self._live: Live | None = None
        self._started = time.monotonic()

    def __enter__(self) -> LiveView:
        self._started = time.monotonic()
        if not self.quiet and self.console.is_terminal:
            self._live = Live(self._render(None), console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, interval: dict[str, Any], snapshot: dict[str, Any] | None = None) -> None:
        if self.quiet:
            return
        interval = terminal_safe(interval)  # error kinds and operation names may come from the server
        if self._live is not None:
            self._live.update(self._render(interval))
        elif round(interval["t"]) % self.every_s == 0:
            self.console.print(self._line(interval), highlight=False, soft_wrap=True)

    def _line(self, iv: dict[str, Any]) -> str:
        return (
            f"t={iv['t']:6.1f}s agents={iv.get('active_agents', 0):>5} calls/s={iv.get('calls_per_s', 0):8.1f} "
            f"ok={_pct(iv.get('ok', 0), iv.get('calls', 0)):>8} p50={_ms(iv.get('p50_ms'))}ms "
            f"p95={_ms(iv.get('p95_ms'))}ms p99={_ms(iv.get('p99_ms'))}ms errors: {_errors(iv.get('errors', {}))}"
        )

    def _render(self, iv: dict[str, Any] | None) -> Group:
        elapsed = time.monotonic() - self._started
        remaining = max(self.planned_s - elapsed, 0)
        bar = ProgressBar(total=self.planned_s, completed=min(elapsed, self.planned_s), width=40)
        head = Text.assemble(("mcpload ", "bold"), f"{elapsed:5.0f}s elapsed, {remaining:4.0f}s left  ")
        if iv is None:
            return Group(Text.assemble(head), bar)
        table = Table.grid(padding=(0, 2))
        for _ in range(7):
            table.add_column(justify="right")
        table.add_row("agents", "calls/s", "success", "p50 ms", "p95 ms", "p99 ms", "errors")
        table.add_row(
            f"{iv.get('active_agents', 0)}/{iv.get('target_agents', 0)}",
            f"{iv.get('calls_per_s', 0):.1f}",
            _pct(iv.get("ok", 0), iv.get("calls", 0)),
            _ms(iv.get("p50_ms")),
            _ms(iv.get("p95_ms")),
            _ms(iv.get("p99_ms")),
            escape(_errors(iv.get("errors", {}))),
        )
        return Group(head, bar, table)


def _split_line(execution: dict[str, Any]) -> str | None:
    """How the run was split (workers, Ray actors, a segment, merged files, workers added by ``--workers
    auto``); None for a plain run."""
    backend, segments = execution.get("backend"), execution.get("segments") or []
    auto = _auto_line(execution.get("adaptive") or {})
    if backend in (None, "local") and segments in ([], ["0:1"]):
        return auto
    per = execution.get("per_worker") or []
    calls = ", ".join(f"{w['calls']:,}" for w in per if isinstance(w.get("calls"), int))
    if backend == "adaptive":
        line = f"[bold]split[/] this process and {len(segments) - 1} worker process{'es' if len(segments) > 2 else ''}"
        line += f", calls per worker {calls}" if calls else ""
        if execution.get("lost"):
            line += f", [red]{len(execution['lost'])} lost[/]"
        return line + ("\n" + auto if auto else "")
    if backend == "local":
        return f"[bold]segment[/] {escape(segments[0])} of the run (merge the segments with mcpload merge)"
    what = {"processes": "worker processes", "ray": "Ray actors", "merge": "segment files"}.get(
        str(backend), str(backend)
    )
    line = f"[bold]split[/] {len(segments)} {what}" + (f", calls per part {calls}" if calls else "")
    if execution.get("lost"):
        line += f", [red]{len(execution['lost'])} lost[/]"
    return line


def _auto_line(adaptive: dict[str, Any]) -> str | None:
    """What ``--workers auto`` did during the run: each worker it added, when and why; None when nothing."""
    changes = adaptive.get("changes") or []
    if not changes:
        return None
    parts = []
    for change in changes:
        if "failed" in change:
            parts.append(f"[yellow]could not add a worker[/] ({escape(str(change['failed']))})")
            continue
        given = (change.get("to") or [{}, {}])[-1]
        took = "was to take" if change.get("took_effect") is False else "took"
        name, segment = escape(str(given.get("name"))), escape(str(given.get("segment")))
        parts.append(
            f"{name} {took} {segment} at {change.get('at_s', 0):g}s ({escape(str(change.get('reason')))})"
            + ("; the run stopped first" if took != "took" else "")
        )
    return "[bold]--workers auto[/] " + "; ".join(parts)


def render_summary(results: dict[str, Any], console: Console | None = None) -> None:
    """The end-of-run summary: per operation, sessions, conversations, errors, thresholds.

    Every string from the results is shown with its control characters made visible: a server's
    error text or name cannot move the cursor, retitle the terminal or plant an OSC 8 link."""
    console = console or _wide_console()
    results = terminal_safe(results)
    totals = results.get("totals", {})
    target = results.get("target", {})
    where = escape(str(target.get("url") or target.get("command")))
    console.print(
        f"[bold]run[/] {results.get('duration_s', 0):.1f}s against {where}"
        f"  ({target.get('transport')}, protocol {target.get('protocol_version')})"
    )
    table = Table(title="calls by operation", title_justify="left", show_edge=False)
    for col in ("operation", "calls", "success", "calls/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"):
        table.add_column(col, justify="left" if col in ("operation", "errors") else "right")

    def row(name: str, op: dict[str, Any], style: str | None = None) -> None:
        lat = op.get("latency_ms", {})
        table.add_row(
            escape(name),
            str(op.get("calls", 0)),
            _pct(op.get("ok", 0), op.get("calls", 0)),
            f"{op.get('calls_per_s', 0):.1f}",
            _ms(lat.get("p50")),
            _ms(lat.get("p95")),
            _ms(lat.get("p99")),
            _ms(lat.get("max")),
            escape(_errors(op.get("errors", {}))),
            style=style,
        )

    operations = results.get("operations", {})
    for name, op in sorted(operations.items()):
        row(name, op)
    tool_ops = [op for name, op in operations.items() if name.startswith("tools/call")]
    if tool_ops and len(tool_ops) < len(operations):
        # the headline that matters: the tools' own success, apart from initialize, listing, …
        calls = sum(op.get("calls", 0) for op in tool_ops)
        errors: dict[str, int] = {}
        for op in tool_ops:
            for kind, n in (op.get("errors") or {}).items():
                errors[kind] = errors.get(kind, 0) + n
        rate = sum(op.get("calls_per_s") or 0 for op in tool_ops)
        row(
            "tool calls",
            {"calls": calls, "ok": sum(op.get("ok", 0) for op in tool_ops), "calls_per_s": rate, "errors": errors},
            "bold",
        )
    row("all", {**totals, "latency_ms": results.get("latency_ms", {}), "errors": results.get("errors", {})}, "bold")
    console.print(table)
    s, c = results.get("sessions", {}), results.get("conversations", {})
    line = (
        f"[bold]sessions[/] started {s.get('started', 0)}, failed {s.get('failed', 0)}   "
        f"[bold]conversations[/] {c.get('completed', 0)} done, success {_rate(c.get('success_rate'))}"
    )
    if c.get("wasted_tokens"):
        line += f", wasted tokens {c['wasted_tokens']:,}"
        if c.get("wasted_cost") is not None:
            line += f" (≈ ${c['wasted_cost']:.4f})"
    console.print(line)
    if totals.get("retries"):
        console.print(f"[bold]retries[/] {totals['retries']}")
    split = _split_line(results.get("execution") or {})
    if split:
        console.print(split)
    arrivals = results.get("arrivals")
    if arrivals:
        console.print(
            f"[bold]arrivals[/] scheduled {arrivals.get('scheduled', 0)}, started {arrivals.get('started', 0)}, "
            f"dropped {arrivals.get('dropped', 0)}, late p99 {_ms(arrivals.get('late_p99_ms'))} ms"
        )
    for err in results.get("top_errors", [])[:5]:
        console.print(
            f"  [red]{err.get('count')}×[/] {escape(str(err.get('kind')))} {escape(str(err.get('operation')))}: "
            f"{escape(str(err.get('message')))}"
        )
    if results.get("interrupted_calls"):
        console.print(f"[dim]{results['interrupted_calls']} calls interrupted by the end of the run (not counted)[/]")
    for th in results.get("thresholds", []):
        mark = "[green]✓[/]" if th.get("passed") else "[bold red]✗[/]"
        shown = threshold_value(th.get("value"), th.get("unit"))
        shown = severity_text(th) or shown  # findings: "warning", not its rank
        console.print(f"{mark} {escape(str(th.get('metric')))}: {escape(str(th.get('expr')))}  (value {shown})")
    if results.get("aborted_by"):
        console.print(f"[bold red]aborted[/]: threshold {escape(results['aborted_by'])} failed")
    render_findings(results.get("findings"), console)


def threshold_value(value: Any, unit: str | None) -> str:
    """A threshold's measured value with its unit: ``412.3 ms``, ``0.973 (97.30%)``, ``52.1 calls/s``."""
    if value is None:
        return "no data"
    if unit == "ratio" and isinstance(value, int | float):
        return f"{value:.4g} ({100 * value:.2f}%)"
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{shown} {unit}" if unit in ("ms", "calls/s") else shown


def _wide_console() -> Console:
    """Logs and pipes get 80 columns by default: too narrow for the per-operation table."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"
