"""Presets: common load shapes written as stage lists, so the engine only ever sees the two families.

``spike``, ``step`` and ``sawtooth`` build a ``RampingAgents`` (or, with ``mode: rate``, a
``RampingArrivalRate`` whose levels are arrivals per ``time_unit``); ``soak`` builds a ``RampingAgents``.
The built profile keeps the preset's name in ``type``.

```yaml
type: spike
baseline: 5
peak: 80
warmup: 1m
hold: 30s
```
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from mcpload.profiles.arrivals import DISTRIBUTIONS
from mcpload.profiles.base import BaseConfig, Profile
from mcpload.profiles.errors import Problem
from mcpload.profiles.fields import choice_field, count_field, duration_field, number_field
from mcpload.profiles.ramping_agents import RampingAgents
from mcpload.profiles.ramping_arrival_rate import RampingArrivalRate
from mcpload.profiles.stages import Stage

MODES = ("agents", "rate")


@dataclass(frozen=True, kw_only=True)
class Preset(BaseConfig, ABC):
    """A shorthand for a stage list; ``build()`` returns the profile the engine runs."""

    @abstractmethod
    def build(self) -> Profile:
        """The equivalent ramping profile, carrying this preset's shared fields and ``type``."""

    def _shared(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "start": self.start,
            "graceful_stop": self.graceful_stop,
            "agent_types": self.agent_types,
        }

    @staticmethod
    def _positive(problems: list[Problem], key: str, value: float) -> None:
        if value <= 0:
            problems.append((key, f"must be greater than 0, got {value}"))


@dataclass(frozen=True, kw_only=True)
class LevelPreset(Preset):
    """A preset whose levels are agents (``mode: agents``, the default) or an arrival rate (``mode: rate``).

    The options of the built profile may be given too; the rate options only with ``mode: rate``. Left
    out, they take the built profile's defaults.
    """

    mode: str = choice_field(MODES, "agents")
    graceful_ramp_down: float | None = duration_field(None)
    time_unit: float | None = duration_field(None)
    distribution: str | None = choice_field(DISTRIBUTIONS, None)
    cv: float | None = number_field(None)
    max_agents: int | None = count_field(None)

    _RATE_ONLY = ("time_unit", "distribution", "cv", "max_agents")

    @abstractmethod
    def levels(self) -> dict[str, float]:
        """The fields that hold levels, by name (whole numbers in agents mode)."""

    @abstractmethod
    def plan(self) -> tuple[float, tuple[Stage, ...]]:
        """The start level and the stages."""

    def validate(self) -> list[Problem]:
        """Base problems plus: options that do not fit the mode, fractional agent counts."""
        problems = super().validate()
        if self.mode == "agents":
            for key in self._RATE_ONLY:
                if getattr(self, key) is not None:
                    problems.append((key, "only applies with mode: rate"))
            for key, value in self.levels().items():
                if value != int(value):
                    problems.append((key, f"expected a whole number of agents, got {value}"))
        elif self.graceful_ramp_down is not None:
            problems.append(("graceful_ramp_down", "only applies with mode: agents"))
        return problems

    def build(self) -> RampingAgents | RampingArrivalRate:
        """A ``RampingAgents`` (mode agents) or ``RampingArrivalRate`` (mode rate) with this shape."""
        start, stages = self.plan()
        if self.mode == "agents":
            extra: dict[str, Any] = (
                {} if self.graceful_ramp_down is None else {"graceful_ramp_down": self.graceful_ramp_down}
            )
            stages = tuple(Stage(stage.duration, int(stage.target)) for stage in stages)
            return RampingAgents(**self._shared(), **extra, start_agents=int(start), stages=stages)
        options = {key: getattr(self, key) for key in self._RATE_ONLY if getattr(self, key) is not None}
        return RampingArrivalRate(**self._shared(), **options, start_rate=start, stages=stages)


@dataclass(frozen=True, kw_only=True)
class Spike(LevelPreset):
    """``baseline`` for ``warmup``, up to ``peak`` in ``ramp``, held for ``hold``, back down in ``ramp``,
    then ``baseline`` for ``recovery`` (to see whether the target recovers)."""

    type: str = "spike"
    baseline: float = number_field()
    peak: float = number_field()
    warmup: float = duration_field(30.0)
    ramp: float = duration_field(2.0)
    hold: float = duration_field(30.0)
    recovery: float = duration_field(30.0)

    def levels(self) -> dict[str, float]:
        """See ``LevelPreset.levels``."""
        return {"baseline": self.baseline, "peak": self.peak}

    def validate(self) -> list[Problem]:
        """Level-preset problems plus: a peak above the baseline, a hold longer than 0."""
        problems = super().validate()
        if self.peak <= self.baseline:
            problems.append(("peak", f"must be greater than baseline ({self.baseline:g}), got {self.peak:g}"))
        self._positive(problems, "hold", self.hold)
        return problems

    def plan(self) -> tuple[float, tuple[Stage, ...]]:
        """See ``LevelPreset.plan``."""
        base, peak = self.baseline, self.peak
        return base, (
            Stage(self.warmup, base),
            Stage(self.ramp, peak),
            Stage(self.hold, peak),
            Stage(self.ramp, base),
            Stage(self.recovery, base),
        )


