"""Command line: argv → options → commands. The only module that reads argv or exits.

Exit codes: 0 success · 1 a diagnose check failed · 2 bad input (usage, options, scenario) · 3 target
unreachable or not an MCP server · 99 a threshold failed · 130 interrupted (results still written).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from mcpload import __version__

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

app = typer.Typer(
    name="mcpload",
    help="Load tester for MCP servers: emulates many bursty LLM agents and measures what they see.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"mcpload: {message}", err=True)
    return typer.Exit(code)


def _parse_headers(values: list[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw in values or []:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip() or any(c in raw for c in "\r\n"):
            raise _fail(f"--header {raw!r}: expected 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


@app.command()
def version() -> None:
    """Print the mcpload version."""
    typer.echo(__version__)


@app.command()
def diagnose(
    url: Annotated[str | None, typer.Argument(help="MCP endpoint URL (Streamable HTTP or legacy /sse)")] = None,
    stdio_cmd: Annotated[str | None, typer.Option("--stdio-cmd", help="Start this command as a stdio server")] = None,
    transport: Annotated[str, typer.Option(help="auto | http | sse | stdio")] = "auto",
    protocol: Annotated[str, typer.Option(help="auto, or a protocol version such as 2025-11-25")] = "auto",
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra HTTP header 'Name: value'")] = None,
    bearer_env: Annotated[
        str | None, typer.Option(help="Name of an environment variable holding a bearer token")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Per-request timeout, seconds")] = 30.0,
    connect_timeout: Annotated[float, typer.Option(help="Connect timeout, seconds")] = 10.0,
    call_timeout: Annotated[float, typer.Option(help="Timeout of each sample tool call, seconds")] = 10.0,
    no_calls: Annotated[bool, typer.Option("--no-calls", help="List tools but do not call them")] = False,
    skip_tool: Annotated[list[str] | None, typer.Option("--skip-tool", help="Do not call this tool")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON")] = False,
) -> None:
    """Connect to a server, detect transport and protocol era, and exercise every method and tool once."""
    from mcpload._loop import run
    from mcpload.diagnose import diagnose as run_diagnosis
    from mcpload.mcp.target import Target

    if (url is None) == (stdio_cmd is None):
        raise _fail("diagnose needs a URL or --stdio-cmd CMD (not both)")
    try:
        target = Target(
            url=url,
            command=shlex.split(stdio_cmd) if stdio_cmd is not None else None,
            transport="stdio" if stdio_cmd is not None and transport == "auto" else transport,
            protocol=protocol,
            headers=_parse_headers(header),
            bearer_env=bearer_env,
            timeout=timeout,
            connect_timeout=connect_timeout,
            verify_tls=not insecure,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    diag = run(run_diagnosis(target, not no_calls, call_timeout, tuple(skip_tool or ())))
    if as_json:
        typer.echo(json.dumps(diag.to_dict(), indent=2))
    else:
        from mcpload.outputs.diagnosis import render

        render(diag)
    if not diag.connected:
        raise _fail(f"{target.describe()}: not reachable as an MCP server ({diag.error})", EXIT_UNREACHABLE)
    if diag.failed:
        raise typer.Exit(EXIT_FAILED)


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
) -> None:
    """Run the demo MCP server (official Python SDK) with agent-like tools."""
    from mcpload.demo.behaviour import Behaviour, SpecError

    if transport not in ("http", "sse", "stdio"):
        raise _fail(f"--transport {transport!r}: use http, sse or stdio")
    try:
        behaviour = Behaviour.from_specs(latency, failure_rate, seed)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    from mcpload.demo.server import serve

    if transport != "stdio":
        typer.echo(f"mcpload demo server on http://{host}:{port}{'/sse' if transport == 'sse' else '/mcp'}", err=True)
    serve(transport, host, port, stateless, json_response, behaviour)  # type: ignore[arg-type]


EXIT_THRESHOLDS, EXIT_INTERRUPTED = 99, 130


def _execute(scenario, target, seed: int | None, out: Path | None, quiet: bool, intervals: Path | None = None) -> int:
    """Run a loaded scenario with the live view; print the summary; return the exit code."""
    from mcpload._loop import run as run_loop
    from mcpload.engine.execute import planned_duration, run_scenario
    from mcpload.engine.preflight import PreflightError
    from mcpload.outputs.console import LiveView, render_summary

    if intervals is None and out is not None:
        intervals = out.with_suffix(".ndjson")
    view = LiveView(planned_duration(scenario), quiet=quiet)

    async def go():
        with view:
            return await run_scenario(
                scenario,
                target=target,
                seed=seed,
                out=out,
                intervals=intervals,
                on_interval=view.update,
                handle_signals=True,
            )

    try:
        report = run_loop(go())
    except PreflightError as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        return exc.code
    render_summary(report.results)
    if out is not None:
        typer.echo(f"results: {out}  intervals: {intervals}", err=True)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return 0 if report.thresholds_passed else EXIT_THRESHOLDS


@app.command("run")
def run_cmd(
    scenario_file: Annotated[Path | None, typer.Argument(metavar="SCENARIO", help="Scenario YAML file")] = None,
    url: Annotated[str | None, typer.Option(help="Target URL (overrides the scenario's)")] = None,
    stdio_cmd: Annotated[str | None, typer.Option("--stdio-cmd", help="Target stdio command")] = None,
    transport: Annotated[str | None, typer.Option(help="auto | http | sse | stdio")] = None,
    protocol: Annotated[str | None, typer.Option(help="auto, or a protocol version")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra HTTP header 'Name: value'")] = None,
    bearer_env: Annotated[str | None, typer.Option(help="Environment variable holding a bearer token")] = None,
    tool: Annotated[str | None, typer.Option(help="Ad-hoc run: the tool every agent calls")] = None,
    args: Annotated[str, typer.Option(help="Ad-hoc run: its arguments as JSON (templates allowed)")] = "{}",
    think: Annotated[str | None, typer.Option(help="Ad-hoc run: think time between calls, e.g. 1s..3s")] = None,
    agents: Annotated[int | None, typer.Option(help="Constant agents (replaces the scenario's profiles)")] = None,
    duration: Annotated[str | None, typer.Option(help="Duration with --agents, e.g. 30s")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for every random choice")] = None,
    out: Annotated[Path, typer.Option(help="Results file (intervals go beside it as .ndjson)")] = Path(
        "mcpload-results.json"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live view, only the summary")] = False,
) -> None:
    """Run a scenario (or an ad-hoc load with --url/--tool) and report; exit 99 if a threshold fails."""
    from mcpload.scenario import ScenarioError

    try:
        scenario = _load_run_scenario(scenario_file, url, stdio_cmd, tool, args, think, agents, duration)
        target = _override_target(scenario, url, stdio_cmd, transport, protocol, header, bearer_env)
    except (ScenarioError, ValueError) as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(_execute(scenario, target, seed, out, quiet))


def _load_run_scenario(scenario_file, url, stdio_cmd, tool, args, think, agents, duration):
    from mcpload.scenario import Scenario, load_scenario

    profile = None
    if agents is not None or duration is not None:
        if agents is None or duration is None:
            raise ValueError("--agents and --duration go together")
        if agents < 1:
            raise ValueError(f"--agents {agents}: must be at least 1")
        profile = {"type": "constant-agents", "agents": agents, "duration": duration}
    if scenario_file is not None:
        if tool is not None:
            raise ValueError("--tool is for ad-hoc runs without a scenario file")
        if not scenario_file.exists():
            raise ValueError(f"{scenario_file}: no such scenario file")
        scenario = load_scenario(scenario_file)
        if profile is not None:
            import dataclasses

            from mcpload.profiles import parse_profiles

            scenario = dataclasses.replace(scenario, profiles=tuple(parse_profiles([profile], "--agents/--duration")))
        return scenario
    if tool is None:
        raise ValueError("give a SCENARIO file, or --tool NAME (with --url or --stdio-cmd) for an ad-hoc run")
    if url is None and stdio_cmd is None:
        raise ValueError("an ad-hoc run needs --url or --stdio-cmd")
    try:
        arguments = json.loads(args)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--args: not valid JSON ({exc.msg} at column {exc.colno})") from None
    workflow: list[dict] = [{"call": tool, "args": arguments}]
    if think:
        workflow.append({"think": think})
    data = {
        "name": f"ad-hoc {tool}",
        "target": {"url": url} if url else {"command": stdio_cmd},
        "agents": {"agent": {"workflow": workflow}},
        "profiles": [profile or {"type": "constant-agents", "agents": 1, "duration": "10s"}],
    }
    return Scenario.from_dict(data, source="<command line>")


def _override_target(scenario, url, stdio_cmd, transport, protocol, header, bearer_env):
    import dataclasses

    target = scenario.to_target()
    changes: dict = {}
    if url is not None:
        changes.update(url=url, command=None)
    if stdio_cmd is not None:
        changes.update(command=shlex.split(stdio_cmd), url=None, transport="stdio")
    if transport is not None:
        changes["transport"] = transport
    if protocol is not None:
        changes["protocol"] = protocol
    if header:
        changes["headers"] = {**target.headers, **_parse_headers(header)}
    if bearer_env is not None:
        changes["bearer_env"] = bearer_env
    if url is not None and target.transport == "stdio" and transport is None:
        changes["transport"] = "auto"
    return dataclasses.replace(target, **changes) if changes else target


@app.command()
def demo(
    duration: Annotated[
        str | None, typer.Option(help="Squeeze or stretch the built-in load shape to this length, e.g. 30s")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results file")] = Path("mcpload-results.json"),
    seed: Annotated[int, typer.Option(help="Seed for every random choice")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live view, only the summary")] = False,
) -> None:
    """Start the demo server and run the built-in bursty multi-agent scenario against it."""
    from mcpload.demo.launch import demo_server
    from mcpload.demo.scenario import demo_scenario

    with demo_server(extra_args=("--failure-rate", "send_message=0.02")) as url:
        typer.echo(f"demo server (official Python SDK) started at {url}", err=True)
        try:
            scenario = demo_scenario(url, duration)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        code = _execute(scenario, None, seed, out, quiet)
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
