"""A run's scenario and target from command-line options: a scenario file (its profiles replaced by
``--agents``/``--duration`` when given) or an ad-hoc scenario (``--tool`` with ``--url`` or
``--stdio-cmd``), and its target with the command line's overrides (``TargetOverrides``).

``RunRecipe`` holds those options; calling it rebuilds ``(scenario, target)``, which is what a Ray actor
does (a loaded scenario cannot travel, its options can). Nothing here reads argv or prints.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.model import Scenario
from mcpload.scenario.target_spec import TargetOverrides

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target


@dataclass(frozen=True, slots=True)
class RunRecipe:
    """The options that make a run's scenario and target (``mcpload run``, ``mcpload capacity``).

    Attributes:
        scenario_file: The scenario YAML, or None for an ad-hoc run (``tool`` then names the tool).
        tool: Ad-hoc run: the tool every agent calls.
        args: Ad-hoc run: its arguments as JSON (templates allowed).
        think: Ad-hoc run: think time between calls, e.g. ``1s..3s``.
        agents: Constant agents (replaces the scenario's profiles; its duration is kept).
        duration: Duration (replaces the scenario's profiles; its agents are kept).
        allow_python: Let the scenario's ``python:`` agents import code outside its folder.
        target: The command line's changes to the target (its ``url``/``stdio_cmd`` also place an
            ad-hoc run's server).
        trace_context: Share of requests given a W3C traceparent (checked by the caller), or None.
    """

    scenario_file: Path | None = None
    tool: str | None = None
    args: str = "{}"
    think: str | None = None
    agents: int | None = None
    duration: str | None = None
    allow_python: bool = False
    target: TargetOverrides = field(default_factory=TargetOverrides)
    trace_context: float | None = None

    def scenario(self, on_python: Callable[[str], None] | None = None) -> Scenario:
        """The scenario to run. ``on_python`` hears a line before a scenario's ``python:`` agents are imported.

        Raises:
            ValueError: bad options (``ScenarioError`` for a bad scenario file), in one line.
        """
        return scenario_for_run(
            self.scenario_file, self.target.url, self.target.stdio_cmd, self.tool, self.args, self.think,
            self.agents, self.duration, allow_python=self.allow_python, on_python=on_python,
        )  # fmt: skip

    def target_of(self, scenario: Scenario) -> Target:
        """The scenario's target with the command line's overrides (``trace_context`` not applied).

        Raises:
            ValueError: see ``target_for_run``.
        """
        return target_for_run(scenario, self.target)

    def resolved(self) -> RunRecipe:
        """The same recipe with an absolute scenario path (a Ray actor may run in another folder)."""
        if self.scenario_file is None:
            return self
        return dataclasses.replace(self, scenario_file=Path(self.scenario_file).resolve())

    def __call__(self) -> tuple[Scenario, Target]:
        """What a Ray actor runs to rebuild the scenario and target from the command line's options."""
        scenario = self.scenario()
        target = self.target_of(scenario)
        if self.trace_context:
            target = dataclasses.replace(target, trace_context=self.trace_context)
        return scenario, target


def target_for_run(scenario: Scenario, overrides: TargetOverrides) -> Target:
    """The scenario's target with the command line's ``overrides`` (a scenario without ``target:``
    takes the server from ``--url``/``--stdio-cmd``).

    Raises:
        ValueError: options that exclude each other, a bad header; ``ScenarioError`` when there is no target.
    """
    try:
        return overrides.resolve(scenario.target, scenario.answers)
    except ScenarioError as exc:  # the scenario's own target: say which file
        raise exc.with_source(scenario.source) from None


def scenario_for_run(
    scenario_file: Path | None,
    url: str | None,
    stdio_cmd: str | Sequence[str] | None,
    tool: str | None,
    args: str,
    think: str | None,
    agents: int | None,
    duration: str | None,
    *,
    allow_python: bool = False,
    on_python: Callable[[str], None] | None = None,
) -> Scenario:
    """The scenario file (its profiles replaced by ``--agents``/``--duration``), or the ad-hoc scenario
    of ``--tool`` against ``--url``/``--stdio-cmd``.

    Raises:
        ValueError: bad options (``ScenarioError`` for a bad scenario file), in one line.
    """
    from mcpload.inputs import InputError, loads_json
    from mcpload.scenario.loader import load_scenario

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
        scenario = load_scenario(scenario_file, allow_python=allow_python, on_python=on_python)
        if agents is not None or duration is not None:
            # either flag alone keeps the scenario's own value of the other
            profile = {
                "type": "constant-agents",
                "agents": agents if agents is not None else _scenario_agents(scenario),
                "duration": duration if duration is not None else _scenario_duration(scenario),
            }
        if profile is not None:
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
    workflow: list[dict[str, Any]] = [{"call": tool, "args": arguments}]
    if think:
        workflow.append({"think": think})
    command = stdio_cmd if isinstance(stdio_cmd, str) else list(stdio_cmd or ())
    data = {
        "name": f"ad-hoc {tool}",
        "target": {"url": url} if url else {"command": command},
        "agents": {"agent": {"workflow": workflow}},
        "profiles": [profile or {"type": "constant-agents", "agents": 1, "duration": "10s"}],
    }
    return Scenario.from_dict(data, source="<command line>")


def _scenario_duration(scenario: Scenario) -> float:
    # as engine.timing.planned_duration: from the start to the end of the last profile
    seconds = max((p.start + p.duration for p in scenario.profiles), default=0.0)
    if not seconds:
        raise ValueError(f"{scenario.source}: its profiles set no duration: give --duration with --agents")
    return seconds


def _scenario_agents(scenario: Scenario) -> int:
    counts = [n for p in scenario.profiles if isinstance(n := getattr(p, "agents", None), int)]
    if not counts:
        raise ValueError(f"{scenario.source}: its profiles set no agent count: give --agents with --duration")
    return max(counts)
