"""``mcpload capacity``: argv → settings → the capacity search → table, answers, results file.

Exit codes: 0 the search ended (a ceiling, none up to --max-load, or none at all) · 1 stopped early
because mcpload itself was the bottleneck (no trustworthy ceiling) · 2 bad input · 3 target
unreachable · 130 interrupted (what was measured is still written).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mcpload.capacity import Settings, Slo
    from mcpload.mcp.connect import Target
    from mcpload.monitor import MonitorConfig
    from mcpload.scenario.model import Scenario

from mcpload import exit_codes
from mcpload.cli import integrations as cli_integrations
from mcpload.cli import monitor as cli_monitor
from mcpload.cli import options
from mcpload.cli import plan as cli_plan
from mcpload.cli.support import (
    _check_files,
    _python_notice,
    _with_target_secrets,
)

PANEL = "Search"


def capacity(
    scenario_file: Annotated[Path | None, typer.Argument(metavar="SCENARIO", help="Scenario YAML file")] = None,
    slo: Annotated[
        list[str] | None,
        typer.Option(
            "--slo",
            help="An objective every step must meet (repeatable): 'success_rate >= 0.999', 'error_rate <= 1%', "
            "'p95 <= 400ms' (p50 p90 p95 p99 p999). Default: success_rate >= 0.99 and p95 <= 1s",
        ),
    ] = None,
    url: options.TargetUrl = None,
    stdio_cmd: options.StdioCmd = None,
    transport: options.Transport = None,
    protocol: options.Protocol = None,
    header: options.Headers = None,
    bearer_env: options.BearerEnv = None,
    tool: Annotated[str | None, typer.Option(help="Without a file: the tool every agent calls back to back")] = None,
    args: Annotated[str, typer.Option(help="Without a file: its arguments as JSON (templates allowed)")] = "{}",
    think: Annotated[str | None, typer.Option(help="Without a file: think time between calls, e.g. 1s..3s")] = None,
    by: Annotated[
        str, typer.Option(help="agents: concurrent agents (closed) · rate: new sessions per second (open)")
    ] = "agents",
    start: Annotated[float, typer.Option(help="Load of the first step", rich_help_panel=PANEL)] = 1,
    step: Annotated[
        str, typer.Option(help="Growth between steps: a multiplier 'x2' or an increment '+5'", rich_help_panel=PANEL)
    ] = "x2",
    step_duration: Annotated[
        str, typer.Option(help="Measured length of each step (after its warm-up)", rich_help_panel=PANEL)
    ] = "10s",
    warmup: Annotated[str, typer.Option(help="Start of each step that is discarded", rich_help_panel=PANEL)] = "5s",
    min_calls: Annotated[
        int,
        typer.Option(help="Calls a step needs for its percentiles; short steps are stretched", rich_help_panel=PANEL),
    ] = 200,
    resolution: Annotated[
        str, typer.Option(help="Stop bisecting at this gap: a load '2' or a share '10%'", rich_help_panel=PANEL)
    ] = "10%",
    max_load: Annotated[float, typer.Option(help="Never try more than this load", rich_help_panel=PANEL)] = 10_000,
    recovery_timeout: Annotated[
        str,
        typer.Option(help="After overload, how long the SLOs may take to hold again (0: skip)", rich_help_panel=PANEL),
    ] = "30s",
    max_agents: Annotated[
        int, typer.Option(help="--by rate: sessions running at once (beyond: dropped)", rich_help_panel=PANEL)
    ] = 1000,
    guard_cpu: Annotated[
        float, typer.Option(hidden=True, help="mcpload's CPU, as a share of one core, that stops the search")
    ] = 0.9,
    seed: options.Seed = None,
    out: Annotated[Path, typer.Option(help="Results file (the run at the ceiling, with the capacity section)")] = Path(
        "mcpload-capacity.json"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per step, only the table")] = False,
    monitor_pid: cli_monitor.MonitorPid = None,
    monitor_name: cli_monitor.MonitorName = None,
    server_cmd: cli_monitor.ServerCmd = None,
    scrape_metrics: cli_monitor.ScrapeMetrics = None,
    scrape_series: cli_monitor.ScrapeSeries = None,
    extrapolate_agents: cli_monitor.ExtrapolateAgents = None,
    allow_host: cli_plan.AllowHost = None,
    allow_python: options.AllowPython = False,
    summary_md: cli_integrations.SummaryMd = None,
    insecure: options.Insecure = False,
    ca_file: options.CaFile = None,
) -> None:
    """Find the highest load (agents or sessions/s) the server sustains under the SLOs: steps, then bisection."""
    from mcpload.capacity import Growth, Resolution, Settings, SloError, parse_slos
    from mcpload.capacity.settings import seconds
    from mcpload.scenario import ScenarioError
    from mcpload.scenario.command_line import RunRecipe
    from mcpload.scenario.target_spec import TargetOverrides

    _check_files(out=out)
    try:
        slos = parse_slos(slo)
        settings = Settings(
            by=by,
            start=start,
            growth=Growth.parse(step),
            step_s=seconds(step_duration, "--step-duration"),
            warmup_s=seconds(warmup, "--warmup"),
            min_calls=min_calls,
            resolution=Resolution.parse(resolution),
            max_load=max_load,
            recovery_timeout_s=seconds(recovery_timeout, "--recovery-timeout"),
            max_agents=max_agents,
            guard_cpu=guard_cpu,
        )
        recipe = RunRecipe(
            scenario_file=scenario_file, tool=tool, args=args, think=think, allow_python=allow_python,
            target=TargetOverrides(
                url=url, stdio_cmd=stdio_cmd, transport=transport, protocol=protocol, headers=tuple(header or ()),
                bearer_env=bearer_env, insecure=insecure, ca_file=str(ca_file) if ca_file is not None else None,
            ),
        )  # fmt: skip
        scenario = recipe.scenario(on_python=_python_notice)
        target = recipe.target_of(scenario)
        monitor = cli_monitor.monitor_config(
            target, monitor_pid, monitor_name, server_cmd, scrape_metrics, scrape_series, extrapolate_agents
        )
    except (SloError, ScenarioError, ValueError) as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        raise typer.Exit(exit_codes.USAGE) from None
    unit = "agents" if by == "agents" else "new sessions/s"
    cli_plan.guard_host(scenario, target, allow_host, f"capacity search from {start:g} up to {max_load:g} {unit}")
    cli_integrations.check_summary_md(summary_md)
    raise typer.Exit(execute_capacity(scenario, target, slos, settings, seed, out, quiet, monitor, summary_md))


def execute_capacity(
    scenario: Scenario,
    target: Target | None,
    slos: tuple[Slo, ...],
    settings: Settings,
    seed: int | None,
    out: Path | None,
    quiet: bool,
    monitor: MonitorConfig | None = None,
    summary_md: Path | None = None,
) -> int:
    """Run the search (monitoring the target when asked), print the table and answers, write ``out``;
    return the exit code. Also used by ``mcpload demo --capacity``."""
    from mcpload._loop import run as run_loop
    from mcpload.capacity import run_capacity
    from mcpload.capacity.render import render_capacity, step_line
    from mcpload.engine.execute import write_results
    from mcpload.engine.preflight import PreflightError
    from mcpload.monitor import ServerStartError, monitoring
    from mcpload.monitor.render import render_resources
    from mcpload.redaction import terminal_safe

    scenario = _with_target_secrets(scenario, target)

    def on_step(step: dict[str, Any]) -> None:
        if not quiet:
            typer.echo(step_line(terminal_safe(step), settings.unit), err=True)

    try:
        with monitoring(monitor, cli_monitor.target_url(scenario, target)) as mon:
            annotators = (lambda: [mon.annotator(drain=False)]) if mon is not None else None
            found, results = run_loop(
                run_capacity(scenario, slos, settings, target=target, seed=seed, annotators=annotators, on_step=on_step)
            )
    except PreflightError as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        return exc.code
    except ServerStartError as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        return exit_codes.UNREACHABLE
    render_capacity(terminal_safe(found))  # what the server said, made harmless for the terminal
    lost = False
    if results is not None:
        if results.get("resources"):
            typer.echo("at the ceiling:" if found.get("ceiling") else "in the last step:")
            render_resources(terminal_safe(results))
        if out is not None:
            try:  # after the table: a full disk loses the file, not what was shown
                write_results(results, out, scenario.secrets)
                typer.echo(f"results: {out}", err=True)
            except OSError as exc:
                typer.echo(f"mcpload: {out}: cannot write the results ({exc.strerror or exc}); it is lost", err=True)
                lost = True
    if not cli_integrations.write_summary_md(summary_md, results if results is not None else {"capacity": found}):
        lost = True
    if found["stopped"] == "interrupted":
        return exit_codes.INTERRUPTED
    if lost:
        return exit_codes.OUTPUT_LOST
    return exit_codes.GENERATOR_BOUND if found["stopped"] == "generator-bound" else 0


def demo_capacity(seed: int | None, out: Path, quiet: bool) -> int:
    """``mcpload demo --capacity``: a short search on a fresh demo server with a known cap."""
    from mcpload.capacity import parse_slos
    from mcpload.demo import capacity as demo
    from mcpload.demo.launch import demo_server
    from mcpload.monitor import MonitorConfig
    from mcpload.monitor.selection import own_child

    with demo_server(extra_args=demo.SERVER_ARGS) as url:
        typer.echo(
            f"capacity search: a demo server capped at {demo.MAX_CONCURRENCY} concurrent tool calls of "
            f"{demo.TOOL_LATENCY_MS} ms (its limit: {demo.LIMIT_TOOL_CALLS_PER_S:g} tool calls/s), {url}"
        )
        pid = own_child("serve-demo")
        monitor = MonitorConfig(pids=(pid,)) if pid is not None else None
        settings = demo.capacity_settings()
        return execute_capacity(
            demo.capacity_scenario(url), None, parse_slos(demo.SLOS), settings, seed, out, quiet, monitor
        )
