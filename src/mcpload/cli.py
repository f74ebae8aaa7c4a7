"""Command line: argv → options → commands. The only module that reads argv or exits.

Exit codes: 0 success · 1 a diagnose check failed · 2 bad input (usage, options, scenario) · 3 target
unreachable or not an MCP server · 99 a threshold failed · 130 interrupted (results still written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload import (
    __version__,
    cli_diagnose,
    cli_distributed,
    cli_init,
    cli_integrations,
    cli_monitor,
    cli_plan,
    cli_traffic,
)
from mcpload.cli_support import (
    DEBUG,
    DEMO_HTML,
    EXIT_THRESHOLDS,
    AllowPython,
    CaFile,
    Insecure,
    _check_files,
    _check_html,
    _demo_html,
    _execute,
    _fail,
    _load_run_scenario,
    _otlp_outputs,
    _override_target,
    _prometheus_outputs,
    _warn_if_exposed,
)

app = typer.Typer(
    name="mcpload",
    help="Load tester for MCP servers: emulates many bursty LLM agents and measures what they see.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="On a failure, show the traceback behind the one-line message")
    ] = False,
) -> None:
    if debug:
        DEBUG["on"] = True


@app.command()
def version() -> None:
    """Print the mcpload version."""
    typer.echo(__version__)


@app.command("serve-demo")
def serve_demo(
    port: Annotated[int, typer.Option(help="TCP port (HTTP and SSE transports)")] = 8000,
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    transport: Annotated[str, typer.Option(help="http | sse | stdio")] = "http",
    stateless: Annotated[bool, typer.Option("--stateless", help="Stateless Streamable HTTP (no sessions)")] = False,
    json_response: Annotated[
        bool, typer.Option("--json-response", help="Answer with JSON instead of SSE streams")
    ] = False,
    latency: Annotated[
        str, typer.Option(envvar="MCPLOAD_DEMO_LATENCY", help="Median latency ms: '20' or 'search_docs=120,get_doc=15'")
    ] = "20",
    failure_rate: Annotated[
        str, typer.Option(envvar="MCPLOAD_DEMO_FAILURES", help="Failure probability: '0.01' or 'send_message=0.05'")
    ] = "0",
    seed: Annotated[int | None, typer.Option(help="Seed for latency and failure draws")] = None,
    latency_sigma: Annotated[float, typer.Option(help="Lognormal sigma of latencies; 0: always the median")] = 0.5,
    max_concurrency: Annotated[
        int | None, typer.Option(help="Cap concurrent tool executions; calls beyond wait in a FIFO queue")
    ] = None,
    queue_timeout: Annotated[
        float | None, typer.Option(help="With --max-concurrency: fail a call (tool error) queued this many seconds")
    ] = None,
    reject_above: Annotated[
        int | None, typer.Option(help="With --max-concurrency: fail a call at once when this many already wait")
    ] = None,
    flaw: Annotated[
        list[str] | None,
        typer.Option(
            "--flaw",
            metavar="NAME[=VALUE]",
            help="Misbehave on purpose (repeatable): leak-sessions[=512KiB], blocking-tool[=search_docs], "
            "unknown-session-400, timeout-at=2s, max-connections=50, ignore-delete, no-origin-check",
        ),
    ] = None,
    replicas: Annotated[
        int,
        typer.Option(
            min=1, max=8, help="Run this many replicas behind a round-robin front without session affinity (HTTP)"
        ),
    ] = 1,
) -> None:
    """Run the demo MCP server (official Python SDK) with agent-like tools."""
    from mcpload.demo.behaviour import Behaviour, SpecError
    from mcpload.demo.flaws import parse_flaws
    from mcpload.demo.limits import ConcurrencyLimit

    if transport not in ("http", "sse", "stdio"):
        raise _fail(f"--transport {transport!r}: use http, sse or stdio")
    try:
        behaviour = Behaviour.from_specs(latency, failure_rate, seed, sigma=latency_sigma)
        if max_concurrency is None and (queue_timeout is not None or reject_above is not None):
            raise ValueError("--queue-timeout and --reject-above need --max-concurrency")
        limit = None if max_concurrency is None else ConcurrencyLimit(max_concurrency, queue_timeout, reject_above)
        flaws = parse_flaws(flaw or [])
        if flaws.needs_wrapping and transport != "http":
            raise ValueError("--flaw: only blocking-tool works with --transport sse or stdio")
    except (SpecError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if replicas > 1:
        if transport != "http":
            raise _fail("--replicas needs --transport http")
        from mcpload.demo.launch import serve_replicas

        typer.echo(f"mcpload demo server: {replicas} replicas behind http://{host}:{port}/mcp (no affinity)", err=True)
        args = ["--latency", latency, "--failure-rate", failure_rate, "--latency-sigma", str(latency_sigma)]
        for name, value in (
            ("--seed", seed),
            ("--max-concurrency", max_concurrency),
            ("--queue-timeout", queue_timeout),
            ("--reject-above", reject_above),
        ):
            if value is not None:
                args += [name, str(value)]
        args += ["--stateless"] * stateless + ["--json-response"] * json_response
        for spec in flaw or []:
            args += ["--flaw", spec]
        serve_replicas(host, port, replicas, args)
        return
    from mcpload.demo.server import serve

    if transport != "stdio":
        _warn_if_exposed("--host", host)
        typer.echo(f"mcpload demo server on http://{host}:{port}{'/sse' if transport == 'sse' else '/mcp'}", err=True)
    serve(transport, host, port, stateless, json_response, behaviour, limit, flaws)  # type: ignore[arg-type]


@app.command("run")
def run_cmd(
    scenario_file: Annotated[Path | None, typer.Argument(metavar="SCENARIO", help="Scenario YAML file")] = None,
    url: Annotated[str | None, typer.Option(help="Target URL (overrides the scenario's)")] = None,
    stdio_cmd: Annotated[str | None, typer.Option("--stdio-cmd", help="Target stdio command")] = None,
    transport: Annotated[str | None, typer.Option(help="auto | http | sse | stdio")] = None,
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
    outputs = _prometheus_outputs(prometheus) + _otlp_outputs(otlp) + cli_integrations.dashboard_outputs(dashboard)
    code = _execute(
        scenario, target, seed, out, quiet, outputs=outputs, html=html, junit=junit, csv=csv, monitor=monitor,
        split=split, summary_md=summary_md,
    )  # fmt: skip
    raise typer.Exit(code)


@app.command()
def report(
    results_file: Annotated[
        Path, typer.Argument(metavar="RESULTS", help="Results JSON, or the NDJSON interval log of a run (even cut)")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = DEMO_HTML,
) -> None:
    """Make the self-contained HTML report of a results file (or rebuild it from an interval log)."""
    from mcpload.metrics.rebuild import REBUILT, load_results
    from mcpload.outputs.html import HtmlReportError, require_plotly, write_html

    _check_files(output=output)
    try:
        require_plotly()
        results = load_results(results_file)  # its ValueError names the file
        write_html(results, output)
    except HtmlReportError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{output}: cannot write the report ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _fail(str(exc) if str(results_file) in str(exc) else f"{results_file}: {exc}") from None
    except (TypeError, AttributeError, KeyError) as exc:  # a results file edited into an odd shape
        raise _fail(f"{results_file}: cannot make a report of it ({type(exc).__name__}: {exc})") from None
    note = " (rebuilt from the interval log)" if results.get(REBUILT) else ""
    typer.echo(f"report: {output}{note}", err=True)


@app.command("compare")
def compare_cmd(
    base: Annotated[Path, typer.Argument(metavar="BASE", help="Results JSON of the reference run")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="Results JSON of the run to judge")],
    assertions: Annotated[
        list[str] | None,
        typer.Option(
            "--assert",
            metavar="EXPR",
            help="Gate on a delta, e.g. 'p95_delta < 10%', 'success_rate_delta > -0.1%', "
            "'tools/call search_docs: p99_delta < 20%' (repeatable)",
        ),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", metavar="PATH", help="Also write an HTML diff")] = None,
    summary_md: cli_integrations.SummaryMd = None,
) -> None:
    """Compare two runs: calls/s, success rate and p50/p95/p99 per operation; exit 99 if an --assert fails."""
    from mcpload.compare import CompareError, compare, load_results, parse_assertion
    from mcpload.outputs.comparison import render_comparison

    try:
        parsed = [parse_assertion(text) for text in assertions or []]
        _check_html(html)
        cli_integrations.check_summary_md(summary_md)
        base_results, new_results = load_results(base), load_results(new)
        comparison = compare(base_results, new_results)
        verdicts = [(a, *a.check(comparison)) for a in parsed]
    except CompareError as exc:
        raise _fail(str(exc)) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:  # a results file edited into an odd shape
        raise _fail(f"{base}, {new}: cannot compare ({type(exc).__name__}: {exc})") from None
    render_comparison(comparison, verdicts, base_name=str(base), new_name=str(new))
    if html is not None:
        from mcpload.outputs.compare_html import write_compare_html

        try:
            write_compare_html(html, comparison, base_results, new_results, (base.name, new.name), verdicts)
        except OSError as exc:
            raise _fail(f"{html}: cannot write the HTML diff ({exc.strerror or exc})") from None
        typer.echo(f"diff: {html}", err=True)
    names = (base.name, new.name)
    cli_integrations.write_summary_md(summary_md, new_results, comparison=comparison, assertions=verdicts, names=names)
    raise typer.Exit(EXIT_THRESHOLDS if any(not passed for _, passed, _ in verdicts) else 0)


@app.command()
def demo(
    duration: Annotated[
        str | None, typer.Option(help="Squeeze or stretch the built-in load shape to this length, e.g. 30s")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results file")] = Path("mcpload-results.json"),
    seed: Annotated[int, typer.Option(help="Seed for every random choice")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live view, only the summary")] = False,
    prometheus: Annotated[
        str | None,
        typer.Option("--prometheus", metavar="HOST:PORT", help="Serve live Prometheus metrics, e.g. 127.0.0.1:9464"),
    ] = None,
    html: Annotated[Path, typer.Option("--html", metavar="PATH", help="HTML report")] = DEMO_HTML,
    otlp: Annotated[
        str | None,
        typer.Option("--otlp", metavar="URL", help="Push live metrics over OTLP/HTTP, e.g. http://127.0.0.1:4318"),
    ] = None,
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
    from mcpload.monitor.processes import own_child

    if duration is not None:  # checked before the demo server starts: a bad one is one line
        from mcpload.profiles.durations import DurationError, parse_duration

        try:
            parse_duration(duration, "--duration")
        except DurationError as exc:
            raise _fail(str(exc)) from None
    outputs = _prometheus_outputs(prometheus) + _otlp_outputs(otlp) + cli_integrations.dashboard_outputs(dashboard)
    capacity_out = out.with_name(f"{out.stem}-capacity.json") if capacity else None

    with demo_server(extra_args=("--failure-rate", "send_message=0.02")) as url:
        typer.echo(f"demo server (official Python SDK) started at {url}", err=True)
        try:
            scenario = demo_scenario(url, duration)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        server_pid = own_child("serve-demo")  # monitored: the "resources" answer
        monitor = MonitorConfig(pids=(server_pid,)) if server_pid is not None else None
        code = _execute(scenario, None, seed, out, quiet, outputs=outputs, html=_demo_html(html), monitor=monitor)
    if capacity_out is not None and code in (0, EXIT_THRESHOLDS):
        from mcpload.cli_capacity import demo_capacity

        demo_capacity(seed, capacity_out, quiet)
    print_answers(out, capacity_out)
    raise typer.Exit(code)


from mcpload.cli_capacity import capacity as _capacity_cmd  # noqa: E402 (it reads helpers defined above)

app.command("capacity")(_capacity_cmd)
app.command("merge")(cli_distributed.merge)
app.command("init")(cli_init.init)
app.command("diagnose")(cli_diagnose.diagnose)
app.command("schema")(cli_init.schema)
cli_traffic.register(app)


def main() -> None:
    from mcpload.cli_guard import main as guarded_main

    guarded_main(app)


if __name__ == "__main__":
    main()
