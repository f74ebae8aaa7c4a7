"""Binds the sampler to one run: each interval gets the latest sample as ``resources`` before it is
written, and the results get a ``resources`` section (samples, summary, derived figures)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from mcpload.monitor.derive import FIELDS, derive, summarize
from mcpload.monitor.sampler import Sampler

_clock = time.perf_counter
FRESH_S = 1.5  # an interval only gets a sample taken this recently
MAX_LISTED = 50  # processes described in the results (stdio runs may start thousands)


class RunAnnotator:
    """The runner's annotator for one run (``run_scenario(..., annotators=[...])``).

    The run's clock is learnt from the first interval cut (``t`` seconds after its start), or from
    the results' duration when the run cut none; samples get ``t`` on that clock, so those taken
    before the load (the idle baseline) have ``t`` < 0.

    The drain: once the load has ended (its agents finished, their sessions closed), the runner awaits
    ``drain(cut)``, which lets the sampler go on for ``drain_s`` seconds; the samples of that time are
    the results' ``resources.drain``, apart from those of the run.

    Args:
        sampler: the running sampler.
        extrapolate_agents: the N of "to serve N agents you need …" (default 10 × the peak).
        drain_s: seconds to sample after the load (0: no drain).
    """

    def __init__(self, sampler: Sampler, extrapolate_agents: int | None = None, drain_s: float = 0.0) -> None:
        self.sampler = sampler
        self.extrapolate_agents = extrapolate_agents
        self.drain_s = drain_s
        self.created = _clock()
        self.t0: float | None = None
        self.load_end: float | None = None  # when the drain began (the load and its sessions were over)
        self.drain_end: float | None = None
        self.drain_cut = False

    async def drain(self, cut: asyncio.Event) -> None:
        """Sample on for ``drain_s`` seconds after the load, or until ``cut`` is set (Ctrl-C, SIGTERM)."""
        self.load_end = _clock()
        if self.drain_s > 0 and not cut.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cut.wait(), self.drain_s)
            self.drain_cut = cut.is_set()
        self.drain_end = _clock()

    def annotate_interval(self, interval: dict[str, Any]) -> None:
        """Add the latest sample's figures as ``interval["resources"]``."""
        now = _clock()
        if self.t0 is None:
            self.t0 = now - interval["t"]
        sample = self.sampler.latest
        if sample is not None and now - sample["at"] <= FRESH_S:
            interval["resources"] = _figures(sample)

    def annotate_results(self, results: dict[str, Any]) -> None:
        """Add ``results["resources"]``: processes, samples (``t`` on the run's clock), summary, derived."""
        now = _clock()
        if self.t0 is None:
            self.t0 = now - float(results.get("duration_s") or 0.0)
        everything = self.sampler.since(self.created - self.sampler.interval_s)
        load_end = self.load_end if self.load_end is not None else now
        before = [s for s in everything if s["at"] < self.t0]
        during = [s for s in everything if self.t0 <= s["at"] <= load_end]
        baseline = before[-1] if before else None
        samples = [self._point(s) for s in during]
        results["resources"] = {
            "interval_s": self.sampler.interval_s,
            "processes": sorted(self.sampler.processes.values(), key=lambda p: p["pid"])[:MAX_LISTED],
            "processes_seen": len(self.sampler.processes),
            "baseline": None if baseline is None else _figures(baseline),
            "samples": samples,
            "summary": summarize(samples),
            "derived": derive(samples, baseline, results, self.extrapolate_agents),
            "drain": self._drain(everything, load_end),
        }
        scraper = self.sampler.scraper
        if scraper is not None:
            results["resources"]["scrape"] = {
                "url": scraper.url,
                "series": list(scraper.series),
                "errors": scraper.errors,
                "last_error": scraper.last_error,
            }

    def _point(self, sample: dict[str, Any]) -> dict[str, Any]:
        assert self.t0 is not None
        return {"t": round(sample["at"] - self.t0, 3), **_figures(sample), "cpu_s": sample["cpu_s"]}

    def _drain(self, everything: list[dict[str, Any]], load_end: float) -> dict[str, Any] | None:
        """The drain's samples and RSS: the lowest RSS it saw (memory that did not come back is kept)."""
        if self.drain_end is None or self.drain_s <= 0:
            return None
        samples = [self._point(s) for s in everything if load_end < s["at"] <= self.drain_end]
        rss = [s["rss_bytes"] for s in samples if isinstance(s.get("rss_bytes"), int)]
        return {
            "planned_s": self.drain_s,
            "duration_s": round(self.drain_end - load_end, 3),
            "cut_short": self.drain_cut,
            "samples": samples,
            "rss_bytes": min(rss) if rss else None,
            "rss_end_bytes": rss[-1] if rss else None,
        }


def _figures(sample: dict[str, Any]) -> dict[str, Any]:
    out = {name: sample.get(name) for name in FIELDS}
    if "metrics" in sample:
        out["metrics"] = sample["metrics"]
    return out
