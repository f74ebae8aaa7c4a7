"""What ``mcpload init`` learns from the server: transport, era, tools, resources, prompts — and, for
the tools it may call on its own (read-only and closed-world, ``mcp/tool_safety.py``), whether one
call with the chosen arguments succeeds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpload.mcp.connect import Target, connect
from mcpload.mcp.tool_safety import is_safe

MAX_LISTED = 500  # tools, resources and prompts kept from each list (a server may list millions)
TRIAL_BUDGET_S = 60.0  # all trial calls together; tools left when it is spent are written untried


class DiscoveryError(Exception):
    """The target is unreachable or not an MCP server."""


@dataclass
class Discovery:
    transport: str
    era: str
    protocol_version: str
    server_info: dict[str, Any]
    tools: list[dict[str, Any]]
    resources: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)
    #: tool name → None (the trial call succeeded) or what went wrong; absent: not tried
    trials: dict[str, str | None] = field(default_factory=dict)
    untried: list[str] = field(default_factory=list)  # read-only tools not tried: the time budget was spent
    truncated: bool = False


def _named(items: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get(key), str) and i[key]][:MAX_LISTED]


async def discover(
    target: Target,
    arguments_for: Callable[[dict[str, Any]], dict[str, Any] | None],
    try_calls: bool = True,
    call_timeout: float = 10.0,
) -> Discovery:
    """Connect, list, and try each read-only tool once with ``arguments_for(tool)`` (None: not tried).

    Raises:
        DiscoveryError: not reachable as an MCP server, or tools/list failed.
    """
    session, opened = await connect(target)
    if not opened.ok:
        raise DiscoveryError(f"{target.describe()}: not reachable as an MCP server ({opened.describe()})")
    try:
        listed = await session.list_tools()
        if not listed.ok or listed.result is None:  # (an ok outcome always has its result object)
            raise DiscoveryError(f"{target.describe()}: tools/list failed ({listed.describe()})")
        raw_tools = listed.result.get("tools")
        assert session.era is not None and session.protocol_version is not None  # set by a successful open
        found = Discovery(
            transport=session.transport.name,
            era=session.era,
            protocol_version=session.protocol_version,
            server_info=session.server_info if isinstance(session.server_info, dict) else {},
            tools=_named(raw_tools, "name"),
            truncated=isinstance(raw_tools, list) and len(raw_tools) > MAX_LISTED,
        )
        caps = session.server_capabilities
        if "resources" in caps:
            res = await session.list_resources()
            found.resources = _named(res.result.get("resources"), "uri") if res.ok and res.result else []
        if "prompts" in caps:
            res = await session.list_prompts()
            found.prompts = _named(res.result.get("prompts"), "name") if res.ok and res.result else []
        if try_calls:
            deadline = time.monotonic() + TRIAL_BUDGET_S
            for tool in found.tools:
                args = arguments_for(tool) if is_safe(tool) else None
                if args is None:
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    found.untried.append(tool["name"])
                    continue
                out = await session.call_tool(tool["name"], args, timeout=min(call_timeout, left))
                found.trials[tool["name"]] = None if out.ok else out.describe()
    finally:
        await session.close()
    return found
