"""What a run would do, worked out from the scenario alone (``mcpload run --dry-run``, the notice before a
run against a host that is not loopback): agents per type, peak agents and arrival rate, expected calls
per second from the workflows' think times and idle gaps, duration.

Expected rates leave out the server's latency (unknown before the run), so they are upper bounds: a
slow server stretches each conversation and lowers them. Python agents have no workflow to read: their
calls are unknown and left out (said in the plan).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mcpload.scenario.steps import Call, Choice, Parallel, Repeat, Request, Think

GRID = 2000  # points per run at which the profiles' levels are read (plus every stage boundary)


@dataclass(frozen=True)
class Workload:
    """One conversation of an agent type, in expectation."""

    calls: float  # tools/call requests
    requests: float  # every MCP request (calls included)
    think_s: float  # the think time, summed along the longest branch of each parallel step
    idle_s: float  # the gap before the next conversation

    @property
    def cycle_s(self) -> float:
        return self.think_s + self.idle_s


@dataclass
class Plan:
    duration_s: float
    peak_agents: int  # closed agents at the peak, plus the open profiles' concurrent-agent estimate
    peak_arrival_rate: float  # new sessions per second at the peak (open profiles)
    peak_calls_per_s: float | None  # None: unbounded (no think or idle time) or unknown
    mean_calls_per_s: float | None
    agents_per_type: dict[str, int] = field(default_factory=dict)  # at the peak of agents
    workloads: dict[str, Workload] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def workload(spec: Any) -> Workload | None:
    """The expected calls and think time of one conversation; None for a Python agent."""
    if getattr(spec, "scripted", False):
        return None
    calls, requests, think = _steps(spec.workflow)
    idle = spec.idle.mean() if spec.idle is not None else 0.0
    return Workload(calls, requests, think, idle)


def _steps(steps: Any) -> tuple[float, float, float]:
    calls = requests = think = 0.0
    for step in steps:
        c, r, t = _step(step)
        calls, requests, think = calls + c, requests + r, think + t
    return calls, requests, think


def _step(step: Any) -> tuple[float, float, float]:
    if isinstance(step, Call):
        return 1.0, 1.0, 0.0
    if isinstance(step, Request):
        return 0.0, 1.0, 0.0
    if isinstance(step, Think):
        return 0.0, 0.0, step.duration.mean()
    if isinstance(step, Parallel):
        parts = [_step(s) for s in step.steps]
        return sum(p[0] for p in parts), sum(p[1] for p in parts), max((p[2] for p in parts), default=0.0)
    if isinstance(step, Repeat):
        n = step.count.mean()
        c, r, t = _steps(step.steps)
        return n * c, n * r, n * t
    if isinstance(step, Choice):
        total = sum(b.weight for b in step.branches) or 1.0
        weighted = [(b.weight / total, _steps(b.steps)) for b in step.branches]
        return (
            sum(w * p[0] for w, p in weighted),
            sum(w * p[1] for w, p in weighted),
            sum(w * p[2] for w, p in weighted),
        )
    return 0.0, 0.0, 0.0


def _specs(scenario: Any, profile: Any) -> list[Any]:
    names = getattr(profile, "agent_types", None)
    specs = list(scenario.agents.values())
    return [s for s in specs if s.name in names] if names else specs


def _split(total: int, specs: list[Any]) -> dict[str, int]:
    """``total`` agents over the types by weight (largest remainders, as the engine's picker converges)."""
    weights = sum(s.weight for s in specs) or 1.0
    exact = [(s.name, total * s.weight / weights) for s in specs]
    counts = {name: math.floor(x) for name, x in exact}
    left = total - sum(counts.values())
    for name, _ in sorted(exact, key=lambda e: e[1] - math.floor(e[1]), reverse=True)[:left]:
        counts[name] += 1
    return counts


def _times(scenario: Any, duration: float) -> list[float]:
    points = {duration * i / GRID for i in range(GRID)}
    for profile in scenario.profiles:
        stages = getattr(profile, "stages", None) or ()
        t = profile.start
        points.add(t)
        for stage in stages:
            t += getattr(stage, "duration", 0.0)
            points.update((t - 1e-9, t))
    return sorted(p for p in points if 0 <= p < duration)


def plan(scenario: Any) -> Plan:
    """The plan of ``scenario`` (a loaded ``Scenario``)."""
    duration = max((p.start + p.duration for p in scenario.profiles), default=0.0)
    loads = {name: workload(spec) for name, spec in scenario.agents.items()}
    notes: list[str] = []
    if any(w is None for w in loads.values()):
        notes.append("Python agents: their calls are not known before the run and are left out of calls/s")
    unbounded = [n for n, w in loads.items() if w is not None and w.calls > 0 and w.cycle_s <= 0]
    if unbounded:
        notes.append(f"{', '.join(unbounded)}: no think or idle time, calls/s bounded only by the server's latency")

    def rate_per_agent(name: str) -> float:
        w = loads[name]
        return 0.0 if w is None or w.cycle_s <= 0 else w.calls / w.cycle_s

    peak_agents, peak_split = -1.0, {}  # at the peak of agents
    peak_rate = peak_calls = 0.0
    calls_sum, samples = 0.0, 0
    for t in _times(scenario, duration):
        agents, rate, calls = 0.0, 0.0, 0.0
        per_type: dict[str, int] = {}
        for profile in scenario.profiles:
            at = t - profile.start
            specs = _specs(scenario, profile)
            if not 0 <= at < profile.duration or not specs:
                continue
            if profile.kind == "closed":
                n = profile.target_at(at)
                split = _split(n, specs)
                calls += sum(k * rate_per_agent(name) for name, k in split.items())
            else:
                r = profile.rate_at(at)  # arrivals per second
                rate += r
                weights = sum(s.weight for s in specs) or 1.0
                per_conv = [(s, s.weight / weights, loads[s.name]) for s in specs]
                calls += r * sum(share * (w.calls if w else 0.0) for _, share, w in per_conv)
                live = r * sum(share * (w.think_s if w else 0.0) for _, share, w in per_conv)
                n = min(profile.max_agents, math.ceil(live))
                split = _split(n, specs)
            agents += n
            for name, k in split.items():
                per_type[name] = per_type.get(name, 0) + k
        if agents > peak_agents:
            peak_agents, peak_split = agents, per_type
        peak_rate, peak_calls = max(peak_rate, rate), max(peak_calls, calls)
        calls_sum, samples = calls_sum + calls, samples + 1
    known = not unbounded
    return Plan(
        duration_s=duration,
        peak_agents=int(max(peak_agents, 0)),
        peak_arrival_rate=peak_rate,
        peak_calls_per_s=peak_calls if known else None,
        mean_calls_per_s=(calls_sum / samples if samples else 0.0) if known else None,
        agents_per_type={name: peak_split.get(name, 0) for name in scenario.agents},
        workloads={name: w for name, w in loads.items() if w is not None},
        profiles=[_describe(p) for p in scenario.profiles],
        notes=notes,
    )


def _describe(profile: Any) -> str:
    text = profile.describe()
    return text if not profile.start else f"{text} (from {profile.start:g}s)"
