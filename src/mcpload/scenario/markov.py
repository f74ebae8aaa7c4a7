"""The ``markov`` step: a conversation as a walk over named states with weighted ``next:`` edges.

Written for people to read and edit (``mcpload fit`` writes them from measured transitions)::

    - markov:
        think: {lognormal: {median: 500ms, sigma: 0.5}}   # between two states (optional)
        max_steps: 40                                      # states visited at most (default 100)
        start: {search: 3, notify: 1}                      # where a conversation begins, by weight
        states:
          search:
            steps: [{call: search_docs, args: {query: x}}]
            next: {read: 0.8, search: 0.1, end: 0.1}       # "end" ends the conversation
          read:
            steps: [{parallel: [{call: get_doc}, {call: get_doc}]}]
            next: {end: 1}
          notify:
            steps: [{call: send_message}]                  # no next: the conversation ends here

Weights are relative (they need not sum to 1). Every name in ``start`` and ``next`` must be a state
(or ``end``). The walk draws from the agent's generator, so ``--seed`` reproduces it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mcpload.scenario.checks import (
    check_keys,
    expect_int,
    expect_mapping,
    expect_number,
    join,
)
from mcpload.scenario.distributions import Distribution, parse_distribution
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.steps import Conv, Step, StepRunner, Think
from mcpload.suggest import did_you_mean

if TYPE_CHECKING:
    from mcpload.mcp.session import Session
    from mcpload.scenario.context import RenderContext

END = "end"
DEFAULT_MAX_STEPS = 100


@dataclass(frozen=True, slots=True)
class Edges:
    """Weighted targets; ``pick`` returns one with probability ``weight / total``."""

    names: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weights: Mapping[str, float]) -> Edges:
        total, cumulative = 0.0, []
        for weight in weights.values():
            total += weight
            cumulative.append(total)
        return cls(tuple(weights), tuple(cumulative))

    def pick(self, rng: random.Random) -> str:
        if not self.names:
            return END
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.names[min(index, len(self.names) - 1)]


@dataclass(frozen=True, slots=True)
class State:
    steps: tuple[Step, ...]
    next: Edges


@dataclass(frozen=True, slots=True, kw_only=True)
class Markov(Step):
    """Walk the states from ``start``; run each visited state's steps, ``think`` between two states."""

    kind: ClassVar[str] = "markov"
    states: Mapping[str, State]
    start: Edges
    think: Distribution | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    _think_step: Think | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        think = None if self.think is None else Think(path=f"{self.path}.think", duration=self.think)
        object.__setattr__(self, "_think_step", think)

    def expand(self, rng: random.Random) -> list[Step]:
        """The steps of one walk, in order (the engine runs them like a workflow)."""
        out: list[Step] = []
        name = self.start.pick(rng)
        for visited in range(self.max_steps):
            if name == END:
                break
            state = self.states[name]
            if visited and self._think_step is not None:
                out.append(self._think_step)
            out.extend(state.steps)
            name = state.next.pick(rng)
        return out

    def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> Awaitable[bool]:
        return runner.run_steps(self.expand(runner.task_rng), session, conv, ctx)

    def children(self) -> list[Step]:
        """Every step of every state (for ``walk``: preflight checks each tool a state calls)."""
        return [step for state in self.states.values() for step in state.steps]


def _weights(value: Any, path: str, names: Mapping[str, Any]) -> dict[str, float]:
    weights = {}
    for target, weight in expect_mapping(value, path, "a mapping of state: weight").items():
        at = join(path, str(target))
        if target != END and target not in names:
            hint = did_you_mean(str(target), [*names, END]) or f" (states are {', '.join(names)}, or end)"
            raise ScenarioError(f"unknown state '{target}'{hint}", at)
        weights[str(target)] = expect_number(weight, at, minimum=0)
    if weights and not sum(weights.values()) > 0:
        raise ScenarioError("at least one weight must be greater than 0", path)
    return weights


def parse_markov(value: Any, path: str, parse_steps: Callable[[Any, str], tuple[Step, ...]]) -> Markov:
    """The body of a ``markov:`` step.

    Args:
        value: The mapping under ``markov:``.
        path: Its place in the scenario (``agents.a.workflow[0].markov``).
        parse_steps: Parses a state's ``steps`` (the workflow parser's own, so states hold any step).

    Raises:
        ScenarioError: with the path of the offending value.
    """
    body = expect_mapping(value, path, "a mapping {start, states, think?, max_steps?}")
    check_keys(body, ("start", "states", "think", "max_steps"), path, required=("start", "states"))
    raw_states = expect_mapping(body["states"], join(path, "states"), "a mapping of state name: {steps, next}")
    if not raw_states:
        raise ScenarioError("define at least one state", join(path, "states"))
    states = {}
    for name, spec in raw_states.items():
        at = join(join(path, "states"), str(name))
        if str(name) == END:
            raise ScenarioError("'end' is reserved (it ends the conversation): rename the state", at)
        check_keys(expect_mapping(spec, at, "a state {steps, next}"), ("steps", "next"), at, required=("steps",))
        nxt = _weights(spec["next"], join(at, "next"), raw_states) if spec.get("next") is not None else {}
        states[str(name)] = State(parse_steps(spec["steps"], join(at, "steps")), Edges.of(nxt))
    start = _weights(body["start"], join(path, "start"), raw_states)
    if not start:
        raise ScenarioError("name at least one start state", join(path, "start"))
    think = parse_distribution(body["think"], join(path, "think")) if body.get("think") is not None else None
    max_steps = expect_int(body.get("max_steps", DEFAULT_MAX_STEPS), join(path, "max_steps"), minimum=1)
    return Markov(path=path, states=states, start=Edges.of(start), think=think, max_steps=max_steps)
