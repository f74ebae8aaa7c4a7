"""Capacity search: the highest load (agents, or session arrivals per second) a server sustains under
SLOs, found by steps and bisection, with the knee, the first SLO to break, recovery after overload and
a guard against reporting the load generator's own limit as the server's. See docs/capacity.md."""

from mcpload.capacity.driver import run_capacity
from mcpload.capacity.search import SearchOutcome, search
from mcpload.capacity.settings import AGENTS, RATE, Growth, Resolution, Settings
from mcpload.capacity.slo import DEFAULT_SLOS, Slo, SloError, parse_slo, parse_slos

__all__ = [
    "AGENTS",
    "DEFAULT_SLOS",
    "RATE",
    "Growth",
    "Resolution",
    "SearchOutcome",
    "Settings",
    "Slo",
    "SloError",
    "parse_slo",
    "parse_slos",
    "run_capacity",
    "search",
]
