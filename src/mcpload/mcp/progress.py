"""Progress of one request (``_meta.progressToken`` → ``notifications/progress``), and the call that
waits as long as the server keeps reporting progress.

Only a request that asks for progress makes a ``Progress``: a plain call costs nothing here.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from mcpload.outcome import TIMEOUT, Outcome

if TYPE_CHECKING:
    from mcpload.mcp.requester import Requester  # the session, as these calls use it

_clock = time.perf_counter


class Progress:
    """What a request learnt of its progress.

    Attributes:
        token: the ``progressToken`` sent (set by the session).
        count: ``notifications/progress`` received for it.
        first: ``perf_counter`` time of the first one (None: none came).
        last: time of the latest one.
        reset_timeout: the request's timeout counts from the latest progress, not from its start
            (as the SDKs' ``resetTimeoutOnProgress``), up to ``max_total`` seconds in all.
        max_total: the longest such a request may take, progress or not.
    """

    __slots__ = ("count", "first", "last", "max_total", "reset_timeout", "token")

    def __init__(self, reset_timeout: bool = False, max_total: float = 300.0) -> None:
        self.token: Any = None
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self.reset_timeout = reset_timeout
        self.max_total = max_total

    def notified(self) -> None:
        now = _clock()
        self.count += 1
        if self.first is None:
            self.first = now
        self.last = now


async def send_with_progress(
    session: Requester,
    method: str,
    params: dict[str, Any],
    name: str | None,
    timeout: float,
    progress: Progress,
) -> Outcome:
    """Send ``method`` with a progress token; with ``reset_timeout``, the call times out only after
    ``timeout`` seconds without progress (or ``max_total`` in all). The outcome is reported once."""
    if not progress.reset_timeout:
        return await session.request(method, params, name, timeout)
    started = _clock()
    total = max(timeout, progress.max_total)
    call = asyncio.ensure_future(session._send(method, params, name, total, emit=False))
    try:
        while True:
            since = progress.last if progress.last is not None else started
            wait = min(since + timeout, started + total) - _clock()
            if wait > 0:
                done, _ = await asyncio.wait((call,), timeout=wait)
                if done:
                    out = call.result()
                    break
                continue  # progress came meanwhile, or the deadline passed: look again
            call.cancel()
            await asyncio.wait((call,))
            out = Outcome(TIMEOUT, method, name, started, _clock() - started)
            # the cancelled call has told the server (notifications/cancelled, or its stream closed)
            if _clock() - started >= total:
                out.error_message = f"no response in {total:g} s, progress or not"
            elif progress.count:
                out.error_message = f"no progress for {timeout:g} s"
            else:
                out.error_message = f"no response or progress in {timeout:g} s"
            break
    finally:
        if not call.done():
            call.cancel()
    if session.on_outcome is not None:
        session.on_outcome(out)
    return out
