"""What the commands share: one-line failures, header parsing, and the plumbing of a run (loading or
building the scenario, overriding its target, outputs, the live view, the report files, exit codes).

Kept apart from ``cli.py`` so that each command module stays small; nothing here reads argv.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


#: ``mcpload --debug`` (or MCPLOAD_DEBUG=1): a failure also prints the traceback behind its one line
DEBUG = {"on": os.environ.get("MCPLOAD_DEBUG") == "1"}


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """The one-line failure (``mcpload: …``) and its exit; with ``--debug`` the exception being handled,
    if any, is printed first."""
    if DEBUG["on"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
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


EXIT_THRESHOLDS, EXIT_INTERRUPTED = 99, 130


def _execute(
    scenario,
    target,
    seed: int | None,
    out: Path | None,
    quiet: bool,
    intervals: Path | None = None,
    outputs: list | None = None,
    html: Path | None = None,
    junit: Path | None = None,
    csv: Path | None = None,
    monitor=None,
    split: dict | None = None,
) -> int:
    """Run a loaded scenario with the live view and ``outputs``; print the summary; return the exit code.

    ``monitor`` (a ``MonitorConfig``) starts the ``--server-cmd`` target and samples the target's processes."""
    from mcpload._loop import run as run_loop
    from mcpload.engine.execute import planned_duration, run_scenario
    from mcpload.engine.preflight import PreflightError
    from mcpload.outputs.console import LiveView, render_summary

    if intervals is None and out is not None:
        intervals = out.with_suffix(".ndjson")
    _check_html(html)
    _check_files(junit=junit, csv=csv)
    view = LiveView(planned_duration(scenario), quiet=quiet)

    async def go(mon):
        with view:
            return await run_scenario(
                scenario,
                target=target,
                seed=seed,
                out=out,
                intervals=intervals,
                on_interval=view.update,
                outputs=outputs,
                handle_signals=True,
                annotators=[mon.annotator()] if mon is not None else None,
                **(split or {}),
            )

    from mcpload.cli_monitor import target_url
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
        return EXIT_UNREACHABLE
    render_summary(report.results)
    render_resources(report.results)
    from mcpload.cli_distributed import report_lost

    report_lost(report.results)
    if out is not None:
        typer.echo(f"results: {out}  intervals: {intervals}", err=True)
    html_ok = _write_html_report(report.results, html)
    html_ok = _write_files(report.results, junit=junit, csv=csv) and html_ok
    for output in outputs or []:
        problem = output.problem() if hasattr(output, "problem") else None
        if problem:
            typer.echo(f"mcpload: {problem}", err=True)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return (0 if html_ok else EXIT_USAGE) if report.thresholds_passed else EXIT_THRESHOLDS


def _prometheus_outputs(address: str | None) -> list:
    """``--prometheus HOST:PORT``: the output, already listening, so a bad or busy address exits 2 before any load."""
    if address is None:
        return []
    from mcpload.outputs.prometheus import PrometheusOutput

    try:
        output = PrometheusOutput(address)
        output.listen()
    except ValueError as exc:
        raise _fail(f"--prometheus {exc}") from None
    except OSError as exc:
        raise _fail(f"--prometheus {address!r}: cannot listen ({exc.strerror or exc})") from None
    return [output]


def _load_run_scenario(scenario_file, url, stdio_cmd, tool, args, think, agents, duration):
    from mcpload.scenario import Scenario, load_scenario

    profile = None
    if agents is not None and agents < 1:
        raise ValueError(f"--agents {agents}: must be at least 1")
    if scenario_file is None and (agents is not None or duration is not None):
        # an ad-hoc run: one agent, or ten seconds, unless told
        profile = {"type": "constant-agents", "agents": agents or 1, "duration": duration or "10s"}
    if scenario_file is not None:
        if tool is not None:
            raise ValueError("--tool is for ad-hoc runs without a scenario file")
        if not scenario_file.exists():
            raise ValueError(f"{scenario_file}: no such scenario file")
        scenario = load_scenario(scenario_file)
        if agents is not None or duration is not None:
            # either flag alone keeps the scenario's own value of the other
            profile = {
                "type": "constant-agents",
                "agents": agents if agents is not None else _scenario_agents(scenario),
                "duration": duration if duration is not None else _scenario_duration(scenario),
            }
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


