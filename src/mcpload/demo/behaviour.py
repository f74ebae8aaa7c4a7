"""Latency and failure behaviour of the demo server's tools, read from flags or environment.

Kept apart from the server so it can be tested without the SDK and reused by other stubs.
Spec strings: ``"40"`` (lognormal, median 40 ms, sigma 0.5), ``"search_docs=120,get_doc=15"`` for
per-tool medians; failure rates ``"0.01"`` or ``"send_message=0.05"``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

DEFAULT_SIGMA = 0.5


class SpecError(ValueError):
    """A latency or failure spec string that does not parse."""


def _parse_map(spec: str, what: str) -> tuple[float | None, dict[str, float]]:
    default: float | None = None
    per_tool: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise SpecError(f"{what}: {part!r} is not a number (expected NAME=VALUE or VALUE)") from None
        if not math.isfinite(number) or number > 1e9:
            raise SpecError(f"{what}: {part!r} must be a finite number (at most 1e9)")
        if number < 0:
            raise SpecError(f"{what}: {part!r} must not be negative")
        if sep:
            per_tool[name.strip()] = number
        else:
            default = number
    return default, per_tool


@dataclass
class Behaviour:
    """Per-tool latency (lognormal around a median, in ms) and failure probability."""

    latency_ms: float = 20.0
    tool_latency_ms: dict[str, float] = field(default_factory=dict)
    sigma: float = DEFAULT_SIGMA
    failure_rate: float = 0.0
    tool_failure_rate: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_specs(
        cls, latency: str = "", failures: str = "", seed: int | None = None, sigma: float = DEFAULT_SIGMA
    ) -> Behaviour:
        """Parse the flag strings; ``sigma`` 0 makes every latency exactly its median."""
        if sigma < 0:
            raise SpecError(f"latency sigma: {sigma} must not be negative")
        lat_default, lat_tools = _parse_map(latency, "latency")
        fail_default, fail_tools = _parse_map(failures, "failure rate")
        for name, p in [("*", fail_default or 0.0), *fail_tools.items()]:
            if p > 1:
                raise SpecError(f"failure rate: {name}={p} is above 1")
        return cls(
            latency_ms=20.0 if lat_default is None else lat_default,
            tool_latency_ms=lat_tools,
            failure_rate=fail_default or 0.0,
            tool_failure_rate=fail_tools,
            sigma=sigma,
            rng=random.Random(seed),
        )

    def delay_s(self, tool: str) -> float:
        median = self.tool_latency_ms.get(tool, self.latency_ms)
        if median <= 0:
            return 0.0
        if self.sigma == 0:
            return median / 1000.0
        return median * math.exp(self.rng.gauss(0.0, self.sigma)) / 1000.0

    def fails(self, tool: str) -> bool:
        p = self.tool_failure_rate.get(tool, self.failure_rate)
        return p > 0 and self.rng.random() < p
