"""``agent-arrival-rate``: new agent sessions arrive at a fixed mean rate (k6's constant-arrival-rate).

```yaml
type: agent-arrival-rate
rate: 30            # arrivals per time_unit
time_unit: 1m
duration: 10m
distribution: poisson   # even | poisson | bursty
max_agents: 200
```
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpload.profiles.base import OpenProfile
from mcpload.profiles.durations import format_duration
from mcpload.profiles.errors import Problem
from mcpload.profiles.fields import duration_field, number_field
from mcpload.profiles.stages import Stage, Timeline


@dataclass(frozen=True, kw_only=True)
class ArrivalRate(OpenProfile):
    """``rate`` arrivals per ``time_unit`` for ``duration`` seconds.

    ``even`` puts the first arrival at 0 and then one every ``time_unit / rate`` seconds, so there are
    exactly ``rate · duration / time_unit`` arrivals when that is a whole number (rounded up otherwise).

    Attributes:
        rate: mean arrivals per ``time_unit`` (> 0).
        duration: seconds (> 0).
    """

    type: str = "agent-arrival-rate"
    rate: float = number_field()
    duration: float = duration_field()

    def validate(self) -> list[Problem]:
        """Open-profile problems plus: a positive rate and duration."""
        problems = super().validate()
        if self.rate <= 0:
            problems.append(("rate", f"must be greater than 0, got {self.rate}"))
        if self.duration <= 0:
            problems.append(("duration", f"must be longer than 0s, got {self.duration}"))
        return problems

    def _whole_rates(self) -> Timeline:
        per_second = self.rate / self.time_unit
        return Timeline(per_second, (Stage(self.duration, per_second),))

    def describe(self) -> str:
        """E.g. ``agent-arrival-rate: 30/1m for 10m (poisson, max 200 agents)``."""
        return (
            f"{self.type}: {self.rate:g}/{format_duration(self.time_unit)} for {format_duration(self.duration)}"
            f" ({self.distribution}, max {self.max_agents} agents)"
        )
