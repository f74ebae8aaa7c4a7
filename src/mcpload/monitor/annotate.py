"""Binds the sampler to one run: each interval gets the latest sample as ``resources`` before it is
written, and the results get a ``resources`` section (samples, summary, derived figures)."""

from __future__ import annotations

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

    Args:
        sampler: the running sampler.
        extrapolate_agents: the N of "to serve N agents you need …" (default 10 × the peak).
    """

    def __init__(self, sampler: Sampler, extrapolate_agents: int | None = None) -> None:
        self.sampler = sampler
        self.extrapolate_agents = extrapolate_agents
        self.created = _clock()
        self.t0: float | None = None

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
        before = [s for s in everything if s["at"] < self.t0]
        during = [s for s in everything if self.t0 <= s["at"] <= now]
        baseline = before[-1] if before else None
        samples = [{"t": round(s["at"] - self.t0, 3), **_figures(s), "cpu_s": s["cpu_s"]} for s in during]
        results["resources"] = {
            "interval_s": self.sampler.interval_s,
            "processes": sorted(self.sampler.processes.values(), key=lambda p: p["pid"])[:MAX_LISTED],
            "processes_seen": len(self.sampler.processes),
            "baseline": None if baseline is None else _figures(baseline),
            "samples": samples,
            "summary": summarize(samples),
            "derived": derive(samples, baseline, results, self.extrapolate_agents),
        }
        scraper = self.sampler.scraper
        if scraper is not None:
            results["resources"]["scrape"] = {
                "url": scraper.url,
                "series": list(scraper.series),
                "errors": scraper.errors,
                "last_error": scraper.last_error,
            }


def _figures(sample: dict[str, Any]) -> dict[str, Any]:
    out = {name: sample.get(name) for name in FIELDS}
    if "metrics" in sample:
        out["metrics"] = sample["metrics"]
    return out
