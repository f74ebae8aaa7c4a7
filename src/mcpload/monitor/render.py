"""The console's short "resources" block, read from the results' ``resources`` section."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

MIB = 1024**2


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:,.0f} MiB"


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def resource_lines(resources: dict[str, Any]) -> list[str]:
    """The block as rich-markup lines (empty when there is nothing to show)."""
    if not resources:
        return []
    summary = resources.get("summary", {})
    derived = resources.get("derived", {})
    procs = resources.get("processes", [])
    cpu, rss = summary.get("cpu_percent", {}), summary.get("rss_bytes", {})
    who = ", ".join(sorted({escape(p.get("source", "?")) for p in procs})) or "none found"
    lines = [
        f"[bold]resources[/] of {resources.get('processes_seen', len(procs))} target process(es) ({who}): "
        f"CPU peak {_num(cpu.get('peak'), '.0f')}% mean {_num(cpu.get('mean'), '.0f')}% (100% = one core), "
        f"RSS peak {mib(rss.get('peak'))} mean {mib(rss.get('mean'))}"
    ]
    more = []
    for key, label in (("threads", "threads"), ("fds", "fds"), ("connections", "TCP conns"), ("processes", "procs")):
        peak = summary.get(key, {}).get("peak")
        if peak is not None:
            more.append(f"{label} ≤ {peak:,}")
    if more:
        lines.append("  " + ", ".join(more))
    startup = derived.get("startup")
    if startup:
        lines.append(
            f"  start-up {startup['seconds']:.1f} s ({startup['sessions']:,} sessions, "
            f"{startup['cpu_seconds']:.2f} CPU-s) kept apart: the figures below are the steady state's "
            f"({_num(derived.get('steady_state_s'), '.1f')} s)"
        )
    drain = resources.get("drain")
    rss_after = drain.get("rss_bytes") if isinstance(drain, dict) else None
    if isinstance(rss_after, int | float):
        base = (resources.get("baseline") or {}).get("rss_bytes")
        kept = f" ({(rss_after - base) / MIB:+,.0f} MiB on the idle baseline)" if isinstance(base, int | float) else ""
        seconds = drain.get("duration_s") if isinstance(drain, dict) else None
        lines.append(
            f"  after the load, every session closed: RSS {mib(rss_after)}{kept}, sampled for "
            f"{_num(seconds if isinstance(seconds, int | float) else None, '.1f')} s (--monitor-drain)"
        )
    per_call = derived.get("cpu_seconds_per_1k_calls")
    per_session = derived.get("rss_per_active_session_bytes")
    if per_call is not None or per_session is not None:
        lines.append(
            f"  {_num(per_call, '.3f')} CPU-s per 1k calls, "
            f"{'-' if per_session is None else f'{per_session / 1024:,.0f} KiB'} RSS per active session"
        )
    extra = derived.get("extrapolation")
    if extra:
        lines.append(f"  {escape(extra['statement'])} [dim](linear in CPU per call and RSS per session)[/]")
    scrape = resources.get("scrape")
    last = (resources.get("samples") or [{}])[-1].get("metrics")
    if scrape:
        shown = ", ".join(f"{escape(k)}={_num(v, '.4g')}" for k, v in (last or {}).items())
        lines.append(f"  scraped {escape(scrape['url'])}: {shown or 'nothing'} ({scrape['errors']} errors)")
    return lines


def render_resources(results: dict[str, Any], console: Console | None = None) -> None:
    """Print the resources block of a run's results (nothing when it was not monitored)."""
    lines = resource_lines(results.get("resources") or {})
    if not lines:
        return
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
