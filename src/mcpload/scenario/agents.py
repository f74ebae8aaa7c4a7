"""The ``agents:`` section: the agent types of the population, each a workflow or a Python class."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpload.scenario.checks import (
    check_keys,
    expect_duration,
    expect_int,
    expect_mapping,
    expect_number,
    expect_str,
    join,
)
from mcpload.scenario.distributions import Constant, Distribution, parse_distribution
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.personas import expand_persona
from mcpload.scenario.scripted import ScriptedAgent, split_spec
from mcpload.scenario.steps import Step
from mcpload.scenario.workflow import parse_workflow

KEYS = (
    "weight",
    "workflow",
    "python",
    "conversations_per_session",
    "session_lifetime",
    "idle",
    "tokens_per_step",
    "persona",
    "calls",
    "on_end",
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")  # names become metric labels: keep them plain
_NO_IDLE = Constant(0.0)


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One agent type.

    Attributes:
        name: The type's name (a key of ``agents:``; shown in metrics as the agent type).
        weight: Its share of the population, relative to the other types' weights.
        workflow: The steps of one conversation; empty for a Python agent.
        python: The ``file.py:Class`` or ``module:Class`` as written, for a Python agent; else None.
        agent_class: The loaded class for a Python agent; else None.
        conversations_per_session: Close the session after this many conversations (a new agent
            takes the place); None: no limit.
        session_lifetime: Close the session after this many seconds (checked between
            conversations); None: no limit.
        idle: The gap between two conversations.
        tokens_per_step: Prompt and reasoning tokens the emulated model spends before each request.
        abandon_share: The share of sessions ended without DELETE (``on_end``), as clients that go
            away do; the server keeps them until they expire. 0: every session is deleted.
    """

    name: str
    weight: float = 1.0
    workflow: tuple[Step, ...] = ()
    python: str | None = None
    agent_class: type[ScriptedAgent] | None = None
    conversations_per_session: int | None = None
    session_lifetime: float | None = None
    idle: Distribution = _NO_IDLE
    tokens_per_step: int = 0
    abandon_share: float = 0.0

    @property
    def scripted(self) -> bool:
        """True for a Python agent."""
        return self.agent_class is not None


def parse_agents(value: Any, path: str, base_dir: Path, data_names: Collection[str]) -> dict[str, AgentSpec]:
    """The ``agents:`` mapping (at least one agent type).

    Raises:
        ScenarioError: with the path of the offending value.
    """
    agents = expect_mapping(value, path, "a mapping of agent name: agent")
    if not agents:
        raise ScenarioError("define at least one agent", path)
    return {name: parse_agent(name, spec, join(path, name), base_dir, data_names) for name, spec in agents.items()}


def parse_agent(name: str, value: Any, path: str, base_dir: Path, data_names: Collection[str]) -> AgentSpec:
    """One agent type; a ``python:`` class is not imported here (see ``Scenario.from_dict``): only the
    agent types a profile runs are, once the whole scenario is valid."""
    if not _NAME.match(name):
        raise ScenarioError(f"agent names may hold letters, digits, '_', '-' and '.', got {name!r}", path)
    spec = expect_mapping(value, path)
    check_keys(spec, KEYS, path)
    if sum(key in spec for key in ("workflow", "python", "persona")) > 1:
        raise ScenarioError("give an agent one of a workflow, a python class or a persona", path)
    if "calls" in spec and "persona" not in spec:
        raise ScenarioError("calls: goes with persona: (a workflow lists its own calls)", join(path, "calls"))
    workflow: tuple[Step, ...] = ()
    python = agent_class = None
    if "persona" in spec:
        steps, persona = expand_persona(spec["persona"], spec.get("calls"), join(path, "persona"), join(path, "calls"))
        workflow = parse_workflow(steps, join(path, "persona"), data_names)
        spec = {"conversations_per_session": persona.conversations_per_session, **spec}
        if persona.idle is not None:
            spec = {"idle": persona.idle, **spec}
    elif "workflow" in spec:
        workflow = parse_workflow(spec["workflow"], join(path, "workflow"), data_names)
    elif "python" in spec:
        python = expect_str(spec["python"], join(path, "python"))
        split_spec(python, join(path, "python"))
    else:
        raise ScenarioError("missing a workflow (a list of steps), python (file.py:ClassName) or persona", path)
    conversations = spec.get("conversations_per_session")
    if conversations is not None:
        conversations = expect_int(conversations, join(path, "conversations_per_session"), minimum=1)
    lifetime = spec.get("session_lifetime")
    if lifetime is not None:
        lifetime = expect_duration(lifetime, join(path, "session_lifetime"), positive=True)
    tokens = expect_int(spec.get("tokens_per_step", 0), join(path, "tokens_per_step"), minimum=0)
    return AgentSpec(
        name=name,
        weight=expect_number(spec.get("weight", 1), join(path, "weight"), positive=True),
        workflow=workflow,
        python=python,
        agent_class=agent_class,
        conversations_per_session=conversations,
        session_lifetime=lifetime,
        idle=parse_distribution(spec["idle"], join(path, "idle")) if "idle" in spec else _NO_IDLE,
        tokens_per_step=tokens,
        abandon_share=_abandon_share(spec.get("on_end", "delete"), join(path, "on_end")),
    )


def _abandon_share(value: Any, path: str) -> float:
    """``delete`` (0), ``abandon`` (1) or ``{abandon: 30%}`` / ``{abandon: 0.3}``: the share abandoned."""
    if value == "delete":
        return 0.0
    if value == "abandon":
        return 1.0
    if isinstance(value, Mapping) and set(value) == {"abandon"}:
        share = value["abandon"]
        if isinstance(share, str) and share.strip().endswith("%"):
            try:
                share = float(share.strip()[:-1]) / 100
            except ValueError:
                raise ScenarioError(f"expected a share like 30% or 0.3, got {value['abandon']!r}", path) from None
        share = expect_number(share, join(path, "abandon"), minimum=0)
        if share > 1:
            raise ScenarioError(f"a share is at most 1 (100%), got {value['abandon']!r}", join(path, "abandon"))
        return share
    raise ScenarioError(f"expected delete, abandon or {{abandon: SHARE}} (e.g. {{abandon: 30%}}), got {value!r}", path)
