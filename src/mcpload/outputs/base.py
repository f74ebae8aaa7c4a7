"""The contract every run output follows (k6's four-method output, made smaller).

The runner calls ``start`` once before the load, ``interval`` once a second (it must not block:
hand slow work to a thread or do it at ``stop``), and ``stop`` once with the final results
document. ``recorder`` is given for outputs that read cumulative histograms at their own pace
(a Prometheus scrape); everything else reads the interval and results dicts only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder


class Output:
    """Base class with no-op hooks; subclasses override what they need."""

    name = "output"

    def start(self, meta: dict[str, Any], recorder: Recorder) -> None:
        """The run is about to start: ``meta`` has target, scenario, seed, profiles, planned duration."""

    def interval(self, interval: dict[str, Any], snapshot: dict[str, Any]) -> None:
        """One second has been cut: ``interval`` is that second, ``snapshot`` the cumulative view."""

    def stop(self, results: dict[str, Any]) -> None:
        """The run ended; ``results`` is the final results document (schema mcpload.results/1)."""


class FileOutput(Output):
    """An output written once, from the final results document, to ``path`` (``--html PATH`` …).

    ``stop`` writes the file (atomically); ``mcpload.outputs.registry.write_files`` calls it after the
    run, each file on its own.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
