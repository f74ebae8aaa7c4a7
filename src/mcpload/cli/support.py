"""What the commands share: one-line failures, header parsing, and the plumbing of a run (loading or
building the scenario, overriding its target, outputs, the live view, the report files, exit codes).

Shared by the command modules of ``mcpload.cli``; nothing here reads argv.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mcpload.outputs.base import Output

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

AllowPython = Annotated[
    bool,
    typer.Option(
        "--allow-python",
        help="Let the scenario's python: agents import code outside its folder (other files, installed modules)",
    ),
]


#: ``mcpload --debug`` (or MCPLOAD_DEBUG=1): a failure also prints the traceback behind its one line
DEBUG = {"on": os.environ.get("MCPLOAD_DEBUG") == "1"}


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """The one-line failure (``mcpload: …``) and its exit; with ``--debug`` the exception being handled,
    if any, is printed first."""
    from mcpload.redaction import CONSOLE_SECRETS, redact

    if DEBUG["on"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
    typer.echo(f"mcpload: {redact(message, CONSOLE_SECRETS)}", err=True)  # also when echo bypasses sys.stderr
    return typer.Exit(code)


def _parse_headers(values: list[str] | None) -> dict[str, str]:
    """``-H 'Name: value'`` options; a bad one fails in one line that never repeats the value (a secret)."""
    from mcpload.inputs import header_problem

    headers: dict[str, str] = {}
    for raw in values or []:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise _fail(f"--header {name.strip()[:40]!r}…: expected 'Name: value'")
        problem = header_problem(name.strip(), value.strip())
        if problem:
            raise _fail(f"--header {name.strip()[:40]!r}: {problem}")
        headers[name.strip()] = value.strip()
    return headers


EXIT_THRESHOLDS, EXIT_INTERRUPTED = 99, 130
#: the run finished, but an output file could not be written (each lost one is named in a line)
EXIT_OUTPUT_LOST = 4


def _execute(
    scenario,
    target,
    seed: int | None,
    out: Path | None,
    quiet: bool,
    intervals: Path | None = None,
    outputs: list | None = None,
    files: dict[str, Path | None] | None = None,
    monitor=None,
    split: dict | None = None,
) -> int:
    """Run a loaded scenario with the live view and ``outputs``; print the summary; return the exit code.

    ``files``: the paths of the file outputs by name (``{"html": PATH, …}``, see ``outputs.registry``),
    written after the run. ``monitor`` (a ``MonitorConfig``) starts the ``--server-cmd`` target and
    samples the target's processes."""
    from mcpload._loop import run as run_loop
    from mcpload.engine.execute import planned_duration, run_scenario
    from mcpload.engine.preflight import PreflightError
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

    async def go(mon):
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
        return EXIT_UNREACHABLE
    render_summary(report.results)
    render_resources(terminal_safe(report.results))
    from mcpload.cli.distributed import report_lost

    report_lost(report.results)
    lost = _write_outputs(report.results, scenario.secrets, out=out, intervals=intervals, files=files)
    for output in outputs or []:
        problem = output.problem() if hasattr(output, "problem") else None
        if problem:
            typer.echo(f"mcpload: {problem}", err=True)
    if report.interrupted:
        return EXIT_INTERRUPTED
    if not report.thresholds_passed:
        return EXIT_THRESHOLDS
    return EXIT_OUTPUT_LOST if lost else 0


def _write_outputs(results: dict, secrets, *, out, intervals, files: dict[str, Path | None]) -> list[str]:
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


def _with_target_secrets(scenario, target):
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
    import ipaddress

    name = host.strip("[]")
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        typer.echo(f"mcpload: warning: {option} listens on {host}, beyond this machine (loopback: 127.0.0.1)", err=True)


def _python_notice(line: str) -> None:
    """Said before a scenario's ``python:`` agents are imported (their code runs then)."""
    typer.echo(f"mcpload: {line}", err=True)


def _load_run_scenario(
    scenario_file, url, stdio_cmd, tool, args, think, agents, duration, *, allow_python=False, notice=True
):
    from mcpload.inputs import InputError, loads_json
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
        on_python = _python_notice if notice else None
        scenario = load_scenario(scenario_file, allow_python=allow_python, on_python=on_python)
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
        arguments = loads_json(args)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--args: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except InputError as exc:
        raise ValueError(f"--args: {exc}") from None
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
    given = None  # a scenario without target: needs --url or --stdio-cmd to make one at all
    if scenario.target is None and url is not None:
        given = {"url": url}
    elif scenario.target is None and stdio_cmd is not None:
        given = {"command": shlex.split(stdio_cmd)}
    target = scenario.to_target(given)
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


def connection_target(
    url, stdio_cmd, transport, protocol, header, bearer_env, timeout, connect_timeout, insecure=False, ca_file=None
):
    """The ``Target`` of a command that connects without a scenario (``diagnose``, ``init``), from its options.

    Raises:
        ValueError: a bad URL, header, command or TLS option (one line for the user).
    """
    from mcpload.mcp.connect import Target

    return Target(
        url=url,
        command=shlex.split(stdio_cmd) if stdio_cmd is not None else None,
        transport="stdio" if stdio_cmd is not None and transport == "auto" else transport,
        protocol=protocol,
        headers=_parse_headers(header),
        bearer_env=bearer_env,
        timeout=timeout,
        connect_timeout=connect_timeout,
        verify_tls=not insecure,
        ca_file=str(ca_file) if ca_file is not None else None,
    )


#: ``--insecure`` and ``--ca-file``, the same on every command that connects
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates")]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file", metavar="PEM", help="Trust the CA certificates in this PEM file (a private CA, self-signed server)"
    ),
]


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
    """The demo always writes its report: a report that cannot be made stops it before the load (exit 2),
    never a silent skip."""
    _check_html(path)
    return path
