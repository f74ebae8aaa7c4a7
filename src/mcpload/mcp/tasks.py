"""Task-augmented tool calls (protocol 2025-11-25, ``basic/utilities/tasks``), measured as one operation.

``tools/call`` with ``params.task`` is answered at once with a task; the client polls ``tasks/get``
(waiting the server's ``pollInterval``) until the task is terminal or needs input, then fetches the
tool's result with ``tasks/result``. The outcome spans all of it (time to result), is classified as
the tool result it brings, and is reported once; ``polls`` counts the ``tasks/get`` requests.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from mcpload.mcp.jsonrpc import classify
from mcpload.outcome import OK, PROTOCOL, TIMEOUT, TOOL_ERROR, Outcome

if TYPE_CHECKING:
    from mcpload.mcp.requester import Requester  # the session, as these calls use it

_clock = time.perf_counter
TERMINAL = frozenset(("completed", "failed", "cancelled"))
DEFAULT_TTL_MS = 60_000
MIN_POLL_S, MAX_POLL_S, DEFAULT_POLL_S = 0.05, 30.0, 1.0
MAX_POLLS = 10_000


class TaskCall:
    """What one task-augmented call cost beyond its outcome."""

    __slots__ = ("polls", "task_id")

    def __init__(self) -> None:
        self.polls = 0
        self.task_id: str | None = None


def poll_interval(task: dict[str, Any]) -> float:
    """The server's ``pollInterval`` (ms) in seconds, clamped: a server cannot make a client spin or sleep
    for hours."""
    value: Any = task.get("pollInterval")  # any JSON a server sent
    if type(value) not in (int, float) or value != value:
        return DEFAULT_POLL_S
    seconds: float = value / 1000  # (an int or a float: checked above)
    return min(max(seconds, MIN_POLL_S), MAX_POLL_S)


async def call_tool_as_task(
    session: Requester,
    name: str,
    arguments: dict[str, Any],
    timeout: float,
    ttl_ms: int = DEFAULT_TTL_MS,
    cost: TaskCall | None = None,
) -> Outcome:
    """Call ``name`` as a task and wait for its result, within ``timeout`` seconds in all."""
    cost = cost if cost is not None else TaskCall()
    started = _clock()
    deadline = started + timeout
    sent = received = 0

    def finish(out: Outcome) -> Outcome:
        out.method, out.name, out.started = "tools/call", name, started
        out.latency = _clock() - started
        out.bytes_sent, out.bytes_received = sent + out.bytes_sent, received + out.bytes_received
        if session.on_outcome is not None:
            session.on_outcome(out)
        return out

    params = {"name": name, "arguments": arguments, "task": {"ttl": ttl_ms}}
    out = await session._send("tools/call", params, name, timeout, emit=False)
    created = out.result
    if type(created) is not dict or out.kind not in (OK, PROTOCOL):  # (a task has no content: not "ok" yet)
        return finish(out)
    found = created.get("task")
    if type(found) is not dict:
        if out.ok:
            return finish(out)  # the server ran it at once (taskSupport optional): a plain result
        out.kind, out.error_message, out.result = PROTOCOL, "task-augmented tools/call without a task", None
        return finish(out)
    task: dict[str, Any] = found
    task_id = task.get("taskId")
    if type(task_id) is not str or not task_id:
        out.kind, out.error_message, out.result = PROTOCOL, "task without a string taskId", None
        return finish(out)
    cost.task_id = task_id
    sent, received = out.bytes_sent, out.bytes_received
    status = task.get("status")
    while status not in TERMINAL and status != "input_required":
        wait = poll_interval(task)
        if _clock() + wait >= deadline or cost.polls >= MAX_POLLS:
            out = Outcome(TIMEOUT, "tools/call", name)
            out.error_message = f"task {status or 'pending'} after {timeout:g} s ({cost.polls} polls)"
            session._cancel_task(task_id)
            return finish(out)
        await asyncio.sleep(wait)
        got = await session._send("tasks/get", {"taskId": task_id}, name, deadline - _clock(), emit=False)
        cost.polls += 1
        sent, received = sent + got.bytes_sent, received + got.bytes_received
        polled = got.result
        if not got.ok or polled is None:  # (an ok outcome always has its result object)
            return finish(got)
        inner = polled.get("task")
        task = inner if type(inner) is dict else polled
        status = task.get("status")
    # terminal (or waiting for input, which tasks/result delivers as server requests): fetch the result
    remaining = deadline - _clock()
    if remaining <= 0:
        out = Outcome(TIMEOUT, "tools/call", name)
        out.error_message = f"task {status} but no time left for tasks/result"
        return finish(out)
    res = await session._send("tasks/result", {"taskId": task_id}, name, remaining, emit=False)
    if res.ok:
        kind, code, message = classify("tools/call", {"result": res.result})
        res.kind, res.error_code, res.error_message = kind, code, message
    elif status in ("failed", "cancelled") and res.kind != TIMEOUT:
        res.kind = TOOL_ERROR  # the tool ran and failed: not a protocol or transport problem
        res.error_message = f"task {status}" + (f": {res.error_message}" if res.error_message else "")
    return finish(res)
