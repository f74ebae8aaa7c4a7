"""The sampler: once a second, in its own thread, psutil figures summed over the selected processes
(and the target's own metrics, when scraped). The event loop never waits for it."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import psutil

from mcpload.monitor.scrape import Scraper
from mcpload.monitor.selection import Selection, describe

_clock = time.perf_counter
MAX_CONNECTION_COUNTS = 64  # above this many processes TCP connections are not counted (too costly)


def _tcp_connections(proc: psutil.Process) -> int:
    conns = proc.net_connections(kind="tcp") if hasattr(proc, "net_connections") else proc.connections(kind="tcp")
    return sum(1 for c in conns if c.status != psutil.CONN_LISTEN)


def _fds(proc: psutil.Process) -> int:
    if sys.platform == "win32":
        return proc.num_handles()
    return proc.num_fds()


class Sampler:
    """Samples ``selection`` every ``interval_s`` seconds until ``stop``.

    Each sample is ``{"at", "cpu_percent", "cpu_s", "rss_bytes", "threads", "fds", "connections",
    "processes"}`` (plus ``"metrics"`` when scraping): ``at`` is ``time.perf_counter()``, ``cpu_s``
    the CPU seconds the processes used since monitoring began (processes that exit between two
    samples lose their last part), ``cpu_percent`` the share of one core since the previous sample
    (None for the first). ``connections`` counts TCP connections that are not listening (None when
    more than 64 processes are sampled: reading them costs too much).
    """

    def __init__(self, selection: Selection, interval_s: float = 1.0, scraper: Scraper | None = None) -> None:
        self.selection = selection
        self.interval_s = interval_s
        self.scraper = scraper
        self.samples: list[dict[str, Any]] = []
        self.processes: dict[int, dict[str, Any]] = {}  # every process ever sampled, described once
        self.errors = 0
        self._cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) -> CPU seconds last seen
        self._cpu_total = 0.0
        self._last_at: float | None = None
        self._last_wall: float | None = None
        self._own_cmdline = describe(psutil.Process(), "")["cmdline"]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> Sampler:
        """Take a first sample now, then sample in a daemon thread."""
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="mcpload-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (a sample in progress finishes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        next_at = _clock() + self.interval_s
        while not self._stop.wait(max(0.0, next_at - _clock())):
            next_at += self.interval_s
            try:
                self.sample()
            except Exception:  # a monitoring bug must not kill the run: count it
                self.errors += 1

    # reading
    @property
    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return self.samples[-1] if self.samples else None

    def since(self, at: float) -> list[dict[str, Any]]:
        """The samples taken at or after ``at`` (a ``perf_counter`` time), oldest first."""
        with self._lock:
            return [s for s in self.samples if s["at"] >= at]

    # one sample
    def sample(self) -> dict[str, Any]:
        """Take one sample now, append it and return it."""
        at, wall = _clock(), time.time()
        procs = self.selection.resolve()
        count_connections = len(procs) <= MAX_CONNECTION_COUNTS
        delta = 0.0
        rss = threads = fds = connections = alive = 0
        seen: dict[tuple[int, float], float] = {}
        for pid, (proc, source) in procs.items():
            try:
                with proc.oneshot():
                    created = proc.create_time()
                    times = proc.cpu_times()
                    cpu = times.user + times.system
                    mem = proc.memory_info().rss
                    nthreads = proc.num_threads()
                    nfds = _fds(proc)
                    nconn = _tcp_connections(proc) if count_connections else 0
            except (psutil.Error, OSError):
                continue  # exited or not ours to read: skip it this time
            key = (pid, created)
            seen[key] = cpu
            before = self._cpu.get(key)
            if before is not None:
                delta += max(0.0, cpu - before)
            elif self._last_wall is not None and created >= self._last_wall - 0.01:
                delta += cpu  # born since the last sample: all of its CPU belongs to this one
            rss += mem
            threads += nthreads
            fds += nfds
            connections += nconn
            alive += 1
            if pid not in self.processes:
                described = describe(proc, source)
                if described["cmdline"] != self._own_cmdline:  # else forked, not yet exec'd: describe later
                    self.processes[pid] = described
        self._cpu = seen
        self._cpu_total += delta
        elapsed = None if self._last_at is None else at - self._last_at
        sample: dict[str, Any] = {
            "at": at,
            "cpu_percent": round(100 * delta / elapsed, 2) if elapsed else None,
            "cpu_s": round(self._cpu_total, 4),
            "rss_bytes": rss,
            "threads": threads,
            "fds": fds,
            "connections": connections if count_connections else None,
            "processes": alive,
        }
        if self.scraper is not None:
            sample["metrics"] = self.scraper.scrape()
        self._last_at, self._last_wall = at, wall
        with self._lock:
            self.samples.append(sample)
        return sample
