"""``run_load``: one load test from Python (a pytest test, a script) — a scenario file, a scenario
built as a dict, or an ad-hoc load (one tool, N agents, a duration) — returning typed ``Results``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpload.testing.results import Results


def build_scenario(
    scenario: Any = None,
    *,
    url: str | None = None,
    command: str | Sequence[str] | None = None,
    tool: str | None = None,
    args: Mapping[str, Any] | None = None,
    think: str | None = None,
    agents: int | None = None,
    duration: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[Any, Any]:
    """The ``(scenario, target)`` that ``run_load`` runs; raises ``ScenarioError``/``ValueError`` on bad input."""
    from mcpload.metrics import parse_thresholds
    from mcpload.profiles import parse_profiles
    from mcpload.scenario import Scenario, load_scenario
    from mcpload.scenario.target_spec import TargetOverrides

    if url is not None and command is not None:
        raise ValueError("run_load: give url= or command=, not both")
    if scenario is not None and tool is not None:
        raise ValueError("run_load: give a scenario or a tool (an ad-hoc load), not both")
    if (agents is None) != (duration is None) and scenario is not None:
        raise ValueError("run_load: agents and duration go together")
    if scenario is None:
        if tool is None:
            raise ValueError("run_load: give a scenario (file, dict or Scenario) or tool=NAME for an ad-hoc load")
        if url is None and command is None:
            raise ValueError("run_load: an ad-hoc load needs url= or command=")
        workflow: list[dict[str, Any]] = [{"call": tool, "args": dict(args or {})}]
        if think:
            workflow.append({"think": think})
        scenario = {
            "name": f"ad-hoc {tool}",
            "agents": {"agent": {"workflow": workflow}},
            "profiles": [{"type": "constant-agents", "agents": agents or 1, "duration": duration or "5s"}],
        }
        agents = duration = None
    if isinstance(scenario, str | Path):
        scenario = load_scenario(scenario)
    elif isinstance(scenario, Mapping):
        data = dict(scenario)
        if "target" not in data and (url or command):
            data["target"] = {"url": url} if url else {"command": _argv(command)}
        scenario = Scenario.from_dict(data, source="<run_load>")
    elif not isinstance(scenario, Scenario):
        raise TypeError(f"run_load: scenario must be a path, a mapping or a Scenario, not {type(scenario).__name__}")
    changes: dict[str, Any] = {}
    if agents is not None:
        profile = {"type": "constant-agents", "agents": agents, "duration": duration}
        changes["profiles"] = tuple(parse_profiles([profile], "run_load(agents=, duration=)"))
    if thresholds:
        changes["thresholds"] = (*scenario.thresholds, *parse_thresholds(thresholds, "run_load(thresholds=)"))
    if changes:
        scenario = dataclasses.replace(scenario, **changes)
    # the rules the command line follows for --url, --stdio-cmd and -H (TargetOverrides)
    argv = _argv(command) if command is not None else None
    overrides = TargetOverrides(url=url, stdio_cmd=argv, headers=headers or ())
    return scenario, scenario.to_target(overrides)


async def run_load_async(
    scenario: Any = None, *, out: str | Path | None = None, seed: int | None = None, **options: Any
) -> Results:
    """``run_load`` for code already in an event loop (an async test whose server runs in that loop)."""
    from mcpload.engine.execute import run_scenario

    built, target = build_scenario(scenario, **options)
    intervals = Path(out).with_suffix(".ndjson") if out is not None else None
    report = await run_scenario(built, target=target, seed=seed, out=out, intervals=intervals)
    return Results(report.results, out)


def run_load(
    scenario: Any = None, *, out: str | Path | None = None, seed: int | None = None, **options: Any
) -> Results:
    """Run one load and return its results.

    Args:
        scenario: a scenario file, a scenario as a dict (the YAML shape), or a ``Scenario``; None for an
            ad-hoc load (``tool=``).
        out: where to write the results JSON (the intervals go beside it as ``.ndjson``).
        seed: the seed of every random choice.
        **options: ``url``/``command`` (the target, overriding the scenario's by the rules of ``--url``/
            ``--stdio-cmd``: ``TargetOverrides``), ``tool``, ``args``,
            ``think`` (ad-hoc load), ``agents`` + ``duration`` (a constant-agents profile replacing the
            scenario's), ``thresholds`` (added to the scenario's), ``headers``.

    Returns:
        The typed results; assert on them (``results.assert_thresholds(...)``).

    Raises:
        mcpload.ScenarioError, ValueError: bad input. ``PreflightError``: the target is unreachable or lacks
        a tool the scenario calls.
    """
    coro = run_load_async(scenario, out=out, seed=seed, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from mcpload._loop import run

        return run(coro)
    # Called from inside an event loop (an async test): run the load on a loop of its own in a thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _argv(command: str | Sequence[str] | None) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command or [])
