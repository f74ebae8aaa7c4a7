"""What every load profile shares (k6's ``base_config.go``) and the two families the engine runs.

* ``ClosedProfile`` (``kind == "closed"``): a number of agents wanted at each moment; an agent runs
  conversations back to back, so the load follows the target's speed.
* ``OpenProfile`` (``kind == "open"``): agent sessions that arrive on a schedule whatever the target does,
  up to ``max_agents`` at once.

Profiles are frozen dataclasses that validate themselves on construction (``ProfileError`` lists every
problem). Each concrete profile also has ``duration``: its total length in seconds, graceful stop excluded.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Self

from mcpload.profiles.arrivals import DEFAULT_CV, DISTRIBUTIONS, rescale, unit_events
from mcpload.profiles.errors import Problem, ProfileError
from mcpload.profiles.fields import choice_field, count_field, duration_field, names_field, number_field, text_field
from mcpload.profiles.segments import Segment
from mcpload.profiles.stages import Timeline

__all__ = ["BaseConfig", "ClosedProfile", "OpenProfile", "Profile", "ProfileError"]


@dataclass(frozen=True, kw_only=True)
class BaseConfig:
    """Fields shared by every profile and preset.

    Attributes:
        type: the profile type as written in the scenario (a preset keeps its own name, e.g. ``spike``).
        name: an optional label for reports.
        start: seconds after the run's start at which this profile begins.
        graceful_stop: seconds that in-flight conversations get after the profile ends before they are
            cancelled (k6's gracefulStop).
        agent_types: run only these agent types (names from the scenario); None means all of them.
    """

    type: str
    name: str | None = text_field(None)
    start: float = duration_field(0.0)
    graceful_stop: float = duration_field(10.0)
    agent_types: tuple[str, ...] | None = names_field(None)

    def __post_init__(self) -> None:
        if isinstance(self.agent_types, list):  # Python callers may pass a list; keep the object hashable
            object.__setattr__(self, "agent_types", tuple(self.agent_types))
        problems = self.validate()
        if problems:
            raise ProfileError(problems)

    def validate(self) -> list[Problem]:
        """Every problem with this configuration, each as ``(field path, message)``; [] when it can run.

        Subclasses extend the list from ``super().validate()``, so one call reports everything.
        """
        problems: list[Problem] = []
        if self.name is not None and not self.name.strip():
            problems.append(("name", "must not be empty"))
        for key in ("start", "graceful_stop"):
            if getattr(self, key) < 0:
                problems.append((key, f"must not be negative, got {getattr(self, key)}"))
        if self.agent_types is not None and not self.agent_types:
            problems.append(("agent_types", "must name at least one agent type (leave it out for all)"))
        return problems


@dataclass(frozen=True, kw_only=True)
class Profile(BaseConfig, ABC):
    """A load profile: when agents run. The engine looks at ``kind`` and never at ``type``.

    Attributes:
        segment: the share of the run this profile instance produces; the whole run unless
            ``for_segment`` made it.
    """

    kind: ClassVar[str]
    segment: Segment = field(default_factory=Segment.full)
    if TYPE_CHECKING:  # what every concrete profile has, as a field or a property

        @property
        def duration(self) -> float:
            """The profile's total length in seconds, graceful stop excluded."""
            ...

        @property
        def max_agents(self) -> int:
            """The most agents this profile (this segment's share) runs at once: a closed profile's
            highest target, an open profile's cap."""
            ...

    def for_segment(self, segment: Segment) -> Self:
        """This profile's share for one execution segment (see ``segments``); shares add up to the whole.

        Raises:
            ValueError: the profile is already a share of another segment (segments are always shares
                of the whole run, never of each other).
        """
        if segment == self.segment:
            return self
        if not self.segment.is_full:
            raise ValueError(f"profile is already the share of segment {self.segment}; split the whole profile")
        return self._with_segment(segment)

    def _with_segment(self, segment: Segment) -> Self:
        return replace(self, segment=segment)

    def describe(self) -> str:
        """A one-line human description for the console."""
        return self.type


@dataclass(frozen=True, kw_only=True)
class ClosedProfile(Profile):
    """A number of agents over time. Each agent holds one session and runs conversation after conversation.

    Besides ``duration``, closed profiles have ``graceful_ramp_down``: when the target drops, the agents
    removed may finish their current conversation within this many seconds, then are cancelled.
    """

    kind: ClassVar[str] = "closed"

    if TYPE_CHECKING:  # every concrete closed profile has it, as a field or a class constant

        @property
        def graceful_ramp_down(self) -> float:
            """Seconds an agent removed by a falling target may finish its conversation in."""
            ...

    def target_at(self, t: float) -> int:
        """Agents wanted ``t`` seconds after the profile's start: 0 before 0 and from ``duration`` on.

        For a segment, the share ``floor(n·end) − floor(n·start)`` of the whole target ``n``.
        """
        whole = self._whole_target_at(t)
        return whole if self.segment.is_full else self.segment.scale(whole)

    @property
    def max_agents(self) -> int:
        """The most agents this profile (this segment's share) asks for at once: what to pre-allocate
        (an open profile's ``max_agents`` is its cap: the same meaning, given instead of computed)."""
        return max(self.segment.max_scaled(low, high) for low, high in self._whole_ranges())

    @abstractmethod
    def _whole_target_at(self, t: float) -> int:
        """The whole run's target at ``t``."""

    @abstractmethod
    def _whole_ranges(self) -> list[tuple[int, int]]:
        """Ranges ``(low, high)`` that together hold every target the whole run asks for."""


@dataclass(frozen=True, kw_only=True)
class OpenProfile(Profile):
    """Agent sessions arriving on a schedule, each running its conversations, whatever the target's speed.

    Attributes:
        time_unit: the period that rates are given per (seconds), e.g. 60 for "per minute".
        distribution: how arrivals are spread: ``even`` (fixed gaps), ``poisson`` (independent
            arrivals) or ``bursty`` (Gamma gaps with coefficient of variation ``cv``).
        cv: the coefficient of variation of the gaps for ``bursty`` (> 1); None means 2.
        max_agents: the most agents running at once; the engine drops (and counts) arrivals beyond it.
            For a segment, its share of the whole cap.
    """

    kind: ClassVar[str] = "open"
    time_unit: float = duration_field(1.0)
    distribution: str = choice_field(DISTRIBUTIONS, "poisson")
    cv: float | None = number_field(None)
    max_agents: int = count_field(1000)

    def validate(self) -> list[Problem]:
        """Base problems plus the arrival options'."""
        problems = super().validate()
        if self.time_unit <= 0:
            problems.append(("time_unit", f"must be longer than 0s, got {self.time_unit}"))
        if self.distribution not in DISTRIBUTIONS:
            problems.append(("distribution", f"expected one of {', '.join(DISTRIBUTIONS)}, got {self.distribution!r}"))
        if self.cv is not None:
            if self.distribution != "bursty":
                problems.append(("cv", "only applies to distribution: bursty"))
            elif self.cv <= 1:
                problems.append(("cv", f"must be greater than 1 for bursty arrivals (1 is poisson), got {self.cv}"))
        # A segment's share of the cap may be 0; the whole profile's may not.
        if self.max_agents < (1 if self.segment.is_full else 0):
            problems.append(("max_agents", f"must be at least 1, got {self.max_agents}"))
        return problems

    def arrivals(self, rng: random.Random) -> Iterator[float]:
        """When new agent sessions arrive: ascending offsets in seconds since the profile's start.

        Every segment draws the whole run's sequence from ``rng`` and keeps its own arrivals, so give
        each process the same seed, and each open profile its own ``Random`` (what else draws from it
        would shift the sequence).

        Args:
            rng: the source of randomness (unused for ``even``).

        Yields:
            Offsets ``0 ≤ t < duration``.
        """
        for _, t in self.indexed_arrivals(rng):
            yield t

    def indexed_arrivals(self, rng: random.Random) -> Iterator[tuple[int, float]]:
        """``arrivals``, each with its index in the whole run's sequence (0-based): the same arrival
        has the same index in every segment, which gives its agent the same identity and generator."""
        times = rescale(self._rates, unit_events(self.distribution, self.cv or DEFAULT_CV, rng))
        if self.segment.is_full:
            yield from enumerate(times)
            return
        owns = self.segment.owns
        for index, t in enumerate(times):
            if owns(index):
                yield index, t

    def rate_at(self, t: float) -> float:
        """Requested arrivals per second at ``t`` (this segment's share), for reports; 0 outside the profile."""
        return self._rates.value_at(t) * float(self.segment.length)

    @cached_property
    def _rates(self) -> Timeline:
        return self._whole_rates()

    @abstractmethod
    def _whole_rates(self) -> Timeline:
        """The whole run's arrivals per second over time."""

    def _with_segment(self, segment: Segment) -> Self:
        return replace(self, segment=segment, max_agents=segment.scale(self.max_agents))
