"""Settings of a capacity search: what load means (agents or arrival rate), how it grows, how long
each step lasts, when the bisection stops, and the guards."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mcpload.inputs import MAX_COUNT, MAX_RATE
from mcpload.profiles.durations import DurationError, parse_duration

AGENTS, RATE = "agents", "rate"
UNITS = {AGENTS: "agents", RATE: "sessions/s"}
GUARD_CPU = 0.9  # mcpload's own CPU (share of one core) over a step above which it is the bottleneck
LATE_P99_MS = 100.0  # rate mode: arrivals starting later than this (p99) mean the generator lags
KNEE_FACTOR = 1.5  # the knee: the first load whose p95 exceeds this × the lowest load's p95
RECOVERY_HOLD = 3  # consecutive passing intervals that count as "the SLOs hold again"


@dataclass(frozen=True)
class Growth:
    """How the load grows between ramp steps: ``x2`` (multiply) or ``+5`` / ``5`` (add)."""

    factor: float = 2.0
    add: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Growth:
        raw = text.strip().lower()
        m = re.fullmatch(r"(?:x\s*([0-9.]+)|([0-9.]+)\s*x|\+?\s*([0-9.]+))", raw)
        try:
            if m and (m.group(1) or m.group(2)):
                factor = float(m.group(1) or m.group(2))
                if factor <= 1:
                    raise ValueError
                return cls(factor=factor)
            if m and m.group(3):
                add = float(m.group(3))
                if add <= 0:
                    raise ValueError
                return cls(factor=1.0, add=add)
        except ValueError:
            pass
        raise ValueError(f"--step {text!r}: expected a multiplier above 1 ('x2', '1.5x') or an increment ('+5', '5')")

    def next(self, load: float, integer: bool) -> float:
        grown = load * self.factor + self.add
        return max(load + 1, math.ceil(grown)) if integer else grown

    def describe(self) -> str:
        return f"x{self.factor:g}" if self.add == 0 else f"+{self.add:g}"


@dataclass(frozen=True)
class Resolution:
    """When the bisection stops: the gap between passing and failing load is at most ``absolute``,
    or at most ``relative`` × the passing load (``"10%"``)."""

    absolute: float | None = None
    relative: float | None = 0.1

    @classmethod
    def parse(cls, text: str) -> Resolution:
        raw = text.strip()
        try:
            if raw.endswith("%"):
                value = float(raw[:-1]) / 100
                if not 0 < value <= 1e9:  # NaN fails too
                    raise ValueError
                return cls(relative=value)
            value = float(raw)
            if not 0 < value <= 1e9:
                raise ValueError
            return cls(absolute=value, relative=None)
        except ValueError:
            raise ValueError(f"--resolution {text!r}: expected a load ('2') or a share of it ('10%')") from None

    def done(self, low: float, high: float, integer: bool) -> bool:
        gap = high - low
        if integer and gap <= 1:
            return True
        if self.absolute is not None:
            return gap <= self.absolute
        return gap <= (self.relative or 0.0) * (low if low > 0 else high)

    def describe(self) -> str:
        return f"{self.absolute:g}" if self.absolute is not None else f"{100 * (self.relative or 0):g}%"


@dataclass(frozen=True)
class Settings:
    """Every knob of the search (the ``mcpload capacity`` options)."""

    by: str = AGENTS
    start: float = 1.0
    growth: Growth = Growth()
    step_s: float = 10.0  # measured part of a step
    warmup_s: float = 5.0  # before it, discarded
    min_calls: int = 200
    resolution: Resolution = Resolution()
    max_load: float = 10_000.0
    recovery_timeout_s: float = 30.0
    max_agents: int = 1000  # rate mode: sessions running at once
    guard_cpu: float = GUARD_CPU

    def __post_init__(self) -> None:
        if self.by not in UNITS:
            raise ValueError(f"--by {self.by!r}: use agents or rate")
        if self.start <= 0:
            raise ValueError(f"--start {self.start:g}: must be positive")
        if self.by == AGENTS and self.start != int(self.start):
            raise ValueError(f"--start {self.start:g}: agents come whole")
        if self.step_s <= 0:
            raise ValueError("--step-duration must be positive")
        if self.warmup_s < 0 or self.recovery_timeout_s < 0:
            raise ValueError("--warmup and --recovery-timeout must not be negative")
        if self.min_calls < 0 or self.max_agents < 1:
            raise ValueError("--min-calls must not be negative and --max-agents must be at least 1")
        if self.max_agents > MAX_COUNT or self.max_load > MAX_RATE or self.min_calls > MAX_COUNT:
            raise ValueError(
                f"--max-agents, --max-load and --min-calls go up to {MAX_COUNT:,} (got {self.max_agents:,}, "
                f"{self.max_load:g}, {self.min_calls:,})"
            )
        if self.max_load < self.start:
            raise ValueError(f"--max-load {self.max_load:g}: below --start {self.start:g}")

    @property
    def integer(self) -> bool:
        return self.by == AGENTS

    @property
    def unit(self) -> str:
        return UNITS[self.by]

    def describe(self) -> dict[str, object]:
        return {
            "by": self.by,
            "unit": self.unit,
            "start": self.start,
            "step": self.growth.describe(),
            "step_duration_s": self.step_s,
            "warmup_s": self.warmup_s,
            "min_calls": self.min_calls,
            "resolution": self.resolution.describe(),
            "max_load": self.max_load,
            "recovery_timeout_s": self.recovery_timeout_s,
            "max_agents": self.max_agents if self.by == RATE else None,
            "generator_cpu_limit": self.guard_cpu,
        }


def seconds(text: str, option: str) -> float:
    """A duration option (``10s``, ``1m``) in seconds; ValueError with a one-line message."""
    try:
        return parse_duration(text, option)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
