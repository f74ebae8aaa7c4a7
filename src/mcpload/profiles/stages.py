"""Stages: a level (agents or a rate) that moves linearly from one target to the next, as in k6.

Stage ``i`` covers ``[starts[i], starts[i] + duration)`` and moves the level from the previous target (or
the profile's start level) to its own target. A stage of duration 0 covers no time: the level jumps.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpload.profiles.errors import ProfileError
from mcpload.profiles.fields import Reader, read_duration
from mcpload.suggest import did_you_mean

_KEYS = ("duration", "target")


@dataclass(frozen=True)
class Stage:
    """Move the level to ``target`` over ``duration`` seconds.

    Attributes:
        duration: seconds, ≥ 0; 0 means jump.
        target: the level at the end of the stage (agents for closed profiles, a rate for open ones).
    """

    duration: float
    target: float


def as_stages(items: Iterable[Stage | tuple[float, float]]) -> tuple[Stage, ...]:
    """Accept ``Stage`` objects or ``(duration, target)`` pairs from Python callers."""
    return tuple(item if isinstance(item, Stage) else Stage(*item) for item in items)


def stages_reader(read_target: Reader) -> Reader:
    """A reader for a list of ``{duration, target}`` mappings whose targets ``read_target`` checks."""

    def read(value: Any, path: str) -> tuple[Stage, ...]:
        if not isinstance(value, list):
            raise ProfileError([(path, f"expected a list of {{duration, target}} stages, got {value!r}")])
        if not value:
            raise ProfileError([(path, "at least one stage is required")])
        problems, stages = [], []
        for i, item in enumerate(value):
            here = f"{path}[{i}]"
            if not isinstance(item, Mapping):
                problems.append((here, f"expected a mapping with duration and target, got {item!r}"))
                continue
            for key in item:
                if key not in _KEYS:
                    problems.append((f"{here}.{key}", f"unknown field{did_you_mean(str(key), _KEYS)}"))
            parts = {}
            for key, reader in (("duration", read_duration), ("target", read_target)):
                if key not in item:
                    problems.append((f"{here}.{key}", "missing"))
                    continue
                try:
                    parts[key] = reader(item[key], f"{here}.{key}")
                except ProfileError as exc:
                    problems.extend(exc.problems)
            if len(parts) == 2:
                stages.append(Stage(**parts))
        if problems:
            raise ProfileError(problems)
        return tuple(stages)

    return read


def stage_problems(stages: tuple[Stage, ...], start_level: float, unit: str) -> list[tuple[str, str]]:
    """The problems shared by every stage list: empty, negative values, no time, never above zero."""
    if not stages:
        return [("stages", "at least one stage is required")]
    problems = []
    for i, stage in enumerate(stages):
        if stage.duration < 0:
            problems.append((f"stages[{i}].duration", f"must not be negative, got {stage.duration}"))
        if stage.target < 0:
            problems.append((f"stages[{i}].target", f"must not be negative, got {stage.target}"))
    if sum(stage.duration for stage in stages) <= 0:
        problems.append(("stages", "the stages must last longer than 0s in total"))
    if start_level <= 0 and all(stage.target <= 0 for stage in stages):
        problems.append(("stages", f"every target is 0, so no {unit} would ever run"))
    return problems


class Timeline:
    """Where a level stands at any time: the stage in progress and how far into it.

    Args:
        start_level: the level at t = 0.
        stages: the stages, in order.
    """

    def __init__(self, start_level: float, stages: tuple[Stage, ...]) -> None:
        self.start_level = start_level
        self.stages = stages
        self.starts: list[float] = []
        t = 0.0
        for stage in stages:
            self.starts.append(t)
            t += stage.duration
        self.duration = t

    def level_before(self, index: int) -> float:
        """The level at the start of stage ``index``: the previous target, or the start level."""
        return self.stages[index - 1].target if index > 0 else self.start_level

    def locate(self, t: float) -> tuple[int, float] | None:
        """The stage covering ``t`` and the seconds since it began, or None outside ``[0, duration)``."""
        if not 0 <= t < self.duration:
            return None
        # bisect_right picks the last stage starting at or before t, which skips zero-length stages
        # sharing a start with the next one: their jump has already happened at t.
        index = bisect_right(self.starts, t) - 1
        return index, t - self.starts[index]

    def value_at(self, t: float) -> float:
        """The level at ``t``, interpolated linearly; 0 outside ``[0, duration)``."""
        where = self.locate(t)
        if where is None:
            return 0.0
        index, elapsed = where
        start, stage = self.level_before(index), self.stages[index]
        return start + (stage.target - start) * elapsed / stage.duration
