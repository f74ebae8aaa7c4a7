"""The runner: the clock and the metrics of a run. It starts a load (``LocalLoad``: agents in this process;
``distributed.RemoteLoad``: worker processes or Ray actors), cuts an interval once a second, evaluates
thresholds, feeds the outputs, stops gracefully (retire → grace period → cancel as ``interrupted``) and
builds the results."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from mcpload.engine.load import Load
from mcpload.engine.looplag import LoopLag
from mcpload.engine.watchdog import Watchdog
from mcpload.findings import analyze as analyze_findings
from mcpload.findings.base import generator_bound
from mcpload.metrics import (
    IntervalSpool,
    IntervalWriter,
    Recorder,
    build_results,
    evaluate,
    percentiles_needed,
    should_abort,
)
from mcpload.redaction import redact_all

_clock = time.perf_counter


if TYPE_CHECKING:
    from mcpload.outputs.base import Output
    from mcpload.scenario import Scenario


class Annotator(Protocol):
    """Adds fields (resource samples, the canary's figures) to each interval before it is written, and
    to the results before any output sees them."""

    def annotate_interval(self, interval: dict[str, Any]) -> None: ...

    def annotate_results(self, results: dict[str, Any]) -> None: ...


@dataclass
class RunOptions:
    seed: int = 0
    intervals_path: str | None = None
    on_interval: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()  # redacted from the results (and so from every output)
    outputs: list[Output] = field(default_factory=list)
    # objects that add fields (resource samples) to each interval before it is written, and to the
    # results before any output; those with ``async drain(cut)`` are awaited together once the load is
    # over (its sessions closed), before the results are built: the monitor samples the target on, the
    # canary stops (``cut`` is set on Ctrl-C)
    annotators: list[Annotator] = field(default_factory=list)
    # keep each interval's exact recorder state (``state``) in the intervals and the results, so that
    # ``mcpload merge`` can combine the segments of a split run exactly
    keep_states: bool = False
    # ``engine.watchdog.Watchdog``: told when the load should have ended (``end_s`` after the start), so
    # that it can break an agent that stalls the event loop past it
    watchdog: Watchdog | None = None
    end_s: float | None = None


@dataclass
class RunReport:
    results: dict[str, Any]
    aborted_by: str | None = None
    interrupted: bool = False

    @property
    def thresholds_passed(self) -> bool:
        return all(t["passed"] for t in self.results.get("thresholds", []))


class Runner:
    """Runs one load against the clock.

    Args:
        scenario: the scenario (its thresholds, options, price).
        load: the agents (``engine.load.Load``: ``LocalLoad`` here, worker processes or Ray actors
            in ``mcpload.distributed``).
        recorder: the run's recorder. When the load records elsewhere (a staging recorder fed by
            workers, or a segment that keeps its states), each cut drains the load's recorder into it.
        options: the rest.
    """

    def __init__(self, scenario: Scenario, load: Load, recorder: Recorder, options: RunOptions) -> None:
        self.scenario = scenario
        self.load = load
        self.recorder = recorder
        self.options = options
        self.t0 = 0.0
        self.aborted_by: str | None = None
        self.interrupted = False
        # Every interval, for the results: spooled to an unlinked temporary file, as memory that grew
        # with the run's length was the soak's RSS growth (see IntervalSpool)
        self._intervals = IntervalSpool()
        self._writer: IntervalWriter | None = None
        self._percentiles = percentiles_needed(scenario.thresholds)
        self._lag = LoopLag()  # mcpload's own event-loop lag, into every interval (findings: generator-bound)
        self._drain_cut = asyncio.Event()  # set by Ctrl-C: no drain (or no more of it)

    # public
    def interrupt(self) -> None:
        """Ctrl-C: stop the profiles now, in-flight work gets the grace period; a second Ctrl-C
        cancels everything at once. Either ends the drain after the load."""
        self._drain_cut.set()
        if self.interrupted:
            self.load.cancel_all()
            return
        self.interrupted = True
        self.load.stop()

    async def run(self) -> RunReport:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        # redacted before anything sees it: the server's info may echo a credential back
        meta = redact_all({"started_at": started_at, **self.options.meta}, self.options.secrets)
        if self.options.intervals_path:
            self._writer = IntervalWriter(self.options.intervals_path, meta)
        for output in self.options.outputs:
            output.start(meta, self.recorder)
        self.t0 = _clock()
        self.load.begin(self.t0)
        self._lag.start()
        ticker = asyncio.ensure_future(self._tick())
        watchdog = self.options.watchdog
        if watchdog is not None and self.options.end_s is not None:
            watchdog.due_at(self.t0 + self.options.end_s)
        try:
            await self.load.wait()
        finally:
            ticker.cancel()
            if watchdog is not None:
                watchdog.due_at(None)  # building the results may take long: that is no stall
            self._lag.stop()
        duration = _clock() - self.t0
        self._cut_interval()
        final = self._snapshot()
        # The drain, together: the canary stops at once, the monitor samples on for its drain
        drains = [d for a in self.options.annotators if (d := getattr(a, "drain", None)) is not None]
        await asyncio.gather(*(drain(self._drain_cut) for drain in drains))
        thresholds = evaluate(self.scenario.thresholds, final)
        intervals = self._intervals.read()
        self._intervals.close()
        results = build_results(
            self.recorder, meta=meta, intervals=intervals, thresholds=thresholds, duration_s=duration
        )
        complete_results(
            results,
            self.scenario,
            self.load.extras(),
            self.load.execution(),
            self.aborted_by,
            self.interrupted,
        )
        for annotator in self.options.annotators:
            annotator.annotate_results(results)
        # Findings read the whole results (resources included); thresholds may name them.
        results["findings"] = analyze_findings(results)
        results["thresholds"] = evaluate(self.scenario.thresholds, {**final, "findings": results["findings"]})
        if self.options.secrets:
            results = redact_all(results, self.options.secrets)
        if self._writer is not None:
            self._writer.write_summary({k: v for k, v in results.items() if k != "intervals"})
            self._writer.close()
        for output in self.options.outputs:
            output.stop(results)
        return RunReport(results, self.aborted_by, self.interrupted)

    # intervals
    async def _tick(self) -> None:
        n = 1
        while True:
            await _sleep_until(self.t0 + n)
            await self.load.before_cut(n)
            n += 1
            interval = self._cut_interval()
            snapshot = self._snapshot()
            broken = should_abort(self.scenario.thresholds, snapshot, _clock() - self.t0)
            if broken is not None and self.aborted_by is None:
                self.aborted_by = str(broken)
                self.load.stop()
            if self.options.on_interval is not None:
                self.options.on_interval(interval, snapshot)
            for output in self.options.outputs:
                output.interval(interval, snapshot)

    def _snapshot(self) -> dict[str, Any]:
        return self.recorder.snapshot(percentiles=self._percentiles)

    def _cut_interval(self) -> dict[str, Any]:
        state = None
        if self.load.recorder is not self.recorder:
            state = self.load.recorder.drain()
            self.recorder.absorb(state)
            self.recorder.active_agents = state["active"]
            self.recorder.target_agents = state["target"]
        interval = self.recorder.interval(_clock() - self.t0)
        interval.update(self._lag.cut())
        workers_lag = self.load.take_loop_lag_ms()  # split runs: the workers' loops run the agents
        if workers_lag is not None:
            interval["workers_loop_lag_ms"] = workers_lag
        if generator_bound(interval):
            interval["generator_bound"] = True
        for annotator in self.options.annotators:
            annotator.annotate_interval(interval)
        if self.options.keep_states and state is not None:
            interval["state"] = state
        self._intervals.append(interval)
        if self._writer is not None:
            self._writer.write_interval(interval)
        return interval


async def _sleep_until(when: float) -> None:
    delay = when - _clock()
    if delay > 0:
        await asyncio.sleep(delay)


def complete_results(
    results: dict[str, Any],
    scenario: Any,
    extras: dict[str, Any],
    execution: dict[str, Any] | None,
    aborted_by: str | None,
    interrupted: bool,
) -> None:
    """Add what the recorder does not hold to ``results``: the load's extras (interrupted calls,
    template and script errors), the wasted cost, how the run was split and how it stopped."""
    results["interrupted_calls"] = extras.get("interrupted_calls", 0)
    results["template_errors"] = extras.get("template_errors", {})
    if extras.get("scripted_errors"):
        results["scripted_errors"] = extras["scripted_errors"]
    results["backoffs"] = extras.get("backoffs", {"conversations": 0, "opens": 0})
    results["outages"] = extras.get("outages", {"count": 0, "list": []})
    if extras.get("slowest_traces"):  # --trace-context: the trace ids of the slowest traced calls per operation
        results["slowest_traces"] = extras["slowest_traces"]
    price = getattr(scenario, "price_per_1k", None)
    conv = results.get("conversations", {})
    if price:
        conv["wasted_cost"] = round(conv.get("wasted_tokens", 0) * price / 1000, 6)
    if execution is not None:
        results["execution"] = execution
    results["aborted_by"] = aborted_by
    results["stopped_by_user"] = interrupted


def add_extras(total: dict[str, Any], part: dict[str, Any]) -> None:
    """Sum one load's extras into ``total`` (split runs: workers, segments)."""
    total["interrupted_calls"] = total.get("interrupted_calls", 0) + part.get("interrupted_calls", 0)
    for key in ("template_errors", "scripted_errors", "backoffs"):
        into = total.setdefault(key, {})
        for message, n in part.get(key, {}).items():
            into[message] = into.get(message, 0) + n
    if part.get("slowest_traces"):
        from mcpload.mcp.trace_context import merge_slowest

        total["slowest_traces"] = merge_slowest(total.get("slowest_traces") or {}, part["slowest_traces"])
    if "outages" in part:  # each part saw the outage on its own: kept apart, counted once per part
        outages = total.setdefault("outages", {"count": 0, "list": []})
        outages["count"] += part["outages"].get("count", 0)
        outages["list"] = (outages["list"] + list(part["outages"].get("list", [])))[:100]
