"""The steps of a workflow: requests (call, list_tools, read_resource, …), think, and control flow.

Steps are immutable and shared by every agent of a type; anything per agent (rng, saved values)
lives in the engine and the ``RenderContext``. Each step knows its ``path`` in the scenario so the
engine can name it in errors.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import random
import re
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from jmespath.parser import ParsedResult

from mcpload.scenario.distributions import CountDistribution, Distribution
from mcpload.scenario.retry import RetryPolicy
from mcpload.scenario.templates import Args

if TYPE_CHECKING:
    from mcpload.mcp.session import Session
    from mcpload.outcome import Outcome
    from mcpload.scenario.context import RenderContext

Conv = TypeVar("Conv")  # the engine's conversation, passed through steps untouched
Conv_contra = TypeVar("Conv_contra", contravariant=True)


class StepRunner(Protocol[Conv_contra]):
    """What steps run with: the engine's agent. Steps dispatch themselves (``Step.run``, ``Request.send``)
    and call back here for what belongs to the engine (retries and recording, parallel branches)."""

    #: the agent's generator as the running task sees it (think times, counts, choices)
    @property
    def task_rng(self) -> random.Random: ...

    #: tools that call steps call as tasks (``execution.taskSupport``); read-only for steps
    @property
    def task_tools(self) -> frozenset[str]: ...

    def run_steps(
        self, steps: Iterable[Step], session: Session, conv: Conv_contra, ctx: RenderContext
    ) -> Awaitable[bool]:
        """Run steps in order; False as soon as one fails."""
        ...

    def run_parallel(
        self, steps: Sequence[Step], session: Session, conv: Conv_contra, ctx: RenderContext
    ) -> Awaitable[bool]:
        """Run steps concurrently, each branch drawing from its own generator; True when all succeed."""
        ...

    def run_request(self, step: Request, session: Session, conv: Conv_contra, ctx: RenderContext) -> Awaitable[bool]:
        """Send a request step under its retry policy (``Request.send`` builds each attempt)."""
        ...

    def extended_call(self, step: Call, args: Any, session: Session) -> Awaitable[Outcome]:
        """A call with progress, as a task, or abandoned (``Call.extended``)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Base of every step. ``kind`` is the key that introduces it in a workflow (``call``, ``think``…).

    A step type is its class here (or in its own module, as ``markov``) plus one parse entry in
    ``mcpload.scenario.workflow.PARSERS``: the engine runs every step through ``run`` (see
    docs/architecture.md, "Adding a step").
    """

    kind: ClassVar[str] = ""
    path: str = ""

    def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> Awaitable[bool]:
        """Run this step for one agent; True when it succeeded (the conversation goes on)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it runs")

    def children(self) -> Iterable[Step]:
        """The steps nested in this one (for ``walk``); none by default."""
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Step):
    """A step that sends one MCP request.

    Attributes:
        timeout: Seconds for this request (None: the target's per-request timeout).
        retry: The retry policy (None: one attempt; the session still re-initializes once on
            ``session_expired``).
    """

    method: ClassVar[str] = ""
    #: the keys a step of this kind takes beside its own (``call`` adds ``args``, ``save``, …)
    options: ClassVar[tuple[str, ...]] = ("timeout", "retry")
    timeout: float | None = None
    retry: RetryPolicy | None = None
    #: a successful result has values to save (``extract``): only ``call`` with ``save``
    saves: bool = field(default=False, init=False, repr=False, compare=False)

    def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> Awaitable[bool]:
        return runner.run_request(self, session, conv, ctx)

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        """One attempt: the request, rendered (raises ``TemplateRenderError``), ready to await.

        Argument-less requests send ``method`` with no params; others override this.
        """
        return session.request(self.method, None, None, self.timeout)

    def extract(self, result: Any) -> dict[str, Any]:
        """The values to save from a successful result (only when ``saves``)."""
        return {}


@functools.cache
def _interpreter() -> Any:
    from jmespath.visitor import TreeInterpreter

    return TreeInterpreter()


