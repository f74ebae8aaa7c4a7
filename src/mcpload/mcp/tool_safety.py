"""Which tools mcpload may call on its own initiative (``diagnose``, the calls ``init`` writes).

The target may be someone's production, so the rule is the spec's, with its defaults applied
(``ToolAnnotations`` in the MCP schema, 2025-11-25): ``readOnlyHint`` defaults to false (the tool may
modify its environment) and ``openWorldHint`` defaults to true (it may reach the outside world). A
tool is called unasked only when its annotations say ``readOnlyHint: true`` *and*
``openWorldHint: false``; a tool without annotations is listed, never called. Annotations are hints
from the server, not guarantees: a server that lies about them is not protected against — the
``--call-tools`` policy is how a user widens or narrows the choice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

READ_ONLY, ALL = "read-only", "all"


def side_effect_reason(tool: dict[str, Any]) -> str | None:
    """None when the tool's annotations say it is read-only and closed-world; else why it may have side effects."""
    ann = tool.get("annotations")
    ann = ann if isinstance(ann, dict) else {}
    read_only = ann.get("readOnlyHint")
    if read_only is not True:
        if read_only is False:
            return "readOnlyHint: false (may modify state)"
        return "no readOnlyHint: true (spec default: may modify state)"
    open_world = ann.get("openWorldHint")
    if open_world is not False:
        if open_world is True:
            return "openWorldHint: true (may reach the outside world)"
        return "no openWorldHint: false (spec default: may reach the outside world)"
    return None


def is_safe(tool: dict[str, Any]) -> bool:
    return side_effect_reason(tool) is None


@dataclass(frozen=True)
class CallPolicy:
    """Which listed tools to call: the read-only ones (default), all of them, or those named (plus,
    with ``read_only``, the read-only ones)."""

    read_only: bool = True
    all: bool = False
    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, values: Iterable[str] | None) -> CallPolicy:
        """``--call-tools`` values (repeatable, comma-separated): ``read-only``, ``all``, ``none`` or tool names.

        Raises:
            ValueError: ``all`` or ``none`` mixed with anything else, or an empty value.
        """
        words = [w.strip() for v in values or () for w in v.split(",")]
        if not words:
            return cls()
        if any(not w for w in words):
            raise ValueError("--call-tools: empty tool name")
        for solo in (ALL, "none"):
            if solo in words and len(words) > 1:
                raise ValueError(f"--call-tools {solo} cannot be combined with other values")
        if words == [ALL]:
            return cls(read_only=False, all=True)
        if words == ["none"]:
            return cls(read_only=False)
        names = frozenset(w for w in words if w != READ_ONLY)
        return cls(read_only=READ_ONLY in words, names=names)

    def describe(self) -> str:
        if self.all:
            return ALL
        parts = [READ_ONLY] if self.read_only else []
        parts += sorted(self.names)
        return ",".join(parts) or "none"

    def skip_reason(self, tool: dict[str, Any]) -> str | None:
        """None when this policy calls the tool; else the reason it is only listed."""
        if self.all or tool.get("name") in self.names:
            return None
        reason = side_effect_reason(tool)
        if reason is None:
            return None if self.read_only else "not named in --call-tools"
        return f"listed, not called: {reason}"

    def unsafe_to_call(self, tools: Iterable[dict[str, Any]]) -> list[str]:
        """The tools ``all`` would call although their annotations allow side effects and the user did not
        name them: the ones to name and confirm before calling."""
        if not self.all:
            return []
        return [
            t["name"]
            for t in tools
            if isinstance(t.get("name"), str) and t["name"] not in self.names and not is_safe(t)
        ]
