"""``mcpload demo``: a demo server and the built-in bursty multi-agent scenario against it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload import exit_codes
from mcpload.cli import integrations as cli_integrations
from mcpload.cli import options
from mcpload.cli.support import (
    DEMO_HTML,
    _demo_html,
    _execute,
    _fail,
    _live_outputs,
)


def demo(
    duration: Annotated[
        str | None, typer.Option(help="Squeeze or stretch the built-in load shape to this length, e.g. 30s")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results file")] = Path("mcpload-results.json"),
    seed: Annotated[int, typer.Option(help="Seed for every random choice")] = 1,
    quiet: options.Quiet = False,
    prometheus: options.Prometheus = None,
    html: Annotated[Path, typer.Option("--html", metavar="PATH", help="HTML report")] = DEMO_HTML,
    otlp: options.Otlp = None,
    capacity: Annotated[
        bool, typer.Option("--capacity", help="Then run a short capacity search (about a minute more)")
    ] = False,
    dashboard: cli_integrations.Dashboard = None,
) -> None:
    """Start the demo server and run the built-in bursty multi-agent scenario against it."""
    from mcpload.demo.answers import print_answers
    from mcpload.demo.launch import demo_server
    from mcpload.demo.scenario import demo_scenario
    from mcpload.monitor import MonitorConfig
    from mcpload.monitor.selection import own_child

    if duration is not None:  # checked before the demo server starts: a bad one is one line
        from mcpload.profiles.durations import DurationError, parse_duration

        try:
            parse_duration(duration, "--duration")
        except DurationError as exc:
            raise _fail(str(exc)) from None
    outputs = _live_outputs({"prometheus": prometheus, "otlp": otlp, "dashboard": dashboard})
    capacity_out = out.with_name(f"{out.stem}-capacity.json") if capacity else None

    with demo_server(extra_args=("--failure-rate", "send_message=0.02")) as url:
        typer.echo(f"demo server (official Python SDK) started at {url}", err=True)
        try:
            scenario = demo_scenario(url, duration)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        server_pid = own_child("serve-demo")  # monitored: the "resources" answer
        monitor = MonitorConfig(pids=(server_pid,)) if server_pid is not None else None
        code = _execute(
            scenario, None, seed, out, quiet, outputs=outputs, files={"html": _demo_html(html)}, monitor=monitor
        )
    if capacity_out is not None and code in (0, exit_codes.THRESHOLDS):
        from mcpload.cli.capacity import demo_capacity

        demo_capacity(seed, capacity_out, quiet)
    print_answers(out, capacity_out)
    raise typer.Exit(code)
