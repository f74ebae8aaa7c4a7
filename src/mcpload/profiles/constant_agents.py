"""``constant-agents``: a fixed number of agents for a fixed time (k6's constant-vus).

```yaml
type: constant-agents
agents: 50
duration: 5m
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mcpload.profiles.base import ClosedProfile
from mcpload.profiles.durations import format_duration
from mcpload.profiles.errors import Problem
from mcpload.profiles.fields import count_field, duration_field


@dataclass(frozen=True, kw_only=True)
class ConstantAgents(ClosedProfile):
    """``agents`` agents from the profile's start for ``duration`` seconds.

    Attributes:
        agents: how many agents run at once (≥ 1).
        duration: seconds (> 0).
    """

    type: str = "constant-agents"
    agents: int = count_field()
    duration: float = duration_field()
    # Nothing ramps down before the end, where graceful_stop applies.
    graceful_ramp_down: ClassVar[float] = 0.0

    def validate(self) -> list[Problem]:
        """Base problems plus: at least one agent, a positive duration."""
        problems = super().validate()
        if self.agents < 1:
            problems.append(("agents", f"must be at least 1, got {self.agents}"))
        if self.duration <= 0:
            problems.append(("duration", f"must be longer than 0s, got {self.duration}"))
        return problems

    def _whole_target_at(self, t: float) -> int:
        return self.agents if 0 <= t < self.duration else 0

    def _whole_ranges(self) -> list[tuple[int, int]]:
        return [(self.agents, self.agents)]

    def describe(self) -> str:
        """E.g. ``constant-agents: 50 agents for 5m``."""
        return f"{self.type}: {self.max_agents} agents for {format_duration(self.duration)}"
