"""The traffic commands (``record``, ``import``, ``analyze``, ``fit``, ``replay``): options → ``mcpload.traffic``.

Registered on the app by ``register`` (one line in ``mcpload.cli``); the heavy work lives in the
``traffic`` package, imported when a command runs.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mcpload.traffic.trace import Trace

from mcpload.cli import options
from mcpload.cli import plan as cli_plan
from mcpload.cli.support import _fail, _warn_if_exposed

PANEL = "Traffic: record, analyse, fit, replay"


def record(
    out: Annotated[Path, typer.Option("--output", "-o", help="Trace file to write (JSON lines)")] = Path("trace.jsonl"),
    upstream: Annotated[
        str | None, typer.Option(help="The real server's URL (Streamable HTTP, or a legacy /sse URL)")
    ] = None,
    listen: Annotated[str, typer.Option(help="Where the proxy listens, HOST:PORT")] = "127.0.0.1:8765",
    stdio_cmd: Annotated[
        str | None, typer.Option("--stdio-cmd", help="Start this stdio server and be a stdio server in front of it")
    ] = None,
    redact: Annotated[
        list[str] | None,
        typer.Option("--redact", metavar="REGEX", help="Hash argument values this regex matches (repeatable)"),
    ] = None,
    no_args: Annotated[bool, typer.Option("--no-args", help="Record only each argument's type, no values")] = False,
) -> None:
    """Record real agent traffic through a transparent proxy into a trace (Ctrl-C stops; nothing is lost).

    With --stdio-cmd, a '{pid}' in the output name becomes this process's id: an agent host that
    starts the server several times then writes one trace per process (analyse them together).
    """
    from mcpload.traffic.record import record_command, record_http
    from mcpload.traffic.redact import Redactor

    if (upstream is None) == (stdio_cmd is None):
        raise _fail("record needs --upstream URL or --stdio-cmd CMD (not both)")
    try:
        redactor = Redactor(redact or (), keep_args=not no_args)
        command = shlex.split(stdio_cmd) if stdio_cmd is not None else []
        if stdio_cmd is not None and not command:
            raise ValueError("--stdio-cmd is empty")
        if upstream is not None:
            _warn_if_exposed("--listen", listen.rpartition(":")[0] or listen)
            lines = record_http(upstream, listen, out, redactor)
            typer.echo(f"trace: {out} ({lines} lines)", err=True)
            return
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{out if not upstream else listen}: {exc.strerror or exc}") from None
    try:
        code = record_command(command, Path(str(out).replace("{pid}", str(os.getpid()))), redactor)
    except OSError as exc:
        raise _fail(f"--stdio-cmd {command[0]!r} or {out}: {exc.strerror or exc}") from None
    raise typer.Exit(code)


def _read(trace_files: list[Path]) -> Trace:
    from mcpload.traffic.trace import TraceError, read_traces

    try:
        trace = read_traces(list(trace_files))
    except TraceError as exc:
        raise _fail(str(exc)) from None
    if not trace.tool_calls():
        raise _fail(f"{trace.path}: the trace holds no tools/call exchange to analyse")
    return trace


def _seconds(value: str | None, option: str) -> float | None:
    from mcpload.profiles.durations import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value, option)
    except ValueError as exc:
        raise _fail(f"{option} {value!r}: {exc}") from None


def analyze(
    trace_files: Annotated[
        list[Path], typer.Argument(metavar="TRACE...", help="Trace file(s) (mcpload.trace/1 JSON lines), read as one")
    ],
    as_json: Annotated[Path | None, typer.Option("--json", metavar="PATH", help="Write the analysis as JSON")] = None,
    html: Annotated[Path | None, typer.Option("--html", metavar="PATH", help="Write the analysis page")] = None,
    idle_threshold: Annotated[
        str | None,
        typer.Option(help="Gaps longer than this split conversations, e.g. 5s (default: found from the gaps)"),
    ] = None,
) -> None:
    """What recorded traffic looks like: sessions, conversations, think/idle fits, burstiness, tool mix, personas."""
    import json

    from mcpload.atomic import write_text_atomic
    from mcpload.traffic.analysis import analyze as run_analysis
    from mcpload.traffic.page import write_page
    from mcpload.traffic.summary_text import text_summary

    threshold = _seconds(idle_threshold, "--idle-threshold")
    result = run_analysis(_read(trace_files), threshold, keep_gaps=html is not None)
    gaps = result.pop("gap_values", {"think": [], "idle": []})
    for line in text_summary(result):
        typer.echo(line)
    try:
        if as_json is not None:
            write_text_atomic(as_json, json.dumps(result, indent=1, default=str) + "\n")
            typer.echo(f"analysis: {as_json}", err=True)
        if html is not None:
            write_page(html, result, gaps["think"], gaps["idle"])
            typer.echo(f"page: {html}", err=True)
    except OSError as exc:
        raise _fail(f"{exc.filename or as_json or html}: cannot write ({exc.strerror or exc})") from None


def fit(
    trace_files: Annotated[
        list[Path], typer.Argument(metavar="TRACE...", help="Trace file(s) (mcpload.trace/1 JSON lines), read as one")
    ],
    out: Annotated[Path, typer.Option("--output", "-o", help="Scenario YAML to write")] = Path("fitted.yaml"),
    scale: Annotated[float, typer.Option(help="Multiply the population (agents, or the session arrival rate)")] = 1.0,
    duration: Annotated[str | None, typer.Option(help="Profile length, e.g. 10m (default: the trace's)")] = None,
    profile: Annotated[
        str, typer.Option(help="open (fitted arrivals), closed (measured concurrency), or auto")
    ] = "auto",
    idle_threshold: Annotated[
        str | None, typer.Option(help="Gaps longer than this split conversations (default: found from the gaps)")
    ] = None,
    persona: Annotated[
        str | None,
        typer.Option(
            help="Give each agent type a built-in persona's shape (closest, coding-agent, chat-assistant, "
            "autonomous-agent) with the trace's calls, instead of the fitted workflow"
        ),
    ] = None,
) -> None:
    """Write a scenario that behaves like the trace (personas, transitions, think/idle fits, arrivals, arguments)."""
    from mcpload.traffic.analysis import analyze as run_analysis
    from mcpload.traffic.fit import write_fit

    length = _seconds(duration, "--duration")
    result = run_analysis(_read(trace_files), _seconds(idle_threshold, "--idle-threshold"))
    try:
        scenario, data = write_fit(
            result, trace_files[0], out, scale=scale, duration=length, profile=profile, persona=persona
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or out}: cannot write ({exc.strerror or exc})") from None
    typer.echo(f"scenario: {scenario} (arguments: {data}); run it with: mcpload run {scenario} --url URL", err=True)


def replay(
    trace_files: Annotated[
        list[Path], typer.Argument(metavar="TRACE...", help="Trace file(s) (mcpload.trace/1 JSON lines), read as one")
    ],
    url: Annotated[str | None, typer.Option(help="Target URL")] = None,
    stdio_cmd: options.StdioCmd = None,
    speed: Annotated[float, typer.Option(help="Compress time: 2 replays twice as fast (gaps and offsets ÷ 2)")] = 1.0,
    scale: Annotated[int, typer.Option(help="Clone each recorded session N times")] = 1,
    jitter: Annotated[str, typer.Option(help="Clones of a session arrive spread over this long")] = "1s",
    args: Annotated[
        str,
        typer.Option(
            "--args", help="recorded (each call as recorded) or varied (drawn from the tool's recorded values)"
        ),
    ] = "recorded",
    protocol: options.Protocol = None,
    header: options.Headers = None,
    bearer_env: options.BearerEnv = None,
    seed: options.Seed = None,
    out: Annotated[Path, typer.Option(help="Results file (the replay scenario goes beside it)")] = Path(
        "mcpload-replay.json"
    ),
    quiet: options.Quiet = False,
    html: options.HtmlReport = None,
    workers: Annotated[str, typer.Option(help="Worker processes: auto or a number (as for run)")] = "auto",
    allow_host: cli_plan.AllowHost = None,
    dry_run: cli_plan.DryRun = False,
    insecure: options.Insecure = False,
    ca_file: options.CaFile = None,
    per_call: Annotated[
        bool,
        typer.Option(
            "--per-call",
            help="Also record the replay through the recording proxy and compare calls one by one "
            "(which succeeded when recorded and fail now, and the reverse)",
        ),
    ] = False,
) -> None:
    """Replay the recorded sessions with their recorded timing (faster with --speed, more with --scale)."""
    import json

    import orjson

    from mcpload.traffic.replay import divergence, divergence_lines, replay_scenario

    if (url is None) == (stdio_cmd is None):
        raise _fail("replay needs --url URL or --stdio-cmd CMD (not both)")
    trace = _read(trace_files)
    scenario_file = out.with_name(f"{out.stem}-scenario.yaml")
    data_file = out.with_name(f"{out.stem}-scenario-args.jsonl")
    if args not in ("recorded", "varied"):
        raise _fail(f"--args {args!r}: use recorded or varied")
    try:
        text, rows = replay_scenario(trace, speed=speed, scale=scale, jitter=_seconds(jitter, "--jitter") or 0.0,
                                     data_file=data_file.name if args == "varied" else None)  # fmt: skip
        if rows:
            data_file.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        scenario_file.write_text(text)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or scenario_file}: cannot write ({exc.strerror or exc})") from None
    typer.echo(f"replay scenario: {scenario_file}", err=True)
    from mcpload.cli.run import run_cmd  # the same path as `mcpload run`: outputs, thresholds, workers unchanged

    now_dir = out.with_name(f"{out.stem}-now")
    recorder = None
    if per_call and not dry_run:
        from mcpload.traffic.replay_proxy import RecorderStartError, through_recorder

        try:
            url, stdio_cmd, recorder = through_recorder(url, stdio_cmd, now_dir)
        except RecorderStartError as exc:
            raise _fail(str(exc)) from None
    code = 0
    try:
        run_cmd(scenario_file, url=url, stdio_cmd=stdio_cmd, protocol=protocol, header=header,
                bearer_env=bearer_env, seed=seed, out=out, quiet=quiet, html=html, workers=workers,
                transport=None, connections=None, tool=None, args="{}", think=None, agents=None, duration=None,
                prometheus=None, junit=None, csv=None, otlp=None, monitor_pid=None, monitor_name=None,
                server_cmd=None, scrape_metrics=None, scrape_series=None, extrapolate_agents=None,
                segment=None, start_at=None, ray=None, allow_host=allow_host, dry_run=dry_run,
                insecure=insecure, ca_file=ca_file)  # fmt: skip
    except typer.Exit as exc:
        code = exc.exit_code
    finally:
        if recorder is not None:
            from mcpload.traffic.replay_proxy import stop_recorder

            stop_recorder(recorder)
    if dry_run:
        raise typer.Exit(code)
    try:
        results = json.loads(out.read_text())
    except (OSError, ValueError):
        raise typer.Exit(code) from None
    for line in divergence_lines(divergence(trace, results, scale)):
        typer.echo(line)
    if per_call:
        from mcpload.traffic.replay import per_call_divergence, per_call_lines
        from mcpload.traffic.trace import TraceError, read_traces

        try:
            now = read_traces(sorted(now_dir.glob("*.jsonl")))
        except (TraceError, ValueError) as exc:
            typer.echo(f"mcpload: per-call comparison skipped: {exc}", err=True)
        else:
            for line in per_call_lines(per_call_divergence(trace, now)):
                typer.echo(line)
    raise typer.Exit(code)


import_app = typer.Typer(help="Import traces from other tools into the mcpload trace format.", no_args_is_help=True)


@import_app.command("otlp")
def import_otlp(
    spans: Annotated[Path, typer.Argument(metavar="SPANS", help="OTLP JSON file export (MCP semantic conventions)")],
    out: Annotated[Path, typer.Option("--output", "-o", help="Trace file to write")] = Path("trace.jsonl"),
    redact: Annotated[
        list[str] | None,
        typer.Option("--redact", metavar="REGEX", help="Hash argument values this regex matches (repeatable)"),
    ] = None,
    no_args: Annotated[bool, typer.Option("--no-args", help="Keep only each argument's type, no values")] = False,
) -> None:
    """Convert OpenTelemetry spans (mcp.method.name, gen_ai.tool.name, mcp.session.id) into a trace."""
    from mcpload.traffic.otlp_import import OtlpImportError
    from mcpload.traffic.otlp_import import import_otlp as convert
    from mcpload.traffic.redact import Redactor

    try:
        calls, skipped = convert(spans, out, Redactor(redact or (), keep_args=not no_args))
    except (OtlpImportError, ValueError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{out}: cannot write ({exc.strerror or exc})") from None
    typer.echo(f"trace: {out} ({calls} calls{f', {skipped} spans skipped' if skipped else ''})", err=True)


def register(app: typer.Typer) -> None:
    """Add the traffic commands to the CLI."""
    app.command("record", rich_help_panel=PANEL)(record)
    app.command("analyze", rich_help_panel=PANEL)(analyze)
    app.command("fit", rich_help_panel=PANEL)(fit)
    app.command("replay", rich_help_panel=PANEL)(replay)
    app.add_typer(import_app, name="import", rich_help_panel=PANEL)
