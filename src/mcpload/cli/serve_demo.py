"""``mcpload serve-demo``: the demo MCP server (official Python SDK), alone or as replicas."""

from __future__ import annotations

from typing import Annotated

import typer

from mcpload.cli.support import _fail, _warn_if_exposed


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
        from mcpload.demo.launch import replica_args, serve_replicas

        typer.echo(f"mcpload demo server: {replicas} replicas behind http://{host}:{port}/mcp (no affinity)", err=True)
        args = replica_args(
            latency=latency, failure_rate=failure_rate, latency_sigma=latency_sigma, seed=seed,
            max_concurrency=max_concurrency, queue_timeout=queue_timeout, reject_above=reject_above,
            stateless=stateless, json_response=json_response, flaws=flaw or [],
        )  # fmt: skip
        serve_replicas(host, port, replicas, args)
        return
    from mcpload.demo.server import serve

    if transport != "stdio":
        _warn_if_exposed("--host", host)
        typer.echo(f"mcpload demo server on http://{host}:{port}{'/sse' if transport == 'sse' else '/mcp'}", err=True)
    serve(transport, host, port, stateless, json_response, behaviour, limit, flaws)  # type: ignore[arg-type]
