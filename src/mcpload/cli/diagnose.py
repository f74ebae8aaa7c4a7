"""``mcpload diagnose``: connect, detect the transport and era, exercise every method and call the tools the
call policy allows. Thin: the work is in ``mcpload.diagnose``; nothing here reads argv."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from mcpload import exit_codes
from mcpload.cli import options
from mcpload.cli.support import _fail, connection_target


def diagnose(
    url: options.ServerUrl = None,
    stdio_cmd: options.ServerCmd = None,
    transport: options.ServerTransport = "auto",
    protocol: options.ServerProtocol = "auto",
    header: options.Headers = None,
    bearer_env: options.ServerBearerEnv = None,
    timeout: options.Timeout = 30.0,
    connect_timeout: options.ConnectTimeout = 10.0,
    call_timeout: Annotated[
        float, typer.Option(help="Timeout of each sample tool call, seconds (from its latest progress, ≤ 300 s)")
    ] = 30.0,
    no_calls: Annotated[bool, typer.Option("--no-calls", help="List tools but do not call them")] = False,
    skip_tool: Annotated[list[str] | None, typer.Option("--skip-tool", help="Do not call this tool")] = None,
    call_tools: Annotated[
        list[str] | None,
        typer.Option(
            "--call-tools",
            metavar="read-only|all|none|NAME",
            help="Which tools to call (repeatable, comma-separated): read-only (default: annotated readOnlyHint "
            "true and openWorldHint false), all (asks first; --yes when not on a terminal), none, or tool names",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --call-tools all")] = False,
    insecure: options.Insecure = False,
    ca_file: options.CaFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON")] = False,
) -> None:
    """Connect to a server, detect transport and protocol era, exercise every method, and call the read-only tools."""
    from mcpload._loop import run
    from mcpload.diagnose import diagnose as run_diagnosis
    from mcpload.mcp.tool_safety import CallPolicy

    if (url is None) == (stdio_cmd is None):
        raise _fail("diagnose needs a URL or --stdio-cmd CMD (not both)")
    try:
        policy = CallPolicy.parse(call_tools)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if policy.all and not yes and not no_calls and not sys.stdin.isatty():
        raise _fail("--call-tools all may call tools with side effects: add --yes (stdin is not a terminal)")
    try:
        target = connection_target(
            url, stdio_cmd, transport, protocol, header, bearer_env, timeout, connect_timeout, insecure, ca_file
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    from mcpload.redaction import CONSOLE_SECRETS, target_secrets

    CONSOLE_SECRETS.update(target_secrets(target))  # the diagnosis shows what the server says
    diag = run(run_diagnosis(target, not no_calls, call_timeout, tuple(skip_tool or ()), policy, _confirm_calls(yes)))
    if as_json:
        typer.echo(json.dumps(diag.to_dict(), indent=2))
    else:
        from mcpload.outputs.diagnosis import render

        render(diag)
    if not diag.connected:
        raise _fail(f"{target.describe()}: not reachable as an MCP server ({diag.error})", exit_codes.UNREACHABLE)
    if diag.failed:
        raise typer.Exit(exit_codes.FAILED)


def _confirm_calls(yes: bool) -> Callable[[list[str]], bool]:
    """``--call-tools all``: name the tools with possible side effects about to be called, then ask (--yes: don't)."""

    def confirm(names: list[str]) -> bool:
        typer.echo(
            f"mcpload: about to call {len(names)} tools that may have side effects: {', '.join(names)}", err=True
        )
        if yes:
            return True
        try:
            return typer.confirm("Call them?", default=False, err=True)
        except typer.Abort:  # end of input: no
            return False

    return confirm
