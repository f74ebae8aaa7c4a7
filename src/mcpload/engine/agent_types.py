"""Which agent type the next agent of a profile is: a deterministic weighted choice, the same in every
process of a split run for the same sequence of agents."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpload.scenario import AgentSpec


class TypePicker:
    """Deterministic weighted choice of agent types: always the type furthest below its share."""

    def __init__(self, specs: list[AgentSpec]) -> None:
        self.specs = specs
        total = sum(s.weight for s in specs)
        self.shares = [s.weight / total for s in specs]
        self.counts = [0] * len(specs)
        self.n = 0

    def next(self) -> AgentSpec:
        self.n += 1
        i = max(range(len(self.specs)), key=lambda k: (self.shares[k] * self.n - self.counts[k], -k))
        self.counts[i] += 1
        return self.specs[i]
