"""``mcpload run``: a scenario (or an ad-hoc load with --url/--tool) → the engine → summary, outputs, exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload.cli import distributed as cli_distributed
from mcpload.cli import integrations as cli_integrations
from mcpload.cli import monitor as cli_monitor
from mcpload.cli import options
from mcpload.cli import plan as cli_plan
from mcpload.cli.support import (
    _execute,
    _fail,
    _live_outputs,
    _python_notice,
)


def run_cmd(
    scenario_file: Annotated[Path | None, typer.Argument(metavar="SCENARIO", help="Scenario YAML file")] = None,
    url: options.TargetUrl = None,
    stdio_cmd: options.StdioCmd = None,
    transport: options.Transport = None,
    protocol: options.Protocol = None,
    header: options.Headers = None,
    bearer_env: options.BearerEnv = None,
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
    seed: options.Seed = None,
    out: Annotated[Path, typer.Option(help="Results file (intervals go beside it as .ndjson)")] = Path(
        "mcpload-results.json"
    ),
    quiet: options.Quiet = False,
    prometheus: options.Prometheus = None,
    html: options.HtmlReport = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="PATH", help="Also write the thresholds as JUnit XML")
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="PATH", help="Also write the intervals as CSV")] = None,
    otlp: options.Otlp = None,
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
    allow_python: options.AllowPython = False,
    summary_md: cli_integrations.SummaryMd = None,
    trace_context: cli_integrations.TraceContext = None,
    dashboard: cli_integrations.Dashboard = None,
    insecure: options.Insecure = False,
    ca_file: options.CaFile = None,
) -> None:
    """Run a scenario (or an ad-hoc load with --url/--tool) and report; exit 99 if a threshold fails."""
    from mcpload.scenario import ScenarioError
    from mcpload.scenario.command_line import RunRecipe
    from mcpload.scenario.target_spec import TargetOverrides

    recipe = RunRecipe(
        scenario_file=scenario_file, tool=tool, args=args, think=think, agents=agents, duration=duration,
        allow_python=allow_python, trace_context=trace_context,
        target=TargetOverrides(
            url=url, stdio_cmd=stdio_cmd, transport=transport, protocol=protocol, headers=tuple(header or ()),
            bearer_env=bearer_env, connections=connections, insecure=insecure,
            ca_file=str(ca_file) if ca_file is not None else None,
        ),
    )  # fmt: skip
    try:
        scenario = recipe.scenario(on_python=_python_notice)
        target = recipe.target_of(scenario)
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
