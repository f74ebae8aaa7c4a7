"""What the commands share: one-line failures and the plumbing of a run (outputs, the live view, the
report files, the exit code); the scenario and its target come from ``mcpload.scenario.command_line``.

Shared by the command modules of ``mcpload.cli``; nothing here reads argv.
"""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpload import exit_codes

if TYPE_CHECKING:
    from mcpload.cli.distributed import SplitRun
    from mcpload.engine.runner import RunReport
    from mcpload.mcp.connect import Target
    from mcpload.monitor import MonitorConfig
    from mcpload.monitor.monitor import Monitor
    from mcpload.outputs.base import Output
    from mcpload.scenario.model import Scenario

#: ``mcpload --debug`` (or MCPLOAD_DEBUG=1): a failure also prints the traceback behind its one line
DEBUG = {"on": os.environ.get("MCPLOAD_DEBUG") == "1"}


def _fail(message: str, code: int = exit_codes.USAGE) -> typer.Exit:
    """The one-line failure (``mcpload: …``) and its exit; with ``--debug`` the exception being handled,
    if any, is printed first."""
    from mcpload.redaction import CONSOLE_SECRETS, redact

    if DEBUG["on"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
    typer.echo(f"mcpload: {redact(message, CONSOLE_SECRETS)}", err=True)  # also when echo bypasses sys.stderr
    return typer.Exit(code)


def _execute(
    scenario: Scenario,
    target: Target | None,
    seed: int | None,
    out: Path | None,
    quiet: bool,
    intervals: Path | None = None,
    outputs: list[Output] | None = None,
    files: dict[str, Path | None] | None = None,
    monitor: MonitorConfig | None = None,
    split: SplitRun | None = None,
) -> int:
    """Run a loaded scenario with the live view and ``outputs``; print the summary; return the exit code.

    ``files``: the paths of the file outputs by name (``{"html": PATH, …}``, see ``outputs.registry``),
    written after the run. ``monitor`` (a ``MonitorConfig``) starts the ``--server-cmd`` target and
    samples the target's processes."""
    from mcpload._loop import run as run_loop
    from mcpload.engine.execute import run_scenario
    from mcpload.engine.preflight import PreflightError
    from mcpload.engine.timing import planned_duration
    from mcpload.outputs.console import LiveView, render_summary
    from mcpload.outputs.paths import check_outputs
    from mcpload.outputs.registry import file_options
    from mcpload.redaction import terminal_safe

    scenario = _with_target_secrets(scenario, target)  # every output (and the console) masks them
    if intervals is None and out is not None:
        intervals = out.with_suffix(".ndjson")
    files = files or {}
    _check_html(files.get("html"))
    problem = check_outputs([("--out", out), ("--out (its interval log)", intervals), *file_options(files)])
    if problem:
        raise _fail(problem)
    view = LiveView(planned_duration(scenario), quiet=quiet)

    async def go(mon: Monitor | None) -> RunReport:
        with view:
            return await run_scenario(
                scenario,
                target=target,
                seed=seed,
                out=None,  # written below, after the summary, each output on its own
                intervals=intervals,
                on_interval=view.update,
                outputs=outputs,
                handle_signals=True,
                annotators=[mon.annotator()] if mon is not None else None,
                **(split or {}),
            )

    from mcpload.cli.monitor import target_url
    from mcpload.monitor import ServerStartError, monitoring
    from mcpload.monitor.render import render_resources

    try:
        with monitoring(monitor, target_url(scenario, target)) as mon:
            report = run_loop(go(mon))
    except PreflightError as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        return exc.code
    except ServerStartError as exc:
        typer.echo(f"mcpload: {exc}", err=True)
        return exit_codes.UNREACHABLE
    render_summary(report.results)
    render_resources(terminal_safe(report.results))
    from mcpload.cli.distributed import report_lost

    report_lost(report.results)
    lost = _write_outputs(report.results, scenario.secrets, out=out, intervals=intervals, files=files)
    for output in outputs or []:
        problem = output.problem()
        if problem:
            typer.echo(f"mcpload: {problem}", err=True)
    if report.interrupted:
        return exit_codes.INTERRUPTED
    if not report.thresholds_passed:
        return exit_codes.THRESHOLDS
    return exit_codes.OUTPUT_LOST if lost else 0


def _write_outputs(
    results: dict[str, Any],
    secrets: frozenset[str],
    *,
    out: Path | None,
    intervals: Path | None,
    files: dict[str, Path | None],
) -> list[str]:
    """Write the results file and the file outputs, each on its own: one that fails (a full disk, a
    folder gone) is named in one line and costs only itself. Returns those lines."""
    from mcpload.engine.execute import write_results
    from mcpload.outputs.paths import write_each
    from mcpload.outputs.registry import write_files

    lost = write_each([("results", out, lambda p: write_results(results, p, secrets))])
    lost_files, written = write_files(results, files)
    lost += lost_files
    for line in lost:
        typer.echo(f"mcpload: {line}", err=True)
    failed = {line.partition(": cannot write")[0] for line in lost}
    if out is not None and str(out) not in failed:
        typer.echo(f"results: {out}  intervals: {intervals}", err=True)
    elif intervals is not None:
        typer.echo(f"intervals: {intervals} (mcpload report {intervals} rebuilds the results from it)", err=True)
    for line in written:
        typer.echo(line, err=True)
    return lost


def _with_target_secrets(scenario: Scenario, target: Target | None) -> Scenario:
    """The scenario, its ``secrets`` grown by the target's (URL userinfo and credential query values,
    header values, the bearer token): every output redacts them, and so does the console."""
    import dataclasses

    from mcpload.redaction import CONSOLE_SECRETS, target_secrets

    found = target_secrets(target if target is not None else scenario.to_target())
    CONSOLE_SECRETS.update(found | set(scenario.secrets))
    if found <= scenario.secrets:
        return scenario
    return dataclasses.replace(scenario, secrets=frozenset(scenario.secrets | found))


def _live_outputs(values: dict[str, str | None]) -> list[Output]:
    """The live outputs asked for (``{"prometheus": "HOST:PORT", …}``, see ``outputs.registry``), built
    before any load: a bad or busy value exits 2 with one line."""
    from mcpload.outputs.base import OptionError
    from mcpload.outputs.registry import live_outputs

    try:
        return live_outputs(values, lambda line: typer.echo(line, err=True))
    except OptionError as exc:
        raise _fail(str(exc)) from None


def _warn_if_exposed(option: str, host: str) -> None:
    """One line when a listener binds beyond loopback: others on the network can reach it."""
    from mcpload.host_guard import is_loopback

    if not is_loopback(host):
        typer.echo(f"mcpload: warning: {option} listens on {host}, beyond this machine (loopback: 127.0.0.1)", err=True)


def _python_notice(line: str) -> None:
    """Said before a scenario's ``python:`` agents are imported (their code runs then)."""
    typer.echo(f"mcpload: {line}", err=True)


def connection_target(
    url: str | None,
    stdio_cmd: str | None,
    transport: str,
    protocol: str,
    header: list[str] | None,
    bearer_env: str | None,
    timeout: float,
    connect_timeout: float,
    insecure: bool = False,
    ca_file: Path | None = None,
) -> Target:
    """The ``Target`` of a command that connects without a scenario (``diagnose``, ``init``), from its options.

    Raises:
        ValueError: a bad URL, header, command or TLS option (one line for the user).
    """
    from mcpload.inputs import parse_headers
    from mcpload.mcp.connect import Target

    return Target(
        url=url,
        command=shlex.split(stdio_cmd) if stdio_cmd is not None else None,
        transport="stdio" if stdio_cmd is not None and transport == "auto" else transport,
        protocol=protocol,
        headers=parse_headers(header),
        bearer_env=bearer_env,
        timeout=timeout,
        connect_timeout=connect_timeout,
        verify_tls=not insecure,
        ca_file=str(ca_file) if ca_file is not None else None,
    )


DEMO_HTML = Path("mcpload-report.html")


def _check_files(**paths: Path | None) -> None:
    """``--junit``/``--csv PATH``…: fail before any load when a file could not be written there."""
    from mcpload.outputs.paths import check_outputs

    problem = check_outputs((f"--{option}", path) for option, path in paths.items())
    if problem:
        raise _fail(problem)


def _check_html(path: Path | None) -> None:
    """``--html PATH``: fail before any load when the report could not be made."""
    if path is None:
        return
    from mcpload.outputs.html import HtmlReportError, require_plotly

    try:
        require_plotly()
    except HtmlReportError as exc:
        raise _fail(str(exc)) from None
    _check_files(html=path)


def _write_html_report(results: dict[str, Any], path: Path | None) -> bool:
    """Write the HTML report when asked; False (and one line) when it could not be written."""
    if path is None:
        return True
    from mcpload.outputs.html import write_html

    try:
        write_html(results, path)
    except OSError as exc:
        typer.echo(f"mcpload: {path}: cannot write the HTML report ({exc.strerror or exc})", err=True)
        return False
    typer.echo(f"report: {path}", err=True)
    return True


def _demo_html(path: Path) -> Path | None:
    """The demo always writes its report: a report that cannot be made stops it before the load (exit 2),
    never a silent skip."""
    _check_html(path)
    return path
