"""Command line: argv → options → commands. The only module that reads argv or exits.

Exit codes: 0 success · 1 a check failed · 2 bad input (usage, options) · 3 target unreachable or
not an MCP server.
"""

from __future__ import annotations

import json
import shlex
import sys
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


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the demo server (0: pick a free one)")] = 0,
) -> None:
    """Start the demo server and diagnose it (the full load-test demo arrives with the agent engine)."""
    from mcpload.demo.launch import demo_server

    with demo_server(port=port) as url:
        typer.echo(f"demo server started at {url}", err=True)
        diagnose(
            url=url,
            stdio_cmd=None,
            transport="auto",
            protocol="auto",
            header=None,
            bearer_env=None,
            timeout=30.0,
            connect_timeout=10.0,
            call_timeout=10.0,
            no_calls=False,
            skip_tool=None,
            insecure=False,
            as_json=False,
        )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
