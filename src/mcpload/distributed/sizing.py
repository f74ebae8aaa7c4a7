"""How many worker processes a split run needs: the ``--workers auto`` rule and the bounds of any count.

Light on purpose (no engine import): the command line reads ``AGENTS_PER_WORKER`` for its help text.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpload.scenario.model import Scenario

#: ``--workers auto``: one worker process per this many agents at the peak, up to the cores
AGENTS_PER_WORKER = 1000
#: the most worker processes one machine may be asked for (more would be a fork bomb, not a load test)
MAX_WORKERS = 1024


def peak_agents(scenario: Scenario) -> int:
    """An upper bound of the agents the scenario runs at once (profiles summed)."""
    total = 0
    for profile in scenario.profiles:
        total += profile.max_agents
    return total


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def auto_workers(scenario: Scenario) -> int:
    """One worker process per ``AGENTS_PER_WORKER`` agents at the peak, at least one, at most one per core
    (``--workers auto`` then adds more during the run when a process runs hot: ``distributed.adaptive``)."""
    return max(1, min(usable_cores(), math.ceil(peak_agents(scenario) / AGENTS_PER_WORKER)))
