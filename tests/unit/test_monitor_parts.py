"""Monitoring parts on their own: the sampler on a real busy process, process selection, scraping a
Prometheus endpoint, the derived figures and extrapolation; and the demo server's concurrency cap."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time

import psutil
import pytest

from mcpload.demo.launch import free_port, stop_process
from mcpload.demo.limits import Busy, ConcurrencyLimit
from mcpload.monitor import MonitorConfig, Sampler, Scraper, Selection, derive, extrapolate, summarize
from mcpload.monitor.scrape import pick

BUSY = "import time\nend = time.time() + 30\nwhile time.time() < end: pass"


@pytest.fixture
def busy_process():
    proc = subprocess.Popen([sys.executable, "-c", BUSY, "mcpload-busy-marker"])
    try:
        yield proc
    finally:
        stop_process(proc)


def _sample_until_cpu(sampler: Sampler, cpu_s: float, deadline_s: float = 30.0) -> None:
    """Let ``sampler`` run until the processes it samples have used ``cpu_s`` CPU seconds: a busy loop
    gets there whatever the machine's load, only later on a busy machine (no wall-clock window)."""
    deadline = time.monotonic() + deadline_s
    try:
        while time.monotonic() < deadline:
            latest = sampler.latest
            if latest is not None and latest["cpu_s"] >= cpu_s and len(sampler.samples) >= 3:
                break
            time.sleep(0.05)
    finally:
        sampler.stop()


def _consistent_percentages(samples: list[dict]) -> None:
    """Each ``cpu_percent`` is the CPU time used since the previous sample over the time between them."""
    for before, sample in itertools.pairwise(samples):
        used = sample["cpu_s"] - before["cpu_s"]  # both figures are rounded: a little slack
        assert sample["cpu_percent"] == pytest.approx(100 * used / (sample["at"] - before["at"]), abs=0.2)


def test_sampler_measures_the_selected_process(busy_process):
    # CPU seconds, not a share of a core: a busy machine gives the busy loop less than a core, but the
    # CPU time the process used is what the sampler must report (its own cpu_times say how much).
    used_before = sum(psutil.Process(busy_process.pid).cpu_times()[:2])
    sampler = Sampler(Selection(pids=(busy_process.pid,)), interval_s=0.2).start()
    _sample_until_cpu(sampler, 0.2)
    used = sum(psutil.Process(busy_process.pid).cpu_times()[:2]) - used_before
    first, *rest = sampler.samples
    assert first["cpu_percent"] is None and first["cpu_s"] == 0 and rest
    assert all(s["processes"] == 1 and s["rss_bytes"] > 1_000_000 and s["threads"] >= 1 for s in rest)
    assert all(s["fds"] >= 3 for s in rest)  # stdin, stdout, stderr at least
    assert 0.2 <= rest[-1]["cpu_s"] <= used + 0.01  # the process's own CPU time since sampling began
    _consistent_percentages(sampler.samples)
    assert max(s["cpu_percent"] for s in rest) > 0
    assert sampler.processes[busy_process.pid]["source"] == "pid"
    assert "mcpload-busy-marker" in sampler.processes[busy_process.pid]["cmdline"]


def test_patterns_find_processes_but_never_mcpload_itself(busy_process):
    found = Selection(patterns=("mcpload-busy-marker",)).resolve()
    assert set(found) == {busy_process.pid} and found[busy_process.pid][1] == "name"
    # this test process's own command line holds the pattern too: still not selected
    assert os.getpid() not in Selection(patterns=("pytest|python",)).resolve()
    with pytest.raises(ValueError, match="--monitor-name"):
        Selection(patterns=("([",))


def test_children_of_a_selected_process_are_counted():
    code = f"import subprocess, sys, time\np = subprocess.Popen([sys.executable, '-c', {BUSY!r}])\ntime.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while len(Selection(pids=(parent.pid,)).resolve()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        sampler = Sampler(Selection(pids=(parent.pid,)), interval_s=0.3).start()
        _sample_until_cpu(sampler, 0.2)  # the parent sleeps: this is the child's busy loop
        assert sampler.samples[-1]["processes"] == 2
        assert sampler.samples[-1]["cpu_s"] >= 0.2
        _consistent_percentages(sampler.samples)
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        stop_process(parent)


