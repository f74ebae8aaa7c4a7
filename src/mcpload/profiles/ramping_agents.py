"""``ramping-agents``: a number of agents that moves linearly between stage targets (k6's ramping-vus).

```yaml
type: ramping-agents
start_agents: 0
stages:
  - {duration: 30s, target: 100}   # 0 → 100 agents over 30 s
  - {duration: 30s, target: 100}   # hold
  - {duration: 10s, target: 0}     # down to 0 in 10 s
graceful_ramp_down: 30s
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from mcpload.profiles.base import ClosedProfile
from mcpload.profiles.durations import format_duration
from mcpload.profiles.errors import Problem
from mcpload.profiles.fields import count_field, custom_field, duration_field, read_count
from mcpload.profiles.stages import Stage, Timeline, as_stages, stage_problems, stages_reader

# Within a stage the count moves one agent at a time at evenly spaced instants, as k6 does; the epsilon
# keeps float error from delaying a step that falls exactly on a tick (15 s of 30 s → exactly 50 of 100).
_EPSILON = 1e-9


@dataclass(frozen=True, kw_only=True)
class RampingAgents(ClosedProfile):
    """Agents moving linearly from ``start_agents`` through each stage's target.

    Within a stage from ``a`` to ``b`` agents lasting ``d`` seconds, ``t`` seconds in, the target is
    ``a + floor((b − a)·t/d)`` going up and ``a − floor((a − b)·t/d)`` going down: the count steps by one
    agent at evenly spaced instants and reaches ``b`` when the next stage begins. A stage of duration 0
    jumps to its target.

    Attributes:
        start_agents: agents at the profile's start (default 0).
        stages: the stages, each a ``Stage(duration, target)``.
        graceful_ramp_down: seconds an agent removed by a falling target may spend finishing its current
            conversation before it is cancelled (default 30 s, as k6).
    """

    type: str = "ramping-agents"
    start_agents: int = count_field(0)
    stages: tuple[Stage, ...] = custom_field(stages_reader(read_count))
    graceful_ramp_down: float = duration_field(30.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", as_stages(self.stages))
        super().__post_init__()

    def validate(self) -> list[Problem]:
        """Base problems plus the stages' (non-empty, non-negative, whole targets, some time, some agents)."""
        problems = super().validate()
        if self.start_agents < 0:
            problems.append(("start_agents", f"must not be negative, got {self.start_agents}"))
        problems += stage_problems(self.stages, self.start_agents, "agents")
        for i, stage in enumerate(self.stages):
            if stage.target != int(stage.target):
                problems.append((f"stages[{i}].target", f"expected a whole number of agents, got {stage.target}"))
        if self.graceful_ramp_down < 0:
            problems.append(("graceful_ramp_down", f"must not be negative, got {self.graceful_ramp_down}"))
        return problems

    @property
    def duration(self) -> float:
        """The stages' total length in seconds."""
        return self._timeline.duration

    @cached_property
    def _timeline(self) -> Timeline:
        return Timeline(self.start_agents, self.stages)

    def _whole_target_at(self, t: float) -> int:
        where = self._timeline.locate(t)
        if where is None:
            return 0
        index, elapsed = where
        start = int(self._timeline.level_before(index))
        stage = self.stages[index]
        delta = int(stage.target) - start
        steps = math.floor(abs(delta) * elapsed / stage.duration + _EPSILON)
        return start + steps if delta >= 0 else start - steps

    def _whole_ranges(self) -> list[tuple[int, int]]:
        # A stage asks for its start level up to one agent short of its target: the target itself is
        # only wanted once the next stage begins (and a last stage's target never is).
        ranges = []
        for index, stage in enumerate(self.stages):
            if stage.duration > 0:
                start, target = int(self._timeline.level_before(index)), int(stage.target)
                ranges.append((start, target - 1) if target > start else (start, start))
        return ranges

    def describe(self) -> str:
        """E.g. ``ramping-agents: 0→100 over 30s, 100 for 30s, 100→0 over 10s``."""
        parts, level = [], self.start_agents
        for stage in self.stages:
            target, span = int(stage.target), format_duration(stage.duration)
            if stage.duration == 0:
                parts.append(f"jump to {target}")
            elif target == level:
                parts.append(f"{target} for {span}")
            else:
                parts.append(f"{level}→{target} over {span}")
            level = target
        return f"{self.type}: {', '.join(parts)}"
