"""``Requester``: the part of a ``Session`` that progress calls (``progress``) and task calls (``tasks``)
drive. A Protocol, so that those modules sit below the session that imports them and never import it
back; the session satisfies it as it is (a type-checking contract, no runtime cost).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mcpload.outcome import Outcome

#: sees every outcome of a session (metrics listen here; the session never imports them)
OutcomeObserver = Callable[[Outcome], None]


class Requester(Protocol):
    """What ``send_with_progress`` and ``call_tool_as_task`` use of the session."""

    on_outcome: OutcomeObserver | None

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """Send one request, re-initializing a forgotten session once."""
        ...

    async def _send(
        self, method: str, params: dict[str, Any] | None, name: str | None, timeout: float, emit: bool = True
    ) -> Outcome:
        """Send one request as is; ``emit=False`` keeps its outcome from ``on_outcome``."""
        ...

    def _cancel_task(self, task_id: str) -> None:
        """Send ``tasks/cancel`` for ``task_id`` in the background."""
        ...
