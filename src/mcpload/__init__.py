"""mcpload: a load tester for MCP servers that emulates bursty LLM agents.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from typing import TYPE_CHECKING, Any

from mcpload.version import __version__

# Exported lazily (PEP 562): ``import mcpload`` (and so every CLI start-up) loads the engine, the
# scenario model and the transports only when one of these names is first used.
_EXPORTS = {
    "run_scenario": "mcpload.distributed.loads",
    "merge_results": "mcpload.distributed.merge",
    "Segment": "mcpload.profiles",
    "KINDS": "mcpload.outcome",
    "Outcome": "mcpload.outcome",
    "Session": "mcpload.mcp.session",
    "Target": "mcpload.mcp.connect",
    "connect": "mcpload.mcp.connect",
    "Agent": "mcpload.scenario",
    "Scenario": "mcpload.scenario",
    "ScenarioError": "mcpload.scenario",
    "load_scenario": "mcpload.scenario",
    "Transport": "mcpload.transports.base",
    "LegacySSE": "mcpload.transports.legacy_sse",
    "Stdio": "mcpload.transports.stdio",
    "StreamableHTTP": "mcpload.transports.streamable_http",
    "Results": "mcpload.testing.results",
    "LoadTestFailed": "mcpload.testing.results",
    "run_load": "mcpload.testing.run",
    "run_load_async": "mcpload.testing.run",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers (the package ships py.typed)
    from mcpload.distributed.loads import run_scenario
    from mcpload.distributed.merge import merge_results
    from mcpload.mcp.connect import Target, connect
    from mcpload.mcp.session import Session
    from mcpload.outcome import KINDS, Outcome
    from mcpload.profiles import Segment
    from mcpload.scenario import Agent, Scenario, ScenarioError, load_scenario
    from mcpload.testing.results import LoadTestFailed, Results
    from mcpload.testing.run import run_load, run_load_async
    from mcpload.transports.base import Transport
    from mcpload.transports.legacy_sse import LegacySSE
    from mcpload.transports.stdio import Stdio
    from mcpload.transports.streamable_http import StreamableHTTP


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpload' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "KINDS",
    "Agent",
    "LegacySSE",
    "LoadTestFailed",
    "Outcome",
    "Results",
    "Scenario",
    "ScenarioError",
    "Segment",
    "Session",
    "Stdio",
    "StreamableHTTP",
    "Target",
    "Transport",
    "__version__",
    "connect",
    "load_scenario",
    "merge_results",
    "run_load",
    "run_load_async",
    "run_scenario",
]
