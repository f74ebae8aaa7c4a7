"""One emulated LLM agent: opens its MCP session, runs conversations (workflows) with think and idle
gaps, then closes the session. Every random choice comes from the agent's own seeded ``rng``."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Coroutine, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpload.engine.calls import extended_call
from mcpload.engine.pacing import Backoff, OutageTracker
from mcpload.engine.recording import OutcomeSink, retrying
from mcpload.engine.rng import AgentRandom
from mcpload.engine.watchdog import Stalled
from mcpload.mcp.session import Session
from mcpload.outcome import HTTP_ERROR, TIMEOUT, TRANSPORT, Outcome
from mcpload.scenario import RenderContext, TemplateRenderError

if TYPE_CHECKING:
    from mcpload.engine.output_check import OutputCheck
    from mcpload.mcp.connect import Target
    from mcpload.mcp.trace_context import Tracer
    from mcpload.metrics import Recorder
    from mcpload.scenario import AgentSpec, Scenario
    from mcpload.scenario.scripted import ScriptedAgent
    from mcpload.scenario.steps import Call, Request, Step

_clock = time.perf_counter

#: the generator of the running ``parallel`` branch; None outside parallel steps (the agent's own)
_branch_rng: ContextVar[random.Random | None] = ContextVar("mcpload_branch_rng", default=None)


if TYPE_CHECKING:
    _RandomLike = random.Random  # for the type checker: _TaskRandom has every method of Random, by delegation
else:
    _RandomLike = object


class _TaskRandom(_RandomLike):
    """The agent's generator as the running task sees it: each ``parallel`` branch draws from its own
    fork, so the order in which concurrent branches draw (which follows server timing) changes nothing."""

    __slots__ = ("_root",)

    def __init__(self, root: random.Random) -> None:
        self._root = root

    def __getattr__(self, name: str) -> Any:
        return getattr(_branch_rng.get() or self._root, name)


@dataclass
class SharedRunState:
    """What every agent of a run shares (read-only for agents, except the counters)."""

    scenario: Scenario
    target: Target  # transport and protocol settled by preflight
    transport: str
    protocol: str
    recorder: Recorder
    sink: OutcomeSink
    template_errors: dict[str, int] = field(default_factory=dict)
    scripted_errors: dict[str, int] = field(default_factory=dict)
    #: pauses agents took after failed or empty conversations, and after sessions they could not open
    backoffs: dict[str, int] = field(default_factory=lambda: {"conversations": 0, "opens": 0})
    outages: OutageTracker = field(default_factory=OutageTracker)
    #: set (from any thread) when the run must end now: agents leave at their next step
    halted: bool = False
    t0: float = 0.0
    #: ``mcp.trace_context.Tracer`` when the target asks for trace context (``--trace-context``), else None
    traces: Tracer | None = None
    #: tools whose ``execution.taskSupport`` is required or optional: call steps call them as tasks
    task_tools: frozenset[str] = frozenset()
    #: ``options.validate_output``: every session's ``output_check`` (None: off)
    output_check: OutputCheck | None = None

    def __post_init__(self) -> None:
        rate = getattr(self.target, "trace_context", 0)
        if rate and self.traces is None:
            from mcpload.mcp.trace_context import Tracer

            self.traces = Tracer(rate)
            self.session_class = self.traces.session_class()
        else:
            self.session_class = Session


class Halted(Exception):
    """Raised inside an agent when the run is halted (``SharedRunState.halted``): it leaves at once."""


@dataclass
class Conversation:
    id: str
    index: int
    saved: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0
    wasted: int = 0


class RunningAgent:
    """One agent of a run, running: any agent type (the user's ``mcpload.Agent`` base class is only a
    scripted agent's behaviour). Runs one session's life. The runner may ``retire`` it (finish the
    current conversation, then leave) or cancel its task (in-flight calls then end as ``interrupted``)."""

    #: the agent's task, set by the load that starts it (``LocalLoad._spawn``) right after construction
    task: asyncio.Task[None]

    def __init__(
        self, index: int, spec: AgentSpec, world: SharedRunState, rng: AgentRandom, intended_start: float | None = None
    ) -> None:
        self.index = index
        self.spec = spec
        self.world = world
        self.rng = rng
        self._rng = _TaskRandom(rng)  # what workflow steps and templates draw from
        self.intended_start = intended_start
        self.retiring = False
        self.idle = False
        self.session: Session | None = None
        self._first_outcome = True
        self._failures = 0
        self._requests = 0  # requests sent, to tell a conversation that did nothing
        self._last_failure = ""  # the kind of the last failed outcome
        self._backoff = Backoff()
        self._session_t0: float | None = None  # when the open session started (its lifetime, for OTel)

    def retire(self) -> None:
        """Stop after the current conversation; an agent that is idle leaves at once."""
        self.retiring = True
        if self.idle:  # only a started agent (its task set) is ever idle
            self.task.cancel()

    def _on_outcome(self, outcome: Outcome) -> None:
        self._requests += 1
        if not outcome.ok:
            self._failures += 1
            self._last_failure = outcome.kind
        if self._first_outcome:
            self._first_outcome = False
            self.world.sink(outcome, self.intended_start)
        else:
            self.world.sink(outcome)

    async def run(self) -> None:
        session = None
        try:
            session = await self._open()
            if session is not None:
                await self._conversations(session, _clock())
        except asyncio.CancelledError:
            if not self.idle:
                raise
        except Halted:
            pass
        except Stalled:
            key = "engine: an agent blocked the event loop past the end of the run and was stopped"
            self.world.scripted_errors[key] = self.world.scripted_errors.get(key, 0) + 1
        finally:
            session = self.session
            if session is not None:
                try:
                    await asyncio.shield(self._close(session))
                finally:
                    # The session calls back into this agent (``on_outcome``): with the agent holding it,
                    # the two formed a cycle that kept each finished agent (its session, transport and
                    # ~2.5 KiB random state) until a full garbage collection. Dropped, a finished agent
                    # is freed as soon as the load lets go of it.
                    self.session = None

    def _new_session(self) -> Session:
        world = self.world
        self.session = world.session_class(
            world.target.make_transport(world.transport),
            world.protocol,
            world.target.timeout,
            on_outcome=self._on_outcome,
            server_answers=world.target.server_answers,
        )
        self.session.output_check = world.output_check
        self.session.auth = world.target.make_auth()
        return self.session

    async def _open(self) -> Session | None:
        """Open a session. An agent of a closed profile keeps trying, with backoff, until one opens or it
        is retired (the slot it holds stays filled, and a down server is not hammered); an open-profile
        arrival tries once. Each attempt is a fresh session: nothing half-open is carried over."""
        world, rec = self.world, self.world.recorder
        while True:
            t0 = _clock()
            session = self._new_session()
            opened = await session.open()
            now = _clock()
            rec.session_opened(opened.ok, now - t0, opened.kind)
            if opened.ok:
                self._session_t0 = t0
                world.outages.opened(now - world.t0)
                self._backoff.reset()
                return session
            if _is_outage(opened):
                world.outages.open_failed(now - world.t0)
            if self.intended_start is not None or self.retiring or world.halted:
                return None
            world.backoffs["opens"] += 1
            await self._close(session)
            self.session = None
            await self._pause(self._backoff.next_delay())
            if self.retiring or world.halted:
                return None

    async def _pause(self, seconds: float) -> None:
        """Sleep as an idle agent: ``retire`` ends the pause at once."""
        self.idle = True
        try:
            await asyncio.sleep(seconds)
        finally:
            self.idle = False

    async def _close(self, session: Session) -> None:
        # on_end: abandon (a share of) sessions without DELETE, as real clients do; drawn only then
        share = self.spec.abandon_share
        end = session.abandon if share and self.rng.random() < share else session.close
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(end(), 5.0)
        t0, self._session_t0 = self._session_t0, None
        rec = self.world.recorder
        rec.session_closed(None if t0 is None else _clock() - t0)
        for method, n in session.server_notifications.items():  # resources/updated, progress, logging …
            rec.note(SERVER_NOTIFICATIONS, method, n)
        if session.auth_retries:  # OAuth: 401s answered with a new token and a retry
            rec.note("oauth", "retried_after_401", session.auth_retries)

    async def _conversations(self, session: Session, t0: float) -> None:
        spec = self.spec
        limit = spec.conversations_per_session
        if limit is None and self.intended_start is not None:
            limit = 1  # open models: an arrival is one agent doing one conversation, unless told more
        lifetime = spec.session_lifetime
        idle = spec.idle
        scripted = self._scripted_instance(spec.agent_class) if spec.agent_class is not None else None
        ctx = RenderContext(
            self._rng,
            agent={"id": f"{spec.name}-{self.index}", "type": spec.name, "index": self.index},
            data=self.world.scenario.data,
        )
        n = 0
        world = self.world
        # An arrival of an open profile always does its first conversation, even when the profile ended
        # while its session was opening (it arrived in time: the graceful stop bounds it, as k6 lets a
        # started iteration finish); a retired agent of a closed profile starts none.
        while not self.retiring or (n == 0 and self.intended_start is not None):
            if world.halted:
                raise Halted
            conv = Conversation(f"{self.index}-{n}", n)
            ctx.start_conversation(conv.id, n, saved=conv.saved)
            failures, requests = self._failures, self._requests
            if scripted is not None:
                ok = await self._scripted(scripted, session) and self._failures == failures
            else:
                ok = await self._steps(spec.workflow, session, conv, ctx)
            if not ok:
                conv.wasted = conv.tokens  # everything the chain spent is lost with it
            world.recorder.conversation_finished(ok, conv.tokens, conv.wasted)
            n += 1
            if (limit and n >= limit) or (lifetime and _clock() - t0 >= lifetime) or self.retiring:
                return
            gap = idle.sample(self.rng)
            # Back off when the conversation ended without the server having answered: it sent nothing,
            # or failed in the agent itself (a template, a Python agent) or on a refused or reset
            # connection. Such a conversation costs no time, so without a pause the agent would spin.
            # A server that answers with errors is load as asked for: the idle gap alone, as always.
            unanswered = self._requests == requests or (
                not ok and (self._failures == failures or self._last_failure == TRANSPORT)
            )
            if unanswered:
                world.backoffs["conversations"] += 1
                gap = max(gap, self._backoff.next_delay())  # a floor under the scenario's own idle time
            else:
                self._backoff.reset()
            if gap > 0:
                await self._pause(gap)
            else:
                await asyncio.sleep(0)  # always let the clock, the signals and the other agents run

    def _scripted_instance(self, agent_class: type[ScriptedAgent]) -> ScriptedAgent:
        """One instance per agent, kept across its conversations (its ``saved`` too)."""
        return agent_class(id=f"{self.spec.name}-{self.index}", index=self.index, rng=self.rng)

    async def _scripted(self, agent: ScriptedAgent, session: Session) -> bool:
        try:
            await agent.run(session)
        except (asyncio.CancelledError, Halted, Stalled):
            raise
        except Exception as exc:  # a user's agent code failing is counted, never crashes the run
            key = f"{self.spec.name}: {type(exc).__name__}: {exc}"[:200]
            errors = self.world.scripted_errors
            errors[key] = errors.get(key, 0) + 1
            return False
        return True

    # workflow steps
    async def _steps(self, steps: Iterable[Step], session: Session, conv: Conversation, ctx: RenderContext) -> bool:
        for step in steps:
            if not await self._step(step, session, conv, ctx):
                return False
        return True

    async def _step(self, step: Step, session: Session, conv: Conversation, ctx: RenderContext) -> bool:
        if self.world.halted:
            raise Halted
        return await step.run(self, session, conv, ctx)  # the step dispatches itself (scenario.steps.Step.run)

    # what steps call back (scenario.steps.StepRunner)
    @property
    def task_rng(self) -> random.Random:  # ``_TaskRandom``: a parallel branch draws from its own generator
        return self._rng

    @property
    def task_tools(self) -> frozenset[str]:
        return self.world.task_tools

    async def run_parallel(
        self, steps: Sequence[Step], session: Session, conv: Conversation, ctx: RenderContext
    ) -> bool:
        seeds = [self._rng.getrandbits(64) for _ in steps]  # drawn in order, before any branch runs
        results = await asyncio.gather(
            *(self._branch(s, seed, session, conv, ctx) for s, seed in zip(steps, seeds, strict=True))
        )
        return all(results)

    def extended_call(self, step: Call, args: Any, session: Session) -> Coroutine[Any, Any, Outcome]:
        return extended_call(self, step, args, session)

    async def _branch(self, step: Step, seed: int, session: Session, conv: Conversation, ctx: RenderContext) -> bool:
        """One branch of a ``parallel`` step; ``gather`` runs it in its own task (and context), so the
        generator set here is this branch's alone."""
        _branch_rng.set(AgentRandom(seed))
        return await self._step(step, session, conv, ctx)

    async def _request(self, step: Request, session: Session, conv: Conversation, ctx: RenderContext) -> bool:
        """One request step under its retry policy. Each attempt spends the agent's tokens; a retried
        attempt's tokens are wasted."""
        policy = step.retry
        attempts = policy.attempts if policy is not None else 1
        tokens = self.spec.tokens_per_step
        for attempt in range(attempts):
            try:
                sending = step.send(self, session, ctx)
            except TemplateRenderError as exc:
                key = str(exc)[:200]
                self.world.template_errors[key] = self.world.template_errors.get(key, 0) + 1
                return False
            conv.tokens += tokens
            token = retrying.set(attempt > 0)
            try:
                out = await sending
            finally:
                retrying.reset(token)
            if out.ok:
                if step.saves:
                    conv.saved.update(step.extract(out.result))
                return True
            if policy is None or out.kind not in policy.on or attempt == attempts - 1:
                return False
            conv.wasted += tokens  # the agent re-spends its reasoning on the retry
            await asyncio.sleep(policy.wait(attempt, self._rng, out.retry_after))
        return False

    run_steps = _steps  # StepRunner names
    run_request = _request


def _is_outage(out: Outcome) -> bool:
    """A session that could not be opened for a reason of the network or of the server's availability."""
    return out.kind in (TRANSPORT, TIMEOUT) or (out.kind == HTTP_ERROR and (out.http_status or 0) in (502, 503, 504))


SERVER_NOTIFICATIONS = "server notifications"  # the results' operation_extras entry counting them by method
