"""The probe a capacity step runs with: an ``Output`` that marks where the warm-up ends and measures
what came after it — exact latency percentiles (the difference of two cumulative histograms),
calls, errors, and mcpload's own CPU over the same window."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import psutil
from hdrh.histogram import HdrHistogram

from mcpload.metrics.histogram import new_histogram, pour, summarize
from mcpload.outputs.base import Output

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder

_clock = time.perf_counter
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def _own_cpu() -> float:
    times = psutil.Process(os.getpid()).cpu_times()
    return times.user + times.system


def latency_between(before: HdrHistogram | None, after: HdrHistogram) -> dict[str, Any] | None:
    """Latency summary (ms) of the values recorded between two cumulative histograms of one run."""
    if not after.total_count:
        return None
    top = after.get_counts_array_index(after.max_value) + 1
    counts = after.counts
    if before is None or not before.total_count:
        pending = {i: counts[i] for i in range(top) if counts[i]}
    else:
        old = before.counts
        pending = {i: counts[i] - old[i] for i in range(top) if counts[i] > old[i]}
    if not pending:
        return None
    hist = new_histogram()
    pour(hist, pending)
    return summarize([hist], PERCENTILES)


class WindowProbe(Output):
    """Fed by the runner like any output.

    Args:
        warmup_s: the window starts at the first interval cut at or after this many seconds.
        every_interval: also keep the cumulative histogram at every cut (per-interval percentiles,
            for the recovery phase).
    """

    name = "capacity-probe"

    def __init__(self, warmup_s: float, every_interval: bool = False) -> None:
        self.warmup_s = warmup_s
        self.every_interval = every_interval
        self.recorder: Recorder | None = None
        self.start_t = 0.0
        self.start_hist: HdrHistogram | None = None
        self.start_cpu = 0.0
        self.start_wall = 0.0
        self.end_hist: HdrHistogram | None = None
        self.cpu_share: float | None = None  # mcpload's own CPU over the window, share of one core
        self.cuts: list[tuple[float, HdrHistogram]] = []
        self._marked = False

    def start(self, meta: dict[str, Any], recorder: Recorder) -> None:
        self.recorder = recorder
        self.start_cpu, self.start_wall = _own_cpu(), _clock()
        if self.warmup_s <= 0:
            self._marked = True

    def _histogram(self) -> HdrHistogram:
        assert self.recorder is not None, "WindowProbe read before the run started it"
        return self.recorder.histograms()["__all__"]

    def interval(self, interval: dict[str, Any], snapshot: dict[str, Any]) -> None:
        t = interval["t"]
        if not self._marked and t >= self.warmup_s - 0.05:
            self._marked = True
            self.start_t = t
            self.start_hist = self._histogram()
            self.start_cpu, self.start_wall = _own_cpu(), _clock()
        if self.every_interval:
            self.cuts.append((t, self._histogram()))

    def stop(self, results: dict[str, Any]) -> None:
        self.end_hist = self._histogram()
        wall = _clock() - self.start_wall
        self.cpu_share = (_own_cpu() - self.start_cpu) / wall if wall > 0 else None

    def window(self, results: dict[str, Any]) -> dict[str, Any]:
        """The measured window of a finished run: ``{"from_s", "duration_s", "calls", "ok", "failed",
        "errors", "calls_per_s", "tool_calls_per_s", "latency_ms", "mean_active_agents"}``."""
        intervals = [iv for iv in results.get("intervals", []) if iv["t"] > self.start_t]
        duration = max(float(results.get("duration_s") or 0.0) - self.start_t, 0.0)
        calls = sum(iv["calls"] for iv in intervals)
        ok = sum(iv["ok"] for iv in intervals)
        errors: dict[str, int] = {}
        tool_calls = 0
        for iv in intervals:
            for kind, n in iv.get("errors", {}).items():
                errors[kind] = errors.get(kind, 0) + n
            tool_calls += sum(op["calls"] for name, op in iv.get("ops", {}).items() if name.startswith("tools/call"))
        agent_s, last_t = 0.0, self.start_t
        for iv in intervals:  # weighted by length: the last, cut after the drain, is short and empty
            agent_s += iv.get("active_agents", 0) * (iv["t"] - last_t)
            last_t = iv["t"]
        return {
            "from_s": self.start_t,
            "duration_s": round(duration, 3),
            "calls": calls,
            "ok": ok,
            "failed": calls - ok,
            "errors": errors,
            "calls_per_s": round(calls / duration, 3) if duration > 0 else None,
            "tool_calls_per_s": round(tool_calls / duration, 3) if duration > 0 else None,
            "latency_ms": latency_between(self.start_hist, self.end_hist) if self.end_hist is not None else None,
            "mean_active_agents": round(agent_s / duration, 1) if duration > 0 else 0,
        }

    def per_interval(self, results: dict[str, Any], after_s: float) -> list[dict[str, Any]]:
        """Windows of single intervals cut after ``after_s`` (needs ``every_interval``)."""
        by_t = {iv["t"]: iv for iv in results.get("intervals", [])}
        out = []
        previous: HdrHistogram | None = None
        for t, hist in self.cuts:
            if t > after_s and t in by_t:
                iv = by_t[t]
                latency = latency_between(previous, hist)
                out.append({"t": t, "calls": iv["calls"], "ok": iv["ok"], "latency_ms": latency})
            previous = hist
        return out
