"""Call steps that ask for more than a plain ``tools/call``: as a task, with progress, or abandoned after
a delay. The agent sends plain calls itself; only these steps (``Call.extended``, or a tool that
supports tasks) come here, so a plain call pays nothing for them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mcpload.engine.recording import abandoning
from mcpload.mcp.progress import Progress
from mcpload.mcp.session import Session
from mcpload.mcp.tasks import TaskCall
from mcpload.outcome import OK, Outcome

_clock = time.perf_counter


async def extended_call(agent: Any, step: Any, args: Any, session: Session) -> Outcome:
    """Run one call step (``mcpload.scenario.steps.Call``) for ``agent``; figures beyond the outcome go to
    the recorder's per-operation notes (``operation_extras`` in the results)."""
    abandon = step.abandon
    if abandon is not None and abandon.share > 0 and agent._rng.random() < abandon.share:
        return await _abandoning(agent, step, args, session, abandon.after)
    return await _call(agent, step, args, session)


async def _call(agent: Any, step: Any, args: Any, session: Session) -> Outcome:
    world = agent.world
    rec = world.recorder
    op = f"tools/call {step.tool}"
    as_task = step.task if step.task is not None else step.tool in world.task_tools
    if as_task:
        cost = TaskCall()
        out = await session.call_tool_as_task(step.tool, args, step.timeout, cost)
        rec.note(op, "task_calls")
        rec.note(op, "task_polls", cost.polls)
        return out
    progress = Progress() if step.progress else None
    out = await session.call_tool(step.tool, args, step.timeout, progress=progress)
    if progress is not None:
        rec.note(op, "progress_calls")
        rec.note(op, "progress_notifications", progress.count)
        if progress.first is not None:
            ms = (progress.first - out.started) * 1000
            rec.note(op, "first_progress_calls")
            rec.note(op, "first_progress_ms_sum", ms)
            rec.note(op, "first_progress_ms_max", ms)
    return out


async def _abandoning(agent: Any, step: Any, args: Any, session: Session, after: float) -> Outcome:
    """The call, given up after ``after`` seconds if it is still running: the session tells the server
    (``notifications/cancelled``, or closing the stream), the sink counts it apart from interruptions
    by the end of the run, and the workflow goes on as the user's next turn would."""
    flag = [False]
    token = abandoning.set(flag)
    try:
        call = asyncio.ensure_future(_call(agent, step, args, session))  # the task copies the flag's context
    finally:
        abandoning.reset(token)
    started = _clock()
    done, _ = await asyncio.wait((call,), timeout=after)
    if done:
        return call.result()
    flag[0] = True
    call.cancel()
    await asyncio.wait((call,))
    agent.world.recorder.note(f"tools/call {step.tool}", "cancelled")
    return Outcome(OK, "tools/call", step.tool, started, _clock() - started, {})
