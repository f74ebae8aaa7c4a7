"""``ramping-arrival-rate``: an arrival rate that moves linearly between stage targets (k6's executor of
the same name).

```yaml
type: ramping-arrival-rate
start_rate: 0
time_unit: 1s
stages:
  - {duration: 1m, target: 20}    # 0 → 20 arrivals/s over a minute
  - {duration: 5m, target: 20}
  - {duration: 1m, target: 0}
distribution: bursty
cv: 3
max_agents: 500
```
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mcpload.profiles.base import OpenProfile
from mcpload.profiles.durations import format_duration
from mcpload.profiles.errors import Problem
from mcpload.profiles.fields import custom_field, number_field, read_number
from mcpload.profiles.stages import Stage, Timeline, as_stages, stage_problems, stages_reader


@dataclass(frozen=True, kw_only=True)
class RampingArrivalRate(OpenProfile):
    """Arrivals whose rate moves linearly from ``start_rate`` through each stage's target.

    The arrival times come from time-rescaling (see ``processes``): ``even`` puts an arrival each time
    the integral of the rate passes a whole number (the first one when the rate first rises above 0),
    so the count is the integral rounded up; ``poisson`` and ``bursty`` follow the rate on average.

    Attributes:
        start_rate: arrivals per ``time_unit`` at the profile's start (default 0).
        stages: the stages, each a ``Stage(duration, target)`` with the target a rate per ``time_unit``.
    """

    type: str = "ramping-arrival-rate"
    start_rate: float = number_field(0.0)
    stages: tuple[Stage, ...] = custom_field(stages_reader(read_number))

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", as_stages(self.stages))
        super().__post_init__()

    def validate(self) -> list[Problem]:
        """Open-profile problems plus the stages' (non-empty, non-negative, some time, some arrivals)."""
        problems = super().validate()
        if self.start_rate < 0:
            problems.append(("start_rate", f"must not be negative, got {self.start_rate}"))
        return problems + stage_problems(self.stages, self.start_rate, "agents")

    @property
    def duration(self) -> float:
        """The stages' total length in seconds."""
        return self._stage_timeline.duration

    @cached_property
    def _stage_timeline(self) -> Timeline:
        return Timeline(self.start_rate, self.stages)

    def _whole_rates(self) -> Timeline:
        unit = self.time_unit
        return Timeline(self.start_rate / unit, tuple(Stage(s.duration, s.target / unit) for s in self.stages))

    def describe(self) -> str:
        """E.g. ``ramping-arrival-rate: 0→20/1s over 1m, 20/1s for 5m (poisson, max 500 agents)``."""
        unit, parts, level = format_duration(self.time_unit), [], self.start_rate
        for stage in self.stages:
            span = format_duration(stage.duration)
            if stage.duration == 0:
                parts.append(f"jump to {stage.target:g}/{unit}")
            elif stage.target == level:
                parts.append(f"{stage.target:g}/{unit} for {span}")
            else:
                parts.append(f"{level:g}→{stage.target:g}/{unit} over {span}")
            level = stage.target
        return f"{self.type}: {', '.join(parts)} ({self.distribution}, max {self.max_agents} agents)"
