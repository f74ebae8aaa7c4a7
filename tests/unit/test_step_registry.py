"""Step types are one table: every step class has a parse entry, a schema body and a way to run, and
the engine's agent runs each through the class (no per-kind if-chain).

A step added in one place and not another fails here (see docs/architecture.md, "Adding a step").
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from mcpload.engine.agent import RunningAgent
from mcpload.outcome import OK, Outcome
from mcpload.scenario import RenderContext
from mcpload.scenario.markov import Markov
from mcpload.scenario.schema import scenario_schema
from mcpload.scenario.steps import Request, Step, StepRunner, walk
from mcpload.scenario.workflow import BARE, KINDS, PARSERS, STEP_KINDS, parse_step

#: one example per step kind, and the session methods running it sends (in order)
EXAMPLES: dict[str, tuple[Any, list[str]]] = {
    "call": ({"call": "search", "args": {"q": "{{ agent.id }}"}, "save": {"n": "count"}}, ["call_tool"]),
    "think": ({"think": 0}, []),
    "parallel": ({"parallel": ["ping", {"call": "search"}]}, ["ping", "call_tool"]),
    "repeat": ({"repeat": {"times": 2, "steps": ["ping"]}}, ["ping", "ping"]),
    "choice": ({"choice": [{"steps": ["list_tools"]}]}, ["list_tools"]),
    "markov": ({"markov": {"start": {"a": 1}, "states": {"a": {"steps": ["ping"]}}}}, ["ping"]),
    "ping": ("ping", ["ping"]),
    "list_tools": ({"list_tools": {}}, ["list_tools"]),
    "list_resources": ("list_resources", ["list_resources"]),
    "list_prompts": ("list_prompts", ["list_prompts"]),
    "list_resource_templates": ({"list_resource_templates": None}, ["list_resource_templates"]),
    "read_resource": ({"read_resource": "docs://{{ agent.index }}"}, ["read_resource"]),
    "get_prompt": ({"get_prompt": {"name": "p", "args": {"x": "1"}}}, ["get_prompt"]),
    "subscribe": ({"subscribe": "docs://a"}, ["request"]),
}


def every_step_class(cls: type[Step] = Step) -> Iterable[type[Step]]:
    for sub in cls.__subclasses__():
        # dataclass(slots=True) leaves the class it replaced among the subclasses: keep the module's own
        if sub.__module__.startswith("mcpload.") and getattr(sys.modules[sub.__module__], sub.__name__, None) is sub:
            yield sub
        yield from every_step_class(sub)


def test_every_step_class_with_a_kind_has_exactly_one_parse_entry() -> None:
    concrete = {cls for cls in every_step_class() if cls.kind}
    assert Markov in concrete  # classes of their own modules count too
    assert concrete == set(PARSERS), "a step class without a parse entry, or an entry without a class"
    assert len(KINDS) == len(PARSERS), "two step classes share a kind"
    assert tuple(cls.kind for cls in PARSERS) == STEP_KINDS
    assert set(BARE) <= set(STEP_KINDS)


@pytest.mark.parametrize("cls", list(PARSERS), ids=lambda cls: cls.kind)
def test_every_step_class_says_how_it_runs(cls: type[Step]) -> None:
    assert cls.run is not Step.run, f"{cls.__name__} has no run"
    if issubclass(cls, Request):
        assert cls.method, f"{cls.__name__} names no MCP method"


def test_every_step_kind_has_a_schema_body_and_an_example_here() -> None:
    schema = scenario_schema()["$defs"]["step"]
    written = {key for variant in schema["anyOf"][1:] for key in variant.get("required", ())}
    assert written == set(STEP_KINDS)
    assert set(EXAMPLES) == set(STEP_KINDS), "add an example of the new step kind to EXAMPLES"


class FakeSession:
    """Records which session method each request step sends through."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __getattr__(self, method: str) -> Any:
        async def send(*args: Any, **kwargs: Any) -> Outcome:
            self.sent.append(method)
            out = Outcome(OK, method)
            out.result = {"count": 3}
            return out

        return send


class Runner:
    """A minimal StepRunner: the contract the engine's agent implements."""

    def __init__(self) -> None:
        self.task_rng = random.Random(1)
        self.task_tools: frozenset[str] = frozenset()
        self.saved: dict[str, Any] = {}

    async def run_steps(self, steps: Iterable[Step], session: Any, conv: object, ctx: RenderContext) -> bool:
        for step in steps:
            if not await step.run(self, session, conv, ctx):
                return False
        return True

    async def run_parallel(self, steps: Sequence[Step], session: Any, conv: object, ctx: RenderContext) -> bool:
        return all(await asyncio.gather(*(step.run(self, session, conv, ctx) for step in steps)))

    async def run_request(self, step: Request, session: Any, conv: object, ctx: RenderContext) -> bool:
        out = await step.send(self, session, ctx)
        if out.ok and step.saves:
            self.saved.update(step.extract(out.result))
        return out.ok

    async def extended_call(self, step: Any, args: Any, session: Any) -> Outcome:
        raise AssertionError("a plain call is not extended")


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_each_step_runs_through_its_class(kind: str) -> None:
    written, expected = EXAMPLES[kind]
    step = parse_step(written, "w[0]")
    assert type(step) is KINDS[kind]
    session, runner = FakeSession(), Runner()
    ctx = RenderContext(random.Random(2), agent={"id": "a-0", "type": "a", "index": 0})
    ctx.start_conversation("0-0", 0, saved={})
    checked: StepRunner[object] = runner  # the test's runner meets the protocol (mypy checks)
    assert asyncio.run(step.run(checked, session, object(), ctx)) is True  # type: ignore[arg-type]
    assert sorted(session.sent) == sorted(expected)
    if kind == "call":
        assert runner.saved == {"n": 3}
    assert next(iter(walk([step]))) is step


def test_the_agent_is_a_step_runner() -> None:
    """The engine's agent provides every member of the protocol steps call back."""
    members = {"task_rng", "task_tools", "run_steps", "run_parallel", "run_request", "extended_call"}
    assert members <= set(dir(RunningAgent))
    declared = {*vars(StepRunner), *StepRunner.__annotations__}
    assert {name for name in declared if not name.startswith("_")} == members
