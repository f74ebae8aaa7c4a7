"""``mcpload init`` and ``mcpload schema``: the first-contact commands. Thin: the work is in
``mcpload.init`` and ``mcpload.scenario.schema``; nothing here reads argv."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload import exit_codes
from mcpload.cli import options
from mcpload.cli.support import _fail, connection_target


def init(
    url: options.ServerUrl = None,
    stdio_cmd: options.ServerCmd = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Scenario file to write ('-': standard output)")
    ] = Path("scenario.yaml"),
    from_trace: Annotated[
        Path | None,
        typer.Option("--from-trace", metavar="TRACE.jsonl", help="Take arguments from recorded tools/call lines"),
    ] = None,
    persona: Annotated[
        str, typer.Option(help="Think and idle times: support (default), chat, coding, research")
    ] = "support",
    agents: Annotated[int, typer.Option(help="Agents at the spike of the profile (a third of it held)")] = 30,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the output file")] = False,
    no_calls: Annotated[
        bool, typer.Option("--no-calls", help="Do not try the read-only tools' arguments against the server")
    ] = False,
    transport: options.ServerTransport = "auto",
    protocol: options.ServerProtocol = "auto",
    header: options.Headers = None,
    bearer_env: options.ServerBearerEnv = None,
    timeout: options.Timeout = 30.0,
    connect_timeout: options.ConnectTimeout = 10.0,
    call_timeout: Annotated[float, typer.Option(help="Timeout of each trial tool call, seconds")] = 10.0,
    insecure: options.Insecure = False,
    schema_ref: Annotated[
        str | None,
        typer.Option(help="The $schema reference written at the top (default: the schema installed with mcpload)"),
    ] = None,
) -> None:
    """Connect to a server and write a commented, runnable scenario for it (read-only tools called)."""
    from mcpload import init as scaffold
    from mcpload._loop import run

    if (url is None) == (stdio_cmd is None):
        raise _fail("init needs a URL or --stdio-cmd CMD (not both)")
    to_stdout = str(output) == "-"
    if not to_stdout:
        if output.exists() and not force:
            raise _fail(f"{output}: already exists (--force overwrites it, -o names another file)")
        if not output.parent.is_dir():
            raise _fail(f"--output {output}: no such directory {output.parent}")
        _check_input_and_output(from_trace, output)
    elif from_trace is not None:
        _check_input_and_output(from_trace, None)
    try:
        target = connection_target(
            url, stdio_cmd, transport, protocol, header, bearer_env, timeout, connect_timeout, insecure
        )
        options = scaffold.InitOptions(
            persona=persona,
            agents=agents,
            trace=from_trace,
            try_calls=not no_calls,
            call_timeout=call_timeout,
            origin=scaffold.origin(url, stdio_cmd),
            bearer_env=bearer_env,
            schema_ref=schema_ref,
        )
        result = run(scaffold.build_scenario(target, options))
    except scaffold.DiscoveryError as exc:
        raise _fail(str(exc), exit_codes.UNREACHABLE) from None
    except ValueError as exc:  # TraceError included: it names the file and line
        raise _fail(str(exc)) from None
    if to_stdout:
        typer.echo(result.text, nl=False)
    else:
        from mcpload.atomic import write_text_atomic

        try:
            write_text_atomic(output, result.text)
        except OSError as exc:
            raise _fail(f"{output}: cannot write the scenario ({exc.strerror or exc})") from None
    where = "standard output" if to_stdout else str(output)
    typer.echo(
        f"scenario: {where} — {len(result.called)} tools called, {len(result.disabled)} commented out "
        f"(side effects, or arguments to write); next: mcpload run {where if not to_stdout else 'FILE'} --dry-run",
        err=True,
    )


def _check_input_and_output(trace: Path | None, output: Path | None) -> None:
    """The trace must be a bounded regular file (never /dev/zero or a FIFO: reading would not end)
    and the output a place a regular file can be written (never a device); one line, exit 2."""
    from mcpload.inputs import InputError, check_file
    from mcpload.outputs.paths import output_problem

    if trace is not None:
        try:
            check_file(trace, "trace")
        except InputError as exc:
            raise _fail(f"--from-trace {trace}: {exc}") from None
    problem = output_problem(output) if output is not None else None
    if problem:
        raise _fail(f"--output {output}: {problem}")
