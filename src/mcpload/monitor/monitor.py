"""What to monitor and for how long: ``monitoring(config, target)`` starts the ``--server-cmd``
process (before preflight), samples every selected process in a thread, and stops both at the end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

DRAIN_S = 3.0  # the default drain: three samples at one a second
MAX_DRAIN_S = 60.0  # a drain is bounded: it delays the results

if TYPE_CHECKING:  # imported where used: psutil and prometheus_client cost ~60 ms of start-up CPU
    from mcpload.monitor.annotate import RunAnnotator
    from mcpload.monitor.sampler import Sampler


@dataclass(frozen=True)
class MonitorConfig:
    """Monitoring options (the ``--monitor-*``, ``--server-cmd`` and ``--scrape-*`` flags).

    Attributes:
        pids: processes to sample, with their children.
        names: regular expressions; every process whose name or command line matches (children too).
        server_cmd: a command that starts the target; mcpload starts it, samples it and stops it.
        stdio: sample mcpload's own child processes (a stdio target's per-session servers).
        scrape_url: the target's Prometheus endpoint, sampled along.
        scrape_series: sample names to read there (default: the standard ``process_*`` ones).
        extrapolate_agents: N in "to serve N agents you need …" (default 10 × the peak active agents).
        interval_s: seconds between samples.
        server_wait_s: how long the ``server_cmd`` may take to listen.
        drain_s: after the load has ended and its sessions are closed, keep sampling the target for
            so many seconds (the drain) before the results are written: memory that stays up then is
            kept, memory that falls back was in use (finding ``session-leak``). 0: no drain.
    """

    pids: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    server_cmd: str | None = None
    stdio: bool = False
    scrape_url: str | None = None
    scrape_series: tuple[str, ...] = ()
    extrapolate_agents: int | None = None
    interval_s: float = 1.0
    server_wait_s: float = 30.0
    drain_s: float = DRAIN_S

    def __post_init__(self) -> None:
        if not 0 <= self.drain_s <= MAX_DRAIN_S:
            raise ValueError(f"--monitor-drain {self.drain_s:g}s: must be between 0 and {MAX_DRAIN_S:g} s")
        if self.extrapolate_agents is not None and self.extrapolate_agents < 1:
            raise ValueError(f"--extrapolate-agents {self.extrapolate_agents}: must be at least 1")
        if self.scrape_series and not self.scrape_url:
            raise ValueError("--scrape-series needs --scrape-metrics URL")
        if self.names:
            from mcpload.monitor.selection import Selection

            Selection(patterns=self.names)  # validates the patterns
        if self.scrape_url:
            from mcpload.monitor.scrape import Scraper

            Scraper(self.scrape_url)  # validates the URL

    @property
    def enabled(self) -> bool:
        return bool(self.pids or self.names or self.server_cmd or self.stdio or self.scrape_url)


class Monitor:
    """A running sampler; ``annotator()`` binds it to one run (make one per run)."""

    def __init__(self, sampler: Sampler, extrapolate_agents: int | None = None, drain_s: float = 0.0) -> None:
        self.sampler = sampler
        self.extrapolate_agents = extrapolate_agents
        self.drain_s = drain_s

    def annotator(self, drain: bool = True) -> RunAnnotator:
        """The annotator of one run; ``drain=False`` skips the drain (capacity steps: each is one level
        of a search, not a run whose sessions are over)."""
        from mcpload.monitor.annotate import RunAnnotator

        return RunAnnotator(self.sampler, self.extrapolate_agents, self.drain_s if drain else 0.0)


@contextlib.contextmanager
def monitoring(config: MonitorConfig | None, url: str | None = None) -> Iterator[Monitor | None]:
    """Start the server command (when given) and the sampler; yield the monitor (None when nothing is
    to be monitored); stop the sampler, then the server.

    Args:
        config: the options, or None.
        url: the target's URL: a ``server_cmd`` is ready once its port accepts connections.

    Raises:
        ServerStartError: the server command failed to start or to listen.
    """
    if config is None or not config.enabled:
        yield None
        return
    from mcpload.monitor.sampler import Sampler
    from mcpload.monitor.scrape import Scraper
    from mcpload.monitor.selection import Selection
    from mcpload.monitor.target_process import start_server, stop_server

    server = start_server(config.server_cmd, url, config.server_wait_s) if config.server_cmd else None
    sampler = None
    try:
        selection = Selection(
            pids=config.pids,
            patterns=config.names,
            server_pid=server.pid if server is not None else None,
            own_children=config.stdio,
        )
        scraper = Scraper(config.scrape_url, config.scrape_series) if config.scrape_url else None
        sampler = Sampler(selection, config.interval_s, scraper).start()
        yield Monitor(sampler, config.extrapolate_agents, config.drain_s)
    finally:
        if sampler is not None:
            sampler.stop()
        if server is not None:
            stop_server(server)
