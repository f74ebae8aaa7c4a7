"""``run --dry-run`` and the host guard of ``run`` / ``capacity``: what a run would do, said before it
does it. Used by the ``run``, ``capacity`` and ``replay`` commands; nothing here reads argv."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.scenario.model import Scenario

from mcpload.cli.support import _fail

AllowHost = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        metavar="HOST",
        help="Refuse any target host but these (and loopback); repeatable, '*.example.com' allowed. "
        "Also: the scenario's allow_hosts, $MCPLOAD_ALLOW_HOSTS",
    ),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Load, preflight and print the plan (agents, rates, duration); send no load"),
]


def guard_host(scenario: Scenario, target: Target, allow_host: list[str] | None, load: str | None = None) -> None:
    """The one-line notice for a target that is not loopback, or exit 2 when an allow list refuses it.

    Args:
        load: what the run will do, for the notice (default: from the scenario's plan).
    """
    from mcpload import host_guard

    host = host_guard.target_host(target.url)
    allowed = host_guard.allow_list(allow_host, scenario.allow_hosts)
    try:
        host_guard.check(host, allowed)
    except host_guard.HostNotAllowed as exc:
        raise _fail(str(exc)) from None
    if host is None or host_guard.is_loopback(host):
        return
    if load is None:
        from mcpload.plan import plan

        p = plan(scenario)
        calls = "unbounded" if p.peak_calls_per_s is None else f"~{p.peak_calls_per_s:.0f}"
        load = f"up to {p.peak_agents} agents"
        if p.peak_arrival_rate:
            load += f", {p.peak_arrival_rate:.1f} new sessions/s"
        load += f", peak {calls} calls/s"
    typer.echo(host_guard.notice(host, load), err=True)


def dry_run(scenario: Scenario, target: Target) -> int:
    """Preflight (the one connection a dry run makes), then print the plan; the exit code."""
    from mcpload._loop import run as run_loop
    from mcpload.engine.execute import _refuse_ping
    from mcpload.engine.preflight import PreflightError, preflight
    from mcpload.outputs.plan import render_plan
    from mcpload.plan import plan
    from mcpload.redaction import redact

    tools: dict[str, str] = {}
    for path, tool in scenario.tool_names_with_paths():
        tools.setdefault(tool, path)
    try:
        info = run_loop(preflight(target, tools, scenario.literal_calls(), str(scenario.source)))
        if info.era == "modern":
            _refuse_ping(scenario, info.protocol_version)
    except PreflightError as exc:
        typer.echo(f"mcpload: {redact(str(exc), scenario.secrets)}", err=True)
        return exc.code
    server = {
        "name": (info.server_info or {}).get("name", "?"),
        "transport": info.transport,
        "era": info.era,
        "protocol": info.protocol_version,
    }
    render_plan(plan(scenario), redact(target.describe(), scenario.secrets), server)
    return 0


__all__ = ["AllowHost", "DryRun", "dry_run", "guard_host"]
