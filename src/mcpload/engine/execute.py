"""One run end to end: preflight, the runner, the live view, the results file. Used by the CLI
(`mcpload run`, `mcpload demo`) and by Python users (`mcpload.run_scenario`)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mcpload import exit_codes
from mcpload.engine.load import LoadContext, LoadFactory, local_load
from mcpload.engine.preflight import Preflight, PreflightError, preflight
from mcpload.engine.runner import Annotator, Runner, RunOptions, RunReport
from mcpload.engine.timing import latest_end, planned_duration
from mcpload.engine.watchdog import Watchdog
from mcpload.metrics import Recorder
from mcpload.profiles import Profile, Segment
from mcpload.redaction import redact

if TYPE_CHECKING:
    from mcpload.engine.canary import Canary
    from mcpload.mcp.connect import Target
    from mcpload.outputs.base import Output
    from mcpload.scenario import Scenario


async def run_scenario(
    scenario: Scenario,
    *,
    target: Target | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    intervals: str | Path | None = None,
    on_interval: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
    outputs: list[Output] | None = None,
    handle_signals: bool = False,
    annotators: list[Annotator] | None = None,
    segment: Segment | str | None = None,
    load: LoadFactory | None = None,
    start_at: float | None = None,
) -> RunReport:
    """Run a loaded scenario. Raises ``PreflightError`` before any load when the target does not fit.

    Args:
        scenario: a ``Scenario`` (``load_scenario(path)`` or ``Scenario.from_dict``).
        target: a ``Target`` overriding the scenario's own.
        seed: overrides the scenario's seed (default 0): every random choice derives from it.
        out: where to write the results JSON.
        intervals: where to append the per-second NDJSON intervals while the run goes on.
        on_interval: called with (interval, snapshot) once a second (the live view).
        outputs: ``mcpload.outputs.base.Output`` instances (Prometheus, OTLP, …) fed during the run.
        handle_signals: SIGINT/SIGTERM stop the run gracefully (a second one at once).
        annotators: add fields to each interval before it is written and to the results before any
            output sees them (``mcpload.monitor.Monitor.annotator()``: the target's resources).
        segment: run only this execution segment (``"2/4"``, ``Segment``) of the run; its results keep
            each interval's exact state so that ``mcpload merge`` can add the segments up.
        load: builds the load once preflight is done (default ``local_load``: the agents run in this
            process). ``mcpload.distributed.split_load`` makes worker-process and Ray loads; the engine
            knows only the ``Load`` contract.
        start_at: a wall-clock time (``time.time()``) to start the load at, after preflight: pods of
            one split run given the same value start together.
    """
    target = target or scenario.to_target()
    secrets = scenario.secrets
    tools: dict[str, str] = {}
    for path, tool in scenario.tool_names_with_paths():
        tools.setdefault(tool, path)
    try:
        steps = scenario.request_steps()
        info = await preflight(target, tools, scenario.literal_calls(), str(scenario.source), steps)
    except PreflightError as exc:
        raise PreflightError(redact(str(exc), secrets), exc.code) from None
    for warning in info.warnings:
        print(f"mcpload: warning: {redact(warning, secrets)}", file=sys.stderr)
    if info.era == "modern":
        _refuse_ping(scenario, info.protocol_version)
    canary = _canary(scenario, target, info)
    recorder = Recorder()
    run_seed = seed if seed is not None else (scenario.seed if scenario.seed is not None else 0)
    if isinstance(segment, str):
        segment = Segment.parse(segment)
    segment = segment or Segment.full()
    context = LoadContext(scenario, target, info, run_seed, segment, secrets, recorder)
    run_load = await (load or local_load)(context)
    meta = {
        "scenario": scenario.name,
        "seed": run_seed,
        "target": {
            "url": redact(target.url, secrets) if target.url else None,
            "command": redact(" ".join(target.command), secrets) if target.command else None,
            "transport": info.transport,
            "era": info.era,
            "protocol_version": info.protocol_version,
            "server_info": info.server_info,
        },
        "profiles": [describe_profile(p) for p in scenario.profiles],
        "planned_duration_s": planned_duration(scenario),
        "segment": str(segment),
    }
    watchdog = Watchdog(
        halt=run_load.halt,
        note=f" (the intervals so far are in {intervals}: `mcpload report` rebuilds a summary)" if intervals else "",
    )
    runner = Runner(
        scenario,
        run_load,
        recorder,
        RunOptions(
            run_seed,
            str(intervals) if intervals else None,
            on_interval,
            meta,
            secrets,
            outputs=list(outputs or []),
            annotators=list(annotators or []) + ([canary] if canary else []),
            keep_states=not segment.is_full,
            watchdog=watchdog,
            end_s=latest_end(scenario),
        ),
    )
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    watchdog.start(asyncio.get_running_loop())
    if handle_signals:
        watchdog.handle_signals(runner.interrupt, (signal.SIGINT, signal.SIGTERM))
    try:
        if canary is not None:
            canary.start()
        report = await runner.run()
    finally:
        if canary is not None:
            await canary.stop()
        watchdog.close()
    if out is not None:
        write_results(report.results, out, secrets)
    return report


def write_results(results: dict[str, Any], path: str | Path, secrets: frozenset[str] | set[str] = frozenset()) -> None:
    """Write the results JSON atomically (temp file + rename): a half-written file would mislead."""
    from mcpload.atomic import write_text_atomic

    data = orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    write_text_atomic(path, redact(data, secrets) + "\n")


def describe_profile(profile: Profile) -> dict[str, Any]:
    d: dict[str, Any] = {"type": profile.type, "kind": profile.kind, "start_s": profile.start}
    d["duration_s"] = profile.duration
    stages = getattr(profile, "stages", None)
    if stages:
        d["stages"] = [{"duration_s": s.duration, "target": s.target} for s in stages]
    return d


def _refuse_ping(scenario: Scenario, version: str) -> None:
    """``ping`` left the protocol in 2026-07-28: every such step would fail, so say it before the load."""
    from mcpload.scenario import Ping, walk

    for spec in scenario.agents.values():
        for step in walk(spec.workflow):
            if isinstance(step, Ping):
                raise PreflightError(
                    f"{scenario.source}: {step.path}: ping is not part of protocol {version}, which the server "
                    "speaks (remove the step, or set target.protocol to 2025-11-25)",
                    exit_codes.USAGE,
                )


def _canary(scenario: Scenario, target: Target, info: Preflight) -> Canary | None:
    """The canary of ``options.canary`` (``engine.canary``), or None. HTTP targets only: over stdio it
    would start a second server process."""
    spec = getattr(scenario.options, "canary", None)
    if spec is None:
        return None
    if target.url is None:
        raise PreflightError(
            f"{scenario.source}: options.canary: needs an HTTP target (a stdio one would be a second server)",
            exit_codes.USAGE,
        )
    if spec.call == "ping" and info.era == "modern":
        raise PreflightError(
            f"{scenario.source}: options.canary: ping is not part of protocol {info.protocol_version}, which the "
            "server speaks (name a cheap, read-only tool instead)",
            exit_codes.USAGE,
        )
    from mcpload.engine.canary import Canary

    return Canary(spec, target)
