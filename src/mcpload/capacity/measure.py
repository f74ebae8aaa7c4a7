"""Running one capacity step: the scenario's agent mix under one constant load (agents, or a session
arrival rate), warm-up discarded, the window after it judged against the SLOs and the guards."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpload.capacity.probe import WindowProbe
from mcpload.capacity.settings import AGENTS, LATE_P99_MS, Settings
from mcpload.capacity.slo import Slo, calls_to_decide, error_budgets, evaluate
from mcpload.engine.execute import run_scenario
from mcpload.engine.preflight import PreflightError
from mcpload.metrics.confidence import wilson
from mcpload.profiles import parse_profiles

if TYPE_CHECKING:
    from mcpload.engine.runner import RunReport
    from mcpload.mcp.connect import Target
    from mcpload.scenario.model import Scenario

PASS, FAIL, GENERATOR_BOUND, INTERRUPTED = "pass", "fail", "generator-bound", "interrupted"
INCONCLUSIVE = "inconclusive"  # a rate SLO's confidence interval straddles its limit, even stretched
MAX_STRETCH = 5.0  # a step is stretched to reach --min-calls, up to this × --step-duration


def profile_for(settings: Settings, load: float, duration_s: float, start_s: float = 0.0) -> dict[str, Any]:
    """The constant profile of one load: ``load`` agents, or ``load`` sessions arriving per second."""
    common = {"duration": f"{duration_s:.3f}s", "start": f"{start_s:.3f}s", "graceful_stop": "0s"}
    if settings.by == AGENTS:
        return {"type": "constant-agents", "agents": int(load), **common}
    return {
        "type": "agent-arrival-rate",
        "rate": load,
        "distribution": "poisson",
        "max_agents": settings.max_agents,
        **common,
    }


def with_profiles(scenario: Scenario, profiles: list[dict[str, Any]], where: str) -> Scenario:
    """The scenario with its profiles replaced and its thresholds dropped (the SLOs judge instead)."""
    return dataclasses.replace(scenario, profiles=tuple(parse_profiles(profiles, where)), thresholds=())


class StepRunner:
    """Measures loads one at a time (``await runner(load, phase)`` → the step dict).

    Args:
        scenario: the scenario whose agent mix is driven.
        target: the target (transport and protocol overrides applied), or None for the scenario's.
        settings: the search settings.
        slos: the objectives.
        seed: the run seed (every step uses it).
        annotators: a factory of per-run annotators (resource monitoring), or None.
    """

    def __init__(
        self,
        scenario: Scenario,
        target: Target | None,
        settings: Settings,
        slos: tuple[Slo, ...],
        seed: int | None = None,
        annotators: Callable[[], list[Any]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.target = target
        self.settings = settings
        self.slos = slos
        self.seed = seed
        self.annotators = annotators
        self.results: dict[float, dict[str, Any]] = {}  # load -> results document of its step
        self.calls_per_unit: float | None = None  # calls/s per unit of load, learnt as steps pass
        self.baseline_error = 0.0  # the error rate at the lowest load: the server's, not the load's

    async def run(self, profiles: list[dict[str, Any]], probe: WindowProbe, where: str) -> RunReport:
        """One run of ``profiles`` with ``probe``; returns the ``RunReport``."""
        return await run_scenario(
            with_profiles(self.scenario, profiles, where),
            target=self.target,
            seed=self.seed,
            outputs=[probe],
            annotators=self.annotators() if self.annotators else None,
            handle_signals=True,
        )

    def _measure_s(self, load: float) -> float:
        s = self.settings
        if not self.calls_per_unit or not s.min_calls:
            return s.step_s
        expected = self.calls_per_unit * load
        return min(max(s.step_s, 1.2 * s.min_calls / expected), MAX_STRETCH * s.step_s)

    async def __call__(self, load: float, phase: str) -> dict[str, Any]:
        measure_s = self._measure_s(load)
        step = await self._once(load, phase, measure_s)
        short = step["verdict"] in (PASS, INCONCLUSIVE) and not step["enough_calls"]
        # the baseline measures an error rate; it does not need to decide the SLOs
        undecided = step["verdict"] == INCONCLUSIVE and phase != "baseline"
        if (short or undecided) and measure_s < MAX_STRETCH * self.settings.step_s:
            # too few calls for the percentiles to mean much, or for a rate SLO to be decided either
            # way: once more, long enough this time (undecided: as long as a step may be)
            rate = step["calls_per_s"] or 0.0
            longer = MAX_STRETCH * self.settings.step_s
            needed = self._calls_to_decide(step) if undecided else self.settings.min_calls
            if rate > 0 and needed is not None:
                longer = min(max(measure_s * 1.5, 1.2 * needed / rate), longer)
            step = await self._once(load, phase, longer)
        if step["verdict"] == PASS and step["calls_per_s"]:
            self.calls_per_unit = step["calls_per_s"] / load
        return step

    async def _once(self, load: float, phase: str, measure_s: float) -> dict[str, Any]:
        s = self.settings
        probe = WindowProbe(s.warmup_s)
        profile = profile_for(s, load, s.warmup_s + measure_s)
        try:
            report = await self.run([profile], probe, f"capacity step {load:g}")
        except PreflightError as exc:
            if not self.results:
                raise  # before the first step: the target is not there at all
            return self._unreachable(load, phase, str(exc))
        results = report.results
        self.results[load] = results
        window = probe.window(results)
        checks = evaluate(self.slos, window, self.baseline_error)
        passed = all(c["passed"] for c in checks)
        undecided = not passed and all(c["verdict"] != FAIL for c in checks)
        step: dict[str, Any] = {
            "load": load,
            "phase": phase,
            **window,
            "success_rate": window["ok"] / window["calls"] if window["calls"] else None,
            "slos": checks,
            "enough_calls": window["calls"] >= s.min_calls,
            "generator_cpu": None if probe.cpu_share is None else round(probe.cpu_share, 3),
        }
        arrivals = results.get("arrivals")
        if arrivals:
            step["arrivals"] = {k: arrivals.get(k) for k in ("scheduled", "started", "dropped", "late_p99_ms")}
        resources = results.get("resources")
        if resources:
            summary = resources.get("summary", {})
            step["resources"] = {
                "cpu_percent_mean": summary.get("cpu_percent", {}).get("mean"),
                "cpu_percent_peak": summary.get("cpu_percent", {}).get("peak"),
                "rss_bytes_peak": summary.get("rss_bytes", {}).get("peak"),
            }
        step["verdict"], step["guard"] = self._verdict(passed, probe, arrivals, report.interrupted)
        if step["verdict"] == FAIL and undecided:
            step["verdict"] = INCONCLUSIVE
        return step

    def _calls_to_decide(self, step: dict[str, Any]) -> float | None:
        budgets = error_budgets(self.slos)
        needed = [n for c in step["slos"] if (n := calls_to_decide(c, budgets)) is not None]
        return max(needed) if needed else None

    async def baseline(self, load: float) -> dict[str, Any]:
        """Measure the lowest load (phase ``baseline``): errors already there are the server's. Sets
        ``baseline_error`` (its error rate when its 95 % interval is above 0) for the rate SLOs of
        every later step, and returns the step with a ``baseline`` summary."""
        step = await self(load, "baseline")
        calls, failed = step.get("calls") or 0, step.get("failed") or 0
        low, high = wilson(failed, calls) or (0.0, 1.0)
        rate = failed / calls if calls else None
        if rate is not None and low > 0:
            self.baseline_error = rate
        step["baseline"] = {
            "load": load,
            "calls": calls,
            "failed": failed,
            "error_rate": None if rate is None else round(rate, 6),
            "interval": [round(low, 6), round(high, 6)],
            "p95_ms": (step.get("latency_ms") or {}).get("p95"),
            "applied": self.baseline_error > 0,
        }
        return step

    def _unreachable(self, load: float, phase: str, message: str) -> dict[str, Any]:
        """A step whose preflight failed: the server stopped answering after an earlier step."""
        checks = evaluate(self.slos, {"calls": 0, "ok": 0})
        return {
            "load": load,
            "phase": phase,
            "calls": 0,
            "ok": 0,
            "failed": 0,
            "errors": {},
            "calls_per_s": None,
            "latency_ms": None,
            "success_rate": None,
            "slos": checks,
            "enough_calls": False,
            "unreachable": message,
            "verdict": FAIL,
            "guard": None,
        }

    def _verdict(
        self, passed: bool, probe: WindowProbe, arrivals: dict[str, Any] | None, interrupted: bool
    ) -> tuple[str, str | None]:
        """(verdict, why the generator guard tripped or None)."""
        if interrupted:
            return INTERRUPTED, None
        cpu = probe.cpu_share
        if cpu is not None and cpu >= self.settings.guard_cpu:
            return GENERATOR_BOUND, (
                f"mcpload used {100 * cpu:.0f}% of a core (limit {100 * self.settings.guard_cpu:g}%): "
                "the load generator, not the server, limits this step"
            )
        if arrivals:
            late = arrivals.get("late_p99_ms")
            if late is not None and late > LATE_P99_MS:
                return GENERATOR_BOUND, f"arrivals started {late:.0f} ms late (p99): the generator lags its schedule"
            if arrivals.get("dropped") and passed:
                return GENERATOR_BOUND, (
                    f"{arrivals['dropped']} arrivals dropped at --max-agents {self.settings.max_agents} while the "
                    "SLOs held: raise --max-agents"
                )
        return (PASS if passed else FAIL), None
