"""The steps of a workflow: requests (call, list_tools, read_resource, …), think, and control flow.

Steps are immutable and shared by every agent of a type; anything per agent (rng, saved values)
lives in the engine and the ``RenderContext``. Each step knows its ``path`` in the scenario so the
engine can name it in errors.
"""

from __future__ import annotations

import bisect
import functools
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from jmespath.parser import ParsedResult

from mcpload.scenario.distributions import CountDistribution, Distribution
from mcpload.scenario.retry import RetryPolicy
from mcpload.scenario.templates import Args


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Base of every step. ``kind`` is the key that introduces it in a workflow (``call``, ``think``…)."""

    kind: ClassVar[str] = ""
    path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Step):
    """A step that sends one MCP request.

    Attributes:
        timeout: Seconds for this request (None: the target's per-request timeout).
        retry: The retry policy (None: one attempt; the session still re-initializes once on
            ``session_expired``).
    """

    method: ClassVar[str] = ""
    timeout: float | None = None
    retry: RetryPolicy | None = None


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "extended", self.progress or self.task is not None or self.abandon is not None)

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ListResources(Request):
    kind: ClassVar[str] = "list_resources"
    method: ClassVar[str] = "resources/list"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPrompts(Request):
    kind: ClassVar[str] = "list_prompts"
    method: ClassVar[str] = "prompts/list"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Request):
    kind: ClassVar[str] = "ping"
    method: ClassVar[str] = "ping"


@dataclass(frozen=True, slots=True, kw_only=True)
class Think(Step):
    """The model reasoning before its next move: wait ``duration.sample(rng)`` seconds."""

    kind: ClassVar[str] = "think"
    duration: Distribution


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(Step):
    """Run ``steps`` concurrently on the same session; done when all are done."""

    kind: ClassVar[str] = "parallel"
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Repeat(Step):
    """Run ``steps`` ``count.sample(rng)`` times in a row."""

    kind: ClassVar[str] = "repeat"
    count: CountDistribution
    steps: tuple[Step, ...]


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

    def pick(self, rng: random.Random) -> Branch:
        """One branch, with probability proportional to its weight."""
        index = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
        return self.branches[min(index, len(self.branches) - 1)]


def walk(steps: Iterable[Step]) -> Iterator[Step]:
    """Every step, depth first, including those nested in parallel, repeat and choice."""
    for step in steps:
        yield step
        if isinstance(step, Parallel | Repeat):
            yield from walk(step.steps)
        elif isinstance(step, Choice):
            for branch in step.branches:
                yield from walk(branch.steps)
        elif hasattr(step, "substeps"):  # steps defined in their own module (``markov``)
            yield from walk(step.substeps())
