"""What argument templates see: the agent, its conversation, saved values and a few functions.

One ``RenderContext`` lives as long as its agent; the engine calls ``start_conversation`` at the
start of each conversation and sets ``step`` before each step. The functions are built once per
context, so a render costs a few dict assignments plus the template itself.
"""

from __future__ import annotations

import random
import uuid as _uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mcpload.scenario.data import DataSource

CONTEXT_NAMES = ("agent", "conversation", "saved", "step")
FUNCTION_NAMES = ("random_choice", "random_int", "random_float", "uuid", "now", "data")


class RenderContext:
    """The state one agent renders its templates with; all randomness comes from ``rng``.

    Create one per agent, and call ``start_conversation`` at the start of each conversation
    (it resets ``saved`` and the conversation's data rows).

    Attributes:
        rng: The agent's random generator (seeded from the run seed, so runs are reproducible).
        agent: ``{"id", "type", "index"}`` — ``type`` is the agent name in the scenario.
        conversation: ``{"id", "index"}`` of the running conversation.
        saved: Values saved by earlier steps of this conversation (``save:``); the engine fills it.
        step: The index of the running step in the workflow (the engine sets it).
        data: The scenario's data sources by name.
    """

    __slots__ = ("__weakref__", "_rows", "_vars", "agent", "conversation", "data", "rng", "saved", "step")

    def __init__(
        self,
        rng: random.Random,
        *,
        agent: Mapping[str, Any] | None = None,
        conversation: Mapping[str, Any] | None = None,
        saved: dict[str, Any] | None = None,
        data: Mapping[str, DataSource] | None = None,
    ) -> None:
        self.rng = rng
        self.agent = {"id": "", "type": "", "index": 0, **(agent or {})}
        self.conversation: dict[str, Any] = {"id": "", "index": 0, **(conversation or {})}
        self.saved: dict[str, Any] = {} if saved is None else saved
        self.step = 0
        self.data: Mapping[str, DataSource] = data or {}
        self._rows: dict[str, dict[str, Any]] = {}
        self._vars: dict[str, Any] | None = None  # built on the first render: most agents never need it

    def start_conversation(self, conversation_id: str, index: int, saved: dict[str, Any] | None = None) -> None:
        """Begin a conversation: fresh ``saved`` values (``saved`` if given), fresh data rows, step 0."""
        self.conversation = {"id": conversation_id, "index": index}
        self.saved = {} if saved is None else saved
        self.step = 0
        self._rows.clear()

    def variables(self) -> dict[str, Any]:
        """The template namespace; the same dict each time, refreshed with the mutable parts."""
        variables = self._vars
        if variables is None:
            variables = self._vars = {"agent": self.agent, **self._functions()}
        variables["conversation"] = self.conversation
        variables["saved"] = self.saved
        variables["step"] = self.step
        return variables

    def row(self, name: str) -> dict[str, Any]:
        """This conversation's row of data source ``name``, drawn per the source's mode on first use.

        Why once per conversation: ``{{ data('users').name }}`` and ``{{ data('users').password }}``
        in two arguments must describe the same user.
        """
        row = self._rows.get(name)
        if row is None:
            source = self.data.get(name)
            if source is None:
                known = ", ".join(sorted(self.data)) or "none"
                raise LookupError(f"unknown data source {name!r} (known: {known})")
            row = self._rows[name] = source.next_row(self.agent["index"], self.rng)
        return row

    def _functions(self) -> dict[str, Any]:
        rng = self.rng

        def random_choice(seq: Any) -> Any:
            return rng.choice(seq if isinstance(seq, Sequence) else list(seq))

        def random_int(a: int, b: int) -> int:
            return rng.randint(int(a), int(b))

        def random_float(a: float, b: float) -> float:
            return rng.uniform(float(a), float(b))

        def uuid() -> str:
            # From the agent's rng, not os.urandom: a seeded run sends the same ids again.
            return str(_uuid.UUID(int=rng.getrandbits(128), version=4))

        def now() -> str:
            return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

        return {
            "random_choice": random_choice,
            "random_int": random_int,
            "random_float": random_float,
            "uuid": uuid,
            "now": now,
            "data": _weak_row(self),
        }


def _weak_row(ctx: RenderContext) -> Callable[[str], dict[str, Any]]:
    """``ctx.row`` without a strong reference back to ``ctx`` (the namespace lives in ``ctx``): no
    reference cycle, so a finished agent's context is freed at once, not at a full collection."""
    ref = weakref.ref(ctx)

    def data(name: str) -> dict[str, Any]:
        return ref().row(name)  # type: ignore[union-attr]

    return data
