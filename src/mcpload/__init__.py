"""mcpload: a load tester for MCP servers that emulates bursty LLM agents.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

__version__ = "0.1.0"

from mcpload.engine.execute import run_scenario
from mcpload.mcp.outcome import KINDS, Outcome
from mcpload.mcp.session import Session
from mcpload.mcp.target import Target, connect
from mcpload.scenario import Agent, Scenario, ScenarioError, load_scenario
from mcpload.transports.base import Transport
from mcpload.transports.legacy_sse import LegacySSE
from mcpload.transports.stdio import Stdio
from mcpload.transports.streamable_http import StreamableHTTP

__all__ = [
    "KINDS",
    "Agent",
    "LegacySSE",
    "Outcome",
    "Scenario",
    "ScenarioError",
    "Session",
    "Stdio",
    "StreamableHTTP",
    "Target",
    "Transport",
    "__version__",
    "connect",
    "load_scenario",
    "run_scenario",
]