def _scenario_duration(scenario) -> float:
    from mcpload.engine.timing import planned_duration

    seconds = planned_duration(scenario)
    if not seconds:
        raise ValueError(f"{scenario.source}: its profiles set no duration: give --duration with --agents")
    return seconds


def _scenario_agents(scenario) -> int:
    counts = [n for p in scenario.profiles if isinstance(n := getattr(p, "agents", None), int)]
    if not counts:
        raise ValueError(f"{scenario.source}: its profiles set no agent count: give --agents with --duration")
    return max(counts)


def _override_target(
    scenario, url, stdio_cmd, transport, protocol, header, bearer_env, connections=None, insecure=False, ca_file=None
):
    import dataclasses

    if insecure and ca_file is not None:
        raise ValueError("--insecure and --ca-file exclude each other")
    target = scenario.to_target()
    changes: dict = {}
    if insecure:
        changes.update(verify_tls=False, ca_file=None)
    if ca_file is not None:
        changes.update(ca_file=str(ca_file), verify_tls=True)
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
    if connections is not None:
        changes["connections"] = connections
    if url is not None and target.transport == "stdio" and transport is None:
        changes["transport"] = "auto"
    return dataclasses.replace(target, **changes) if changes else target


#: ``--insecure`` and ``--ca-file``, the same on every command that connects
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates")]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file", metavar="PEM", help="Trust the CA certificates in this PEM file (a private CA, self-signed server)"
    ),
]


DEMO_HTML = Path("mcpload-report.html")


def _otlp_outputs(url: str | None) -> list:
    """``--otlp URL``: the OTLP output; a bad URL or a missing ``otel`` extra exits 2 before any load."""
    if url is None:
        return []
    from mcpload.outputs.otlp import OTLPOutput, OTLPUnavailable

    try:
        return [OTLPOutput(url)]
    except (OTLPUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from None


def _check_files(**paths: Path | None) -> None:
    """``--junit``/``--csv PATH``: fail before any load when the file could not be written."""
    for option, path in paths.items():
        if path is not None and not path.parent.is_dir():
            raise _fail(f"--{option} {path}: no such directory {path.parent}")


def _write_files(results: dict, *, junit: Path | None, csv: Path | None) -> bool:
    """Write the JUnit and CSV files asked for; False (and one line each) when one could not be written."""
    from mcpload.outputs.csv_output import write_csv
    from mcpload.outputs.junit import write_junit

    ok = True
    for what, path, write in (
        ("JUnit report", junit, lambda p: write_junit(results, p)),
        ("CSV intervals", csv, lambda p: write_csv(results.get("intervals") or [], p)),
    ):
        if path is None:
            continue
        try:
            write(path)
        except OSError as exc:
            typer.echo(f"mcpload: {path}: cannot write the {what} ({exc.strerror or exc})", err=True)
            ok = False
    return ok


def _check_html(path: Path | None) -> None:
    """``--html PATH``: fail before any load when the report could not be made."""
    if path is None:
        return
    from mcpload.outputs.html import HtmlReportError, require_plotly

    try:
        require_plotly()
    except HtmlReportError as exc:
        raise _fail(str(exc)) from None
    if not path.parent.is_dir():
        raise _fail(f"--html {path}: no such directory {path.parent}")


def _write_html_report(results: dict, path: Path | None) -> bool:
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
    """The demo writes its report unless plotly is missing and the path is the default one."""
    from mcpload.outputs.html import NEEDS_PLOTLY, HtmlReportError, require_plotly

    try:
        require_plotly()
    except HtmlReportError:
        if path == DEMO_HTML:
            typer.echo(f"mcpload: no HTML report: {NEEDS_PLOTLY}", err=True)
            return None
    return path
