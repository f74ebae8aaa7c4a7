"""Target resource monitoring: psutil samples of the server's processes (CPU, RSS, threads, file
descriptors, TCP connections), optionally its own Prometheus metrics, merged into the intervals and
the results with derived figures (CPU per 1k calls, RSS per session) and an extrapolation."""

from mcpload.monitor.annotate import RunAnnotator
from mcpload.monitor.derive import ASSUMPTIONS, derive, extrapolate, summarize
from mcpload.monitor.monitor import Monitor, MonitorConfig, monitoring
from mcpload.monitor.processes import Selection
from mcpload.monitor.sampler import Sampler
from mcpload.monitor.scrape import Scraper
from mcpload.monitor.target_process import ServerStartError, start_server, stop_server

__all__ = [
    "ASSUMPTIONS",
    "Monitor",
    "MonitorConfig",
    "RunAnnotator",
    "Sampler",
    "Scraper",
    "Selection",
    "ServerStartError",
    "derive",
    "extrapolate",
    "monitoring",
    "start_server",
    "stop_server",
    "summarize",
]