# ``type: step``: a staircase of load levels (named StepLoad: a workflow step is ``scenario.steps.Step``)
@dataclass(frozen=True, kw_only=True)
class StepLoad(LevelPreset):
    """``steps`` levels ``initial, initial + step, …``, each reached in ``ramp`` (0 = a jump) and held for
    ``step_duration``. ``initial`` defaults to ``step``, so ``step: 10, steps: 5`` gives 10, 20, … 50."""

    type: str = "step"
    initial: float | None = number_field(None)
    step: float = number_field()
    steps: int = count_field()
    step_duration: float = duration_field()
    ramp: float = duration_field(0.0)

    def levels(self) -> dict[str, float]:
        """See ``LevelPreset.levels``."""
        return {"initial": self._initial, "step": self.step}

    @property
    def _initial(self) -> float:
        return self.step if self.initial is None else self.initial

    def validate(self) -> list[Problem]:
        """Level-preset problems plus: a positive step, at least one step, a positive step duration."""
        problems = super().validate()
        self._positive(problems, "step", self.step)
        if self.steps < 1:
            problems.append(("steps", f"must be at least 1, got {self.steps}"))
        self._positive(problems, "step_duration", self.step_duration)
        return problems

    def plan(self) -> tuple[float, tuple[Stage, ...]]:
        """See ``LevelPreset.plan``."""
        stages: list[Stage] = []
        for j in range(self.steps):
            level = self._initial + j * self.step
            stages += [Stage(self.ramp, level), Stage(self.step_duration, level)]
        return 0.0, tuple(stages)


@dataclass(frozen=True, kw_only=True)
class Sawtooth(LevelPreset):
    """``cycles`` times: rise linearly from ``low`` to ``high`` over ``period``, then drop back to ``low``."""

    type: str = "sawtooth"
    low: float = number_field(0.0)
    high: float = number_field()
    period: float = duration_field()
    cycles: int = count_field(1)

    def levels(self) -> dict[str, float]:
        """See ``LevelPreset.levels``."""
        return {"low": self.low, "high": self.high}

    def validate(self) -> list[Problem]:
        """Level-preset problems plus: high above low, a positive period, at least one cycle."""
        problems = super().validate()
        if self.high <= self.low:
            problems.append(("high", f"must be greater than low ({self.low:g}), got {self.high:g}"))
        self._positive(problems, "period", self.period)
        if self.cycles < 1:
            problems.append(("cycles", f"must be at least 1, got {self.cycles}"))
        return problems

    def plan(self) -> tuple[float, tuple[Stage, ...]]:
        """See ``LevelPreset.plan``."""
        one = (Stage(self.period, self.high), Stage(0.0, self.low))
        return self.low, one * self.cycles


@dataclass(frozen=True, kw_only=True)
class Soak(Preset):
    """Up to ``agents`` in ``ramp_up``, held for ``duration`` (hours, typically), down to 0 in ``ramp_down``."""

    type: str = "soak"
    agents: int = count_field()
    ramp_up: float = duration_field(60.0)
    duration: float = duration_field()
    ramp_down: float = duration_field(60.0)
    graceful_ramp_down: float | None = duration_field(None)

    def validate(self) -> list[Problem]:
        """Base problems plus: at least one agent, a positive duration."""
        problems = super().validate()
        if self.agents < 1:
            problems.append(("agents", f"must be at least 1, got {self.agents}"))
        self._positive(problems, "duration", self.duration)
        return problems

    def build(self) -> RampingAgents:
        """The ramping-agents profile: ramp up, hold, ramp down."""
        extra: dict[str, Any] = (
            {} if self.graceful_ramp_down is None else {"graceful_ramp_down": self.graceful_ramp_down}
        )
        stages = (Stage(self.ramp_up, self.agents), Stage(self.duration, self.agents), Stage(self.ramp_down, 0))
        return RampingAgents(**self._shared(), **extra, start_agents=0, stages=stages)
