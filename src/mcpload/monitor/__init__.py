"""Target resource monitoring: psutil samples of the server's processes (CPU, RSS, threads, file
descriptors, TCP connections), optionally its own Prometheus metrics, merged into the intervals and
the results with derived figures (CPU per 1k calls, RSS per session) and an extrapolation."""

from __future__ import annotations

import importlib
from typing import Any

# Exported lazily (PEP 562): psutil and prometheus_client load only when monitoring is asked for, so a
# run without it does not pay for their import.
_EXPORTS = {
    "RunAnnotator": "annotate",
    "ASSUMPTIONS": "derive",
    "derive": "derive",
    "extrapolate": "derive",
    "summarize": "derive",
    "Monitor": "monitor",
    "MonitorConfig": "monitor",
    "monitoring": "monitor",
    "Selection": "selection",
    "Sampler": "sampler",
    "Scraper": "scrape",
    "ServerStartError": "target_process",
    "start_server": "target_process",
    "stop_server": "target_process",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpload.monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mcpload.monitor.{module}"), name)
    globals()[name] = value
    return value


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