def test_scrape_reads_chosen_series():
    text = (
        "# TYPE http_requests_total counter\n"
        'http_requests_total{code="200"} 10\n'
        'http_requests_total{code="500"} 2\n'
        "# TYPE queue_depth gauge\n"
        "queue_depth 7\n"
    )
    assert pick(text, ("http_requests_total", "queue_depth", "absent")) == {
        "http_requests_total": 12.0,
        "queue_depth": 7.0,
        "absent": None,
    }


def test_scraper_against_a_live_endpoint():
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    registry = CollectorRegistry()
    Gauge("demo_queue_depth", "queued calls", registry=registry).set(5)
    port = free_port()
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        scraper = Scraper(f"http://127.0.0.1:{port}/metrics", ("demo_queue_depth",))
        assert scraper.scrape() == {"demo_queue_depth": 5.0}
        assert scraper.errors == 0
    finally:
        server.shutdown()
    dead = Scraper(f"http://127.0.0.1:{free_port()}/metrics")
    assert set(dead.scrape().values()) == {None} and dead.errors == 1 and dead.last_error
    with pytest.raises(ValueError, match="--scrape-metrics"):
        Scraper("ftp://x")


def test_config_validation():
    with pytest.raises(ValueError, match="--scrape-series needs"):
        MonitorConfig(scrape_series=("x",))
    with pytest.raises(ValueError, match="--extrapolate-agents"):
        MonitorConfig(pids=(1,), extrapolate_agents=0)
    assert not MonitorConfig().enabled and MonitorConfig(stdio=True).enabled


def test_derived_figures_and_extrapolation():
    samples = [
        {"t": 1, "cpu_percent": 50.0, "cpu_s": 1.5, "rss_bytes": 150, "threads": 2, "fds": 10, "connections": 4},
        {"t": 2, "cpu_percent": 100.0, "cpu_s": 2.5, "rss_bytes": 200, "threads": 2, "fds": 12, "connections": 4},
    ]
    baseline = {"cpu_s": 1.0, "rss_bytes": 100}
    results = {
        "totals": {"calls": 1000},
        "intervals": [{"t": 1.0, "active_agents": 10}, {"t": 2.0, "active_agents": 10}],
    }
    assert summarize(samples)["cpu_percent"] == {"peak": 100.0, "mean": 75.0}
    assert summarize(samples)["processes"] == {"peak": None, "mean": None}
    d = derive(samples, baseline, results, agents=100)
    assert d["cpu_seconds"] == 1.5  # 2.5 - 1.0 since the idle baseline
    assert d["cpu_seconds_per_1k_calls"] == 1.5
    assert d["rss_per_active_session_bytes"] == 10  # (200 - 100) / 10 agents
    assert d["calls_per_agent_s"] == 50.0  # 1000 calls over 20 agent-seconds
    ex = d["extrapolation"]
    # 100 agents × 50 calls/s = 5000 calls/s × 1.5 ms CPU = 7.5 cores; 100 + 10 × 100 bytes
    assert ex["calls_per_s"] == 5000 and ex["cores"] == 7.5 and ex["memory_bytes"] == 1100
    assert ex["statement"].startswith("to serve 100 agents at this mix")
    assert any("linear" in a for a in ex["assumptions"])
    assert derive(samples, baseline, {**results, "totals": {"calls": 0}})["extrapolation"] is None
    assert extrapolate(10, None, 1.0, 0, 1.0) is None


