"""``mcpload run``: a scenario (or an ad-hoc load with --url/--tool) → the engine → summary, outputs, exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload.cli import distributed as cli_distributed
from mcpload.cli import integrations as cli_integrations
from mcpload.cli import monitor as cli_monitor
from mcpload.cli import plan as cli_plan
from mcpload.cli.support import (
    AllowPython,
    CaFile,
    Insecure,
    _execute,
    _fail,
    _live_outputs,
    _load_run_scenario,
    _override_target,
)
from mcpload.transports.registry import CHOICES_HELP as TRANSPORT_CHOICES


def run_cmd(
    scenario_file: Annotated[Path | None, typer.Argument(metavar="SCENARIO", help="Scenario YAML file")] = None,
    url: Annotated[str | None, typer.Option(help="Target URL (overrides the scenario's)")] = None,
    stdio_cmd: Annotated[str | None, typer.Option("--stdio-cmd", help="Target stdio command")] = None,
    transport: Annotated[str | None, typer.Option(help=TRANSPORT_CHOICES)] = None,
    protocol: Annotated[str | None, typer.Option(help="auto, or a protocol version")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra HTTP header 'Name: value'")] = None,
    bearer_env: Annotated[str | None, typer.Option(help="Environment variable holding a bearer token")] = None,
    connections: Annotated[
        str | None,
        typer.Option(
            metavar="own|shared[:N]",
            help="HTTP: each session its own connection (own), or sessions share a pool of N (default 64)",
        ),
    ] = None,
    tool: Annotated[str | None, typer.Option(help="Ad-hoc run: the tool every agent calls")] = None,
    args: Annotated[str, typer.Option(help="Ad-hoc run: its arguments as JSON (templates allowed)")] = "{}",
    think: Annotated[str | None, typer.Option(help="Ad-hoc run: think time between calls, e.g. 1s..3s")] = None,
    agents: Annotated[
        int | None, typer.Option(help="Constant agents (replaces the scenario's profiles; its duration is kept)")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(help="Duration, e.g. 30s (replaces the scenario's profiles; its agents are kept)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for every random choice")] = None,
    out: Annotated[Path, typer.Option(help="Results file (intervals go beside it as .ndjson)")] = Path(
        "mcpload-results.json"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live view, only the summary")] = False,
    prometheus: Annotated[
        str | None,
        typer.Option("--prometheus", metavar="HOST:PORT", help="Serve live Prometheus metrics, e.g. 127.0.0.1:9464"),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", metavar="PATH", help="Also write the HTML report")] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="PATH", help="Also write the thresholds as JUnit XML")
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="PATH", help="Also write the intervals as CSV")] = None,
    otlp: Annotated[
        str | None,
        typer.Option("--otlp", metavar="URL", help="Push live metrics over OTLP/HTTP, e.g. http://127.0.0.1:4318"),
    ] = None,
    monitor_pid: cli_monitor.MonitorPid = None,
    monitor_name: cli_monitor.MonitorName = None,
    server_cmd: cli_monitor.ServerCmd = None,
    scrape_metrics: cli_monitor.ScrapeMetrics = None,
    scrape_series: cli_monitor.ScrapeSeries = None,
    extrapolate_agents: cli_monitor.ExtrapolateAgents = None,
    monitor_drain: cli_monitor.MonitorDrain = "3s",
    workers: cli_distributed.Workers = "auto",
    segment: cli_distributed.SegmentOpt = None,
    start_at: cli_distributed.StartAt = None,
    ray: cli_distributed.Ray = None,
    allow_host: cli_plan.AllowHost = None,
    dry_run: cli_plan.DryRun = False,
    allow_python: AllowPython = False,
    summary_md: cli_integrations.SummaryMd = None,
    trace_context: cli_integrations.TraceContext = None,
    dashboard: cli_integrations.Dashboard = None,
    insecure: Insecure = False,
    ca_file: CaFile = None,
) -> None:
    """Run a scenario (or an ad-hoc load with --url/--tool) and report; exit 99 if a threshold fails."""
    from mcpload.scenario import ScenarioError

    try:
        scenario = _load_run_scenario(
            scenario_file, url, stdio_cmd, tool, args, think, agents, duration, allow_python=allow_python
        )
        target = _override_target(
            scenario, url, stdio_cmd, transport, protocol, header, bearer_env, connections, insecure, ca_file
        )
        target = cli_integrations.with_trace_context(target, trace_context)
        monitor = cli_monitor.monitor_config(
            target,
            monitor_pid,
            monitor_name,
            server_cmd,
            scrape_metrics,
            scrape_series,
            extrapolate_agents,
            monitor_drain,
        )
        recipe = dict(scenario_file=scenario_file, url=url, stdio_cmd=stdio_cmd, tool=tool, args=args, think=think)
        recipe.update(agents=agents, duration=duration, transport=transport, protocol=protocol, header=header)
        recipe.update(bearer_env=bearer_env, connections=connections, allow_python=allow_python)
        recipe.update(trace_context=trace_context)
        recipe.update(insecure=insecure, ca_file=ca_file)
        split = cli_distributed.distribution(scenario, workers, segment, start_at, ray, recipe)
    except (ScenarioError, ValueError) as exc:
        raise _fail(str(exc)) from None
    cli_plan.guard_host(scenario, target, allow_host)
    if dry_run:
        raise typer.Exit(cli_plan.dry_run(scenario, target))
    cli_integrations.check_summary_md(summary_md)
    outputs = _live_outputs({"prometheus": prometheus, "otlp": otlp, "dashboard": dashboard})
    code = _execute(
        scenario, target, seed, out, quiet, outputs=outputs, monitor=monitor, split=split,
        files={"html": html, "junit": junit, "csv": csv, "summary-md": summary_md},
    )  # fmt: skip
    raise typer.Exit(code)
