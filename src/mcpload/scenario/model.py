"""The scenario: target, agent types, load profiles, thresholds, data — one model for YAML and Python.

``Scenario.from_dict`` is the one way in: the YAML loader calls it with the parsed file, and users
may call it with a dict built in Python. Either way every problem raises ``ScenarioError`` with
its path.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpload.inputs import MAX_INT, depth_error
from mcpload.redaction import target_secrets
from mcpload.scenario.agents import AgentSpec, parse_agents
from mcpload.scenario.answers import parse_answers
from mcpload.scenario.canary import CanarySpec, parse_canary
from mcpload.scenario.checks import (
    check_keys,
    expect_duration,
    expect_int,
    expect_list,
    expect_mapping,
    expect_number,
    expect_str,
    join,
    type_name,
)
from mcpload.scenario.data import DataSource, parse_data
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.interpolation import interpolate
from mcpload.scenario.scripted import check_python_place, load_agent_class, split_spec
from mcpload.scenario.steps import Call, Request, walk
from mcpload.scenario.target_spec import TargetOverrides, TargetSpec, parse_target
from mcpload.suggest import did_you_mean

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target
    from mcpload.metrics import Threshold
    from mcpload.profiles import Profile

__all__ = ["AgentSpec", "Options", "Scenario", "TargetSpec"]

KEYS = (
    "name",
    "description",
    "seed",
    "target",
    "allow_hosts",
    "data",
    "tokens",
    "agents",
    "profiles",
    "thresholds",
    "options",
    "answers",
)
DEFAULT_GRACE_PERIOD = 30.0  # seconds, as k6's gracefulStop


@dataclass(frozen=True, slots=True)
class Options:
    """Run options of the scenario.

    Attributes:
        grace_period: Seconds in-flight conversations may take to finish once the run stops.
        canary: A cheap call made at a fixed rate beside the load (``scenario.canary``), or None.
        validate_output: Share of the calls (0 to 1) whose ``structuredContent`` is checked against the
            tool's ``outputSchema`` (``mcpload.engine.output_check``); 0: none.
    """

    grace_period: float = DEFAULT_GRACE_PERIOD
    canary: CanarySpec | None = None
    validate_output: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario.

    Attributes:
        name: The scenario's name (default: the file name without extension).
        source: The scenario file as given, or ``<python>``.
        base_dir: The folder relative paths (data files, python agents) were resolved against.
        target: The target, or None when the scenario leaves it to the command line.
        agents: The agent types by name, in file order.
        profiles: The load profiles (``mcpload.profiles`` objects).
        thresholds: The pass/fail thresholds (``mcpload.metrics`` objects).
        data: The data sources by name.
        seed: The seed for every random choice (None: random; ``--seed`` overrides).
        description: Free text.
        price_per_1k: Price of 1,000 tokens, for the cost estimate (None: no estimate).
        options: Run options.
        secrets: Every non-empty value that ``${VAR}`` took from the environment: outputs redact them.
        answers: Canned results for server requests, by method (``mcpload.scenario.answers``).
        allow_hosts: Hosts a run may target besides loopback (``mcpload.host_guard``); () allows any.
    """

    name: str
    source: str
    base_dir: Path
    target: TargetSpec | None
    agents: Mapping[str, AgentSpec]
    profiles: tuple[Profile, ...]
    thresholds: tuple[Threshold, ...] = ()
    data: Mapping[str, DataSource] = field(default_factory=dict)
    seed: int | None = None
    description: str = ""
    price_per_1k: float | None = None
    options: Options = Options()
    secrets: frozenset[str] = frozenset()
    allow_hosts: tuple[str, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(
        cls,
        data: Any,
        source: str = "<python>",
        *,
        base_dir: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        allow_python: bool = True,
        on_python: Callable[[str], None] | None = None,
        import_python: bool = True,
    ) -> Scenario:
        """Validate a scenario given as plain data (the shape of the YAML file).

        ``python:`` agents run code when imported. Only the agent types that some profile runs are
        imported, after everything else is valid, and ``on_python`` hears of it first.

        Args:
            data: The scenario mapping.
            source: Where it came from, for messages (a file name, or ``<python>``).
            base_dir: Where relative paths start (default: the folder of ``source`` when it is a
                file, else the current directory).
            env: The variables for ``${VAR}`` (default: ``os.environ``).
            allow_python: False refuses ``python:`` files outside ``base_dir`` and module imports
                (``load_scenario`` defaults to False: a scenario file may come from anyone; a Python
                caller already runs code, so here it defaults to True).
            on_python: Called with one line (which files will run) before any agent code runs.
            import_python: False leaves ``python:`` agents unimported (``agent_class`` None): for
                commands that only read the scenario's thresholds.

        Raises:
            ScenarioError: the first problem found; ``str()`` is ``source: path: message``.
        """
        if base_dir is None:
            base_dir = Path(source).parent if Path(source).is_file() else Path.cwd()
        try:
            scenario = _build(data, source, Path(base_dir), os.environ if env is None else env)
            if import_python:
                scenario = _import_python(scenario, allow_python, on_python)
            return scenario
        except ScenarioError as exc:
            raise exc.with_source(source) from None

    def tool_names(self) -> set[str]:
        """Every tool a workflow calls (preflight checks that the server lists them)."""
        return {step.tool for step in self._steps() if isinstance(step, Call)}

    def tool_names_with_paths(self) -> list[tuple[str, str]]:
        """``(path, tool)`` for every call step, in file order (for messages naming the step)."""
        return [(step.path, step.tool) for step in self._steps() if isinstance(step, Call)]

    def literal_calls(self) -> list[tuple[str, str, Any]]:
        """``(path, tool, args)`` for every call whose arguments hold no template.

        Preflight validates these against each tool's ``inputSchema`` before the run starts.
        """
        return [
            (step.path, step.tool, step.args.literal)
            for step in self._steps()
            if isinstance(step, Call) and step.args.is_literal
        ]

    def request_steps(self) -> list[Request]:
        """Every request step of every workflow, in file order (preflight checks the server offers them)."""
        return [step for step in self._steps() if isinstance(step, Request)]

    def to_target(self, overrides: TargetOverrides | Mapping[str, Any] | None = None) -> Target:
        """The ``mcpload.mcp.connect.Target``, with ``overrides`` applied by the rules the command line also
        follows (``TargetOverrides``); works without ``target:`` when they give a ``url`` or ``command``.

        Raises:
            ScenarioError: no target anywhere, an unknown override, or an invalid combination.
        """
        try:
            return (self.target or TargetSpec()).to_target(overrides, server_answers=self.answers)
        except ScenarioError as exc:
            raise exc.with_source(self.source) from None

    def _steps(self) -> list[Any]:
        return [step for agent in self.agents.values() for step in walk(agent.workflow)]


def _build(data: Any, source: str, base_dir: Path, env: Mapping[str, str]) -> Scenario:
    if data is None or data == {}:
        raise ScenarioError("the scenario is empty (expected a mapping with target, agents and profiles)")
    if not isinstance(data, Mapping):
        raise ScenarioError(f"expected a mapping at the top level, got {type_name(data)}")
    deep = depth_error(data)  # iterative: a dict built in Python may nest 50,000 deep
    if deep:
        raise ScenarioError(deep)
    data, secrets = interpolate(expect_mapping(data, ""), env)
    check_keys(data, KEYS, "")
    for key in ("agents", "profiles"):
        if key not in data:
            raise ScenarioError(f"missing required key '{key}'")

    default_name = Path(source).stem if not source.startswith("<") else "scenario"
    name = expect_str(data.get("name", default_name), "name")
    seed = data.get("seed")
    if seed is not None:
        seed = expect_int(seed, "seed", maximum=MAX_INT)

    target = parse_target(data["target"], "target") if data.get("target") is not None else None
    if target is not None and target.oauth is not None and env.get(target.oauth.client_secret_env):
        secrets = secrets | {env[target.oauth.client_secret_env]}  # redacted from every output, as ${VAR}s
    sources = parse_data(data["data"], "data", base_dir) if data.get("data") is not None else {}
    agents = parse_agents(data["agents"], "agents", base_dir, tuple(sources))
    return Scenario(
        name=name,
        source=source,
        base_dir=base_dir,
        target=target,
        agents=agents,
        profiles=_profiles(data["profiles"], agents),
        thresholds=_thresholds(data.get("thresholds")),
        data=sources,
        seed=seed,
        description=expect_str(data.get("description", ""), "description", non_empty=False),
        price_per_1k=_price(data.get("tokens")),
        options=_options(data.get("options")),
        # values written in the file are secrets too: URL credentials and query keys, header values
        secrets=secrets | (target_secrets(target) if target is not None else frozenset()),
        allow_hosts=_allow_hosts(data.get("allow_hosts")),
        answers=parse_answers(data.get("answers")),
    )


def _allow_hosts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = expect_list(value, "allow_hosts", non_empty=True)
    return tuple(expect_str(host, join("allow_hosts", i)) for i, host in enumerate(items))


def _import_python(scenario: Scenario, allow: bool, on_python: Callable[[str], None] | None) -> Scenario:
    """Import the ``python:`` agent classes that a profile runs; the others are never imported."""
    runs: set[str] = set()
    for profile in scenario.profiles:
        names = getattr(profile, "agent_types", None)
        runs.update(names if names else scenario.agents)
    wanted = [(s, s.python) for s in scenario.agents.values() if s.python is not None and s.name in runs]
    if not wanted:
        return scenario
    places = []
    for spec, python in wanted:
        at = join(join("agents", spec.name), "python")
        places.append(split_spec(python, at)[0] if allow else check_python_place(python, scenario.base_dir, at))
    if on_python is not None:
        files = ", ".join(dict.fromkeys(places))
        on_python(f"{scenario.source}: runs Python code: {files} (python: agents, imported now)")
    agents = dict(scenario.agents)
    for spec, python in wanted:
        at = join(join("agents", spec.name), "python")
        cls = load_agent_class(python, scenario.base_dir, at)
        agents[spec.name] = dataclasses.replace(spec, agent_class=cls)
    return dataclasses.replace(scenario, agents=agents)


def _price(value: Any) -> float | None:
    if value is None:
        return None
    check_keys(expect_mapping(value, "tokens"), ("price_per_1k",), "tokens")
    price = value.get("price_per_1k")
    return None if price is None else expect_number(price, "tokens.price_per_1k", minimum=0)


def _options(value: Any) -> Options:
    if value is None:
        return Options()
    check_keys(expect_mapping(value, "options"), ("grace_period", "canary", "validate_output"), "options")
    grace = value.get("grace_period", DEFAULT_GRACE_PERIOD)
    share = value.get("validate_output", 0.0)
    if isinstance(share, bool):
        share = 1.0 if share else 0.0
    share = expect_number(share, "options.validate_output", minimum=0)
    if share > 1:
        raise ScenarioError(f"a share is at most 1 (or true), got {share}", "options.validate_output")
    return Options(
        grace_period=expect_duration(grace, "options.grace_period"),
        canary=parse_canary(value.get("canary")),
        validate_output=share,
    )


def _profiles(value: Any, agents: Mapping[str, AgentSpec]) -> tuple[Profile, ...]:
    # Imported here: the profiles package validates its own section; importing it lazily keeps the
    # two packages free to grow without an import cycle.
    from mcpload.profiles import parse_profiles

    if value is None or value == [] or value == {}:
        raise ScenarioError("define at least one load profile", "profiles")
    try:
        profiles = parse_profiles(value, "profiles")
    except ValueError as exc:
        raise _foreign(exc, "profiles") from None
    for i, profile in enumerate(profiles):
        at = "profiles" if isinstance(value, Mapping) else join("profiles", i)
        for j, name in enumerate(getattr(profile, "agent_types", None) or ()):
            if name not in agents:
                hint = did_you_mean(name, agents) or f" (agents are {', '.join(agents)})"
                raise ScenarioError(f"unknown agent '{name}'{hint}", join(join(at, "agent_types"), j))
    return tuple(profiles)


def _thresholds(value: Any) -> tuple[Threshold, ...]:
    if value is None or value == {}:
        return ()
    from mcpload.metrics import parse_thresholds  # see _profiles for why it is imported here

    try:
        parsed = tuple(parse_thresholds(expect_mapping(value, "thresholds"), "thresholds"))
    except ScenarioError:
        raise
    except ValueError as exc:
        raise _foreign(exc, "thresholds") from None
    _check_finding_ids(parsed)
    return parsed


def _check_finding_ids(thresholds: tuple[Threshold, ...]) -> None:
    """``findings{id:…}`` must name a finding that exists: a typo would pass silently forever."""
    from mcpload.findings import KNOWN_IDS

    for t in thresholds:
        wanted = t.tag("id") if t.name == "findings" else None
        if wanted is not None and wanted not in KNOWN_IDS:
            hint = did_you_mean(wanted, KNOWN_IDS) or f" (findings: {', '.join(KNOWN_IDS)})"
            raise ScenarioError(f"unknown finding id '{wanted}'{hint}", f"thresholds.{t.metric}")


def _foreign(exc: ValueError, section: str) -> ScenarioError:
    """One ``ScenarioError`` line from a ProfileError or ThresholdError, which list every problem.

    Their ``problems`` are ``(path, message)`` pairs (profiles) or ``"path: message"`` strings
    (thresholds); the first one is reported and the others counted.
    """
    problems = list(getattr(exc, "problems", None) or [str(exc)])
    first = problems[0]
    if isinstance(first, tuple):
        path, message = first
    else:
        path, sep, message = str(first).partition(": ")
        if not sep or not path.startswith(section) or path[len(section) : len(section) + 1] not in ("", ".", "["):
            path, message = section, str(first)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ScenarioError(f"{message}{more}", path or section)
