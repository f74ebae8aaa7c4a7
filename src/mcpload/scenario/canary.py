"""The ``options.canary`` section: a cheap call made at a low, fixed rate on a session of its own
beside the load, whose latency shows when cheap calls wait for slow ones (finding
``event-loop-blocking``). Example::

    options:
      canary: {call: ping, every: 250ms}               # or a cheap, read-only tool:
      # canary: {call: get_delivery_report, args: {message_id: m-1}, every: 500ms}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcpload.scenario.checks import check_keys, expect_duration, expect_mapping, expect_str
from mcpload.scenario.errors import ScenarioError

PING = "ping"
DEFAULT_EVERY_S = 0.25
MIN_EVERY_S = 0.05  # a canary, not load


@dataclass(frozen=True, slots=True)
class CanarySpec:
    """``call``: ``ping`` or a tool name (asked for explicitly, so its side effects are the user's
    choice); ``args``: the tool's arguments; ``every_s``: seconds between two calls."""

    call: str = PING
    every_s: float = DEFAULT_EVERY_S
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> str:
        return PING if self.call == PING else f"tools/call {self.call}"


def parse_canary(value: Any, path: str = "options.canary") -> CanarySpec | None:
    """``ping``, a tool name, or ``{call, every, args}``; None when not given."""
    if value is None:
        return None
    if isinstance(value, str):
        return CanarySpec(expect_str(value, path))
    data = expect_mapping(value, path)
    check_keys(data, ("call", "every", "args"), path)
    call = expect_str(data.get("call", PING), f"{path}.call")
    every = expect_duration(data.get("every", DEFAULT_EVERY_S), f"{path}.every", positive=True)
    if every < MIN_EVERY_S:
        raise ScenarioError(f"at least {MIN_EVERY_S * 1000:g}ms: a canary is a probe, not load", f"{path}.every")
    args = dict(expect_mapping(data.get("args", {}), f"{path}.args"))
    if args and call == PING:
        raise ScenarioError("ping takes no args", f"{path}.args")
    return CanarySpec(call, every, args)