@dataclass(frozen=True, slots=True)
class Abandon:
    """``abandon: {share: 0.1, after: 2s}``: with probability ``share`` a call still running ``after``
    seconds is given up (the server is told, as real clients do) and counted as ``cancelled``."""

    share: float
    after: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Request):
    """``tools/call``: call ``tool`` with ``args``; ``save`` maps names to JMESPath expressions
    evaluated on the call's result (``saved.<name>`` in later templates of the conversation)."""

    kind: ClassVar[str] = "call"
    method: ClassVar[str] = "tools/call"
    tool: str
    args: Args
    save: Mapping[str, ParsedResult] = field(default_factory=dict)
    #: send a progressToken; count the notifications and time the first (``progress: true``)
    progress: bool = False
    #: call as a task (2025-11-25): None = when the tool supports it (``execution.taskSupport``)
    task: bool | None = None
    #: abandon a share of the calls after a delay, as a user interrupting the agent
    abandon: Abandon | None = None
    #: True when any of the three above asks for more than a plain call (the agent's fast path test)
    extended: bool = field(init=False, repr=False, compare=False)

    options: ClassVar[tuple[str, ...]] = ("args", "save", "progress", "task", "abandon", "timeout", "retry")

    def __post_init__(self) -> None:
        object.__setattr__(self, "extended", self.progress or self.task is not None or self.abandon is not None)
        object.__setattr__(self, "saves", bool(self.save))

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        if self.extended or self.tool in runner.task_tools:
            return runner.extended_call(self, self.args.render(ctx), session)
        return session.call_tool(self.tool, self.args.render(ctx), self.timeout)

    def extract(self, result: Any) -> dict[str, Any]:
        """The values to save from a result (None where an expression matches nothing)."""
        # One interpreter for every search: ParsedResult.search builds a TreeInterpreter per call, whose
        # function table references itself, leaving ~10 objects of cyclic garbage per save (the soak
        # found the resulting RSS creep between full collections). Visiting is stateless and reentrant.
        visit = _interpreter().visit
        return {name: visit(expression.parsed, result) for name, expression in self.save.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class ListTools(Request):
    kind: ClassVar[str] = "list_tools"
    method: ClassVar[str] = "tools/list"

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.list_tools(self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListResources(Request):
    kind: ClassVar[str] = "list_resources"
    method: ClassVar[str] = "resources/list"

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.list_resources(self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListResourceTemplates(Request):
    """``resources/templates/list`` (all pages): what clients ask to offer parameterised resources."""

    kind: ClassVar[str] = "list_resource_templates"
    method: ClassVar[str] = "resources/templates/list"

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.list_resource_templates(self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPrompts(Request):
    kind: ClassVar[str] = "list_prompts"
    method: ClassVar[str] = "prompts/list"

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.list_prompts(self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResource(Request):
    """``resources/read``; ``uri`` always renders to a string. Its metrics are grouped under
    ``operation_name``: the URI as written, each template in it shown as ``{expression}`` (as RFC 6570
    templates look), so that a step reading many rendered URIs is one operation, not one per URI."""

    kind: ClassVar[str] = "read_resource"
    method: ClassVar[str] = "resources/read"
    uri: Args
    operation_name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation_name", uri_template_name(str(self.uri.source)))

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.read_resource(str(self.uri.render(ctx)), self.timeout, self.operation_name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Request):
    """``resources/subscribe`` to ``uri`` (a template allowed): the server then sends
    ``notifications/resources/updated``, counted with every server notification of the run."""

    kind: ClassVar[str] = "subscribe"
    method: ClassVar[str] = "resources/subscribe"
    uri: Args
    operation_name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation_name", uri_template_name(str(self.uri.source)))

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.request(self.method, {"uri": str(self.uri.render(ctx))}, self.operation_name, self.timeout)


_EXPRESSION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}|\{%.*?%\}", re.DOTALL)
MAX_OPERATION_NAME = 160


def uri_template_name(source: str) -> str:
    """The operation name of a ``read_resource`` URI as written: ``docs://{{ id }}`` → ``docs://{id}``."""
    name = _EXPRESSION.sub(lambda m: "{" + " ".join((m.group(1) or "…").split()) + "}", source)
    return name if len(name) <= MAX_OPERATION_NAME else name[: MAX_OPERATION_NAME - 1] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class GetPrompt(Request):
    """``prompts/get`` of prompt ``name``; ``args`` renders to a mapping (MCP wants string values)."""

    kind: ClassVar[str] = "get_prompt"
    method: ClassVar[str] = "prompts/get"
    name: str
    args: Args

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.get_prompt(self.name, self.args.render(ctx) or None, self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Request):
    kind: ClassVar[str] = "ping"
    method: ClassVar[str] = "ping"

    def send(self, runner: StepRunner[Any], session: Session, ctx: RenderContext) -> Awaitable[Outcome]:
        return session.ping(self.timeout)


@dataclass(frozen=True, slots=True, kw_only=True)
class Think(Step):
    """The model reasoning before its next move: wait ``duration.sample(rng)`` seconds."""

    kind: ClassVar[str] = "think"
    duration: Distribution

    async def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> bool:
        await asyncio.sleep(self.duration.sample(runner.task_rng))
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(Step):
    """Run ``steps`` concurrently on the same session; done when all are done."""

    kind: ClassVar[str] = "parallel"
    steps: tuple[Step, ...]

    def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> Awaitable[bool]:
        return runner.run_parallel(self.steps, session, conv, ctx)

    def children(self) -> Iterable[Step]:
        return self.steps


@dataclass(frozen=True, slots=True, kw_only=True)
class Repeat(Step):
    """Run ``steps`` ``count.sample(rng)`` times in a row."""

    kind: ClassVar[str] = "repeat"
    count: CountDistribution
    steps: tuple[Step, ...]

    async def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> bool:
        for _ in range(self.count.sample(runner.task_rng)):
            if not await runner.run_steps(self.steps, session, conv, ctx):
                return False
        return True

    def children(self) -> Iterable[Step]:
        return self.steps


@dataclass(frozen=True, slots=True)
class Branch:
    """One option of a choice: picked with probability ``weight / total``; ``steps`` may be empty."""

    weight: float
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice(Step):
    """Run the steps of one branch, picked at random by weight."""

    kind: ClassVar[str] = "choice"
    branches: tuple[Branch, ...]
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        total, cumulative = 0.0, []
        for branch in self.branches:
            total += branch.weight
            cumulative.append(total)
        object.__setattr__(self, "_cumulative", tuple(cumulative))

    def run(self, runner: StepRunner[Conv], session: Session, conv: Conv, ctx: RenderContext) -> Awaitable[bool]:
        return runner.run_steps(self.pick(runner.task_rng).steps, session, conv, ctx)

    def children(self) -> Iterable[Step]:
        return [step for branch in self.branches for step in branch.steps]

    def pick(self, rng: random.Random) -> Branch:
        """One branch, with probability proportional to its weight."""
        index = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
        return self.branches[min(index, len(self.branches) - 1)]


def walk(steps: Iterable[Step]) -> Iterator[Step]:
    """Every step, depth first, including those nested in parallel, repeat and choice."""
    for step in steps:
        yield step
        yield from walk(step.children())