async def test_concurrency_limit_queues_then_refuses():
    limit = ConcurrencyLimit(2)
    running = peak = 0

    async def call():
        nonlocal running, peak
        async with limit.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    started = time.perf_counter()
    await asyncio.gather(*(call() for _ in range(6)))
    assert peak == 2 and time.perf_counter() - started >= 0.06  # three rounds of two

    strict = ConcurrencyLimit(1, reject_above=1)

    async def hold():
        async with strict.slot():
            await asyncio.sleep(0.05)

    outcomes = await asyncio.gather(*(hold() for _ in range(4)), return_exceptions=True)
    # one runs, one waits, the other two find the queue full
    assert sum(isinstance(o, Busy) for o in outcomes) == 2

    patient = ConcurrencyLimit(1, queue_timeout=0.01)
    outcomes = await asyncio.gather(*(hold_on(patient) for _ in range(2)), return_exceptions=True)
    assert [type(o) for o in outcomes].count(Busy) == 1
    assert "no slot free within 0.01s" in str(next(o for o in outcomes if isinstance(o, Busy)))


async def hold_on(limit: ConcurrencyLimit) -> None:
    async with limit.slot():
        await asyncio.sleep(0.05)


async def test_the_drain_samples_apart_from_the_run_and_ends_on_a_cut():
    import asyncio

    from mcpload.monitor.annotate import RunAnnotator

    class Samples:  # the sampler's reading side, with samples placed on the clock by hand
        interval_s = 1.0
        scraper = None

        def __init__(self) -> None:
            self.samples: list[dict] = []
            self.processes: dict = {}

        def since(self, at: float) -> list[dict]:
            return [s for s in self.samples if s["at"] >= at]

        @property
        def latest(self):
            return self.samples[-1] if self.samples else None

    def sample(at: float, rss: int) -> dict:
        return {"at": at, "cpu_percent": 1.0, "cpu_s": 0.1, "rss_bytes": rss, "threads": 1, "fds": 3,
                "connections": 0, "processes": 1}  # fmt: skip

    sampler = Samples()
    annotator = RunAnnotator(sampler, drain_s=0.3)  # type: ignore[arg-type]
    annotator.t0 = annotator.created - 0.5  # the run began half a second ago
    sampler.samples = [sample(annotator.t0 - 0.2, 60), sample(annotator.t0 + 0.1, 100)]
    await annotator.drain(asyncio.Event())
    assert annotator.drain_end - annotator.load_end >= 0.25
    sampler.samples += [sample(annotator.load_end + 0.1, 80), sample(annotator.load_end + 0.2, 90)]
    results: dict = {"totals": {"calls": 1}, "intervals": [], "duration_s": 1.0}
    annotator.annotate_results(results)
    resources = results["resources"]
    assert [s["rss_bytes"] for s in resources["samples"]] == [100]  # the run's, without the drain's
    assert resources["baseline"]["rss_bytes"] == 60
    drain = resources["drain"]
    assert [s["rss_bytes"] for s in drain["samples"]] == [80, 90]
    assert drain["rss_bytes"] == 80 and drain["rss_end_bytes"] == 90 and not drain["cut_short"]

    cut = asyncio.Event()
    cut.set()  # Ctrl-C before or during it: no (more) drain
    quick = RunAnnotator(sampler, drain_s=30)  # type: ignore[arg-type]
    await asyncio.wait_for(quick.drain(cut), 5)
    none = RunAnnotator(sampler, drain_s=0)  # type: ignore[arg-type]
    await none.drain(asyncio.Event())
    results = {"totals": {"calls": 1}, "intervals": [], "duration_s": 1.0}
    none.annotate_results(results)
    assert results["resources"]["drain"] is None


def test_the_resources_block_states_the_memory_after_the_drain():
    from mcpload.monitor.render import resource_lines

    resources = {"summary": {}, "derived": {}, "processes": [], "baseline": {"rss_bytes": 50 << 20}}
    drained = {**resources, "drain": {"duration_s": 3.0, "rss_bytes": 130 << 20}}
    (line,) = [x for x in resource_lines(drained) if "after the load" in x]
    assert "130 MiB" in line and "+80 MiB" in line and "3.0 s" in line
    for odd in (None, {"rss_bytes": None}, {"rss_bytes": "x", "duration_s": "y"}, "drain"):
        assert not [x for x in resource_lines({**resources, "drain": odd}) if "after the load" in x]
