"""One run end to end: preflight, the runner, the live view, the results file. Used by the CLI
(`mcpload run`, `mcpload demo`) and by Python users (`mcpload.run_scenario`)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from mcpload import exit_codes
from mcpload.distributed.remote import RemoteLoad
from mcpload.distributed.worker import SegmentWorker
from mcpload.engine.agent import World
from mcpload.engine.load import LocalLoad
from mcpload.engine.output_check import output_check
from mcpload.engine.preflight import PreflightError, preflight
from mcpload.engine.recording import OutcomeSink
from mcpload.engine.runner import Runner, RunOptions, RunReport
from mcpload.engine.timing import latest_end, planned_duration
from mcpload.engine.watchdog import Watchdog
from mcpload.metrics import Recorder
from mcpload.profiles import Segment


def redact(text: str, secrets: frozenset[str] | set[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


async def run_scenario(
    scenario: Any,
    *,
    target: Any = None,
    seed: int | None = None,
    out: str | Path | None = None,
    intervals: str | Path | None = None,
    on_interval=None,
    outputs: list[Any] | None = None,
    handle_signals: bool = False,
    annotators: list[Any] | None = None,
    segment: Segment | str | None = None,
    workers: int = 1,
    ray: str | bool | None = None,
    recipe: Any = None,
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
        workers: split this process's segment over so many forked worker processes (the coordinator
            merges their data every second; 1 runs the agents in this process).
        ray: run the segments as Ray actors: True or ``"auto"`` joins or starts a local cluster, else a
            cluster address. Needs ``recipe`` and the ``mcpload[ray]`` extra.
        recipe: for Ray, a picklable callable returning ``(scenario, target)`` in the actor (the loaded
            scenario holds compiled templates and cannot travel).
        start_at: a wall-clock time (``time.time()``) to start the load at, after preflight: pods of
            one split run given the same value start together.
    """
    target = target or scenario.to_target()
    secrets = getattr(scenario, "secrets", frozenset())
    tools: dict[str, str] = {}
    for path, tool in scenario.tool_names_with_paths():
        tools.setdefault(tool, path)
    try:
        steps = scenario.request_steps() if hasattr(scenario, "request_steps") else []
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
    load = await _make_load(scenario, target, info, run_seed, segment, workers, ray, recipe, secrets, recorder)
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
    world = getattr(load, "world", None)
    watchdog = Watchdog(
        halt=(lambda: setattr(world, "halted", True)) if world is not None else None,
        note=f" (the intervals so far are in {intervals}: `mcpload report` rebuilds a summary)" if intervals else "",
    )
    runner = Runner(
        scenario,
        load,
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


async def _make_load(scenario, target, info, seed, segment, workers, ray, recipe, secrets, recorder) -> Any:
    """The load for this process: agents here (``LocalLoad``), or workers (``RemoteLoad``)."""
    if ray:
        from mcpload.distributed.ray_backend import start_ray_workers

        handles = await start_ray_workers(
            None if ray in (True, "auto") else str(ray), recipe, info, seed, segment, workers, secrets
        )
        return RemoteLoad(handles, "ray")
    if workers > 1:
        from mcpload.distributed.processes import start_process_workers

        def build(part: Segment) -> SegmentWorker:
            worker = SegmentWorker(scenario, target, info.transport, info.protocol, seed, part, secrets)
            worker.load.world.task_tools = task_tools(info.tools)
            worker.load.world.output_check = output_check(info.tools, scenario.options.validate_output)
            return worker

        return RemoteLoad(await start_process_workers(segment.split(workers), build), "processes")
    # A segment records into its own recorder, drained at each cut: the interval keeps the drained state.
    staging = recorder if segment.is_full else Recorder()
    world = World(scenario, target, info.transport, info.protocol, staging, OutcomeSink(staging, secrets))
    world.task_tools = task_tools(info.tools)
    world.output_check = output_check(info.tools, scenario.options.validate_output)
    return LocalLoad(scenario, world, seed, segment)


def task_tools(tools: dict[str, dict[str, Any]]) -> frozenset[str]:
    """The tools a call step calls as tasks by default: ``execution.taskSupport`` required or optional."""
    out = set()
    for name, tool in tools.items():
        execution = tool.get("execution")
        if isinstance(execution, dict) and execution.get("taskSupport") in ("required", "optional"):
            out.add(name)
    return frozenset(out)


def write_results(results: dict[str, Any], path: str | Path, secrets: frozenset[str] | set[str] = frozenset()) -> None:
    """Write the results JSON atomically (temp file + rename): a half-written file would mislead."""
    from mcpload.outputs.atomic import write_text_atomic

    data = orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    write_text_atomic(path, redact(data, secrets) + "\n")


def describe_profile(profile: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": profile.type, "kind": profile.kind, "start_s": profile.start}
    d["duration_s"] = profile.duration
    stages = getattr(profile, "stages", None)
    if stages:
        d["stages"] = [{"duration_s": s.duration, "target": s.target} for s in stages]
    return d


def _refuse_ping(scenario: Any, version: str) -> None:
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


def _canary(scenario: Any, target: Any, info: Any) -> Any:
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
