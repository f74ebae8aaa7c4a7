"""The contract every run output follows (k6's four-method output, made smaller).

The runner calls ``start`` once before the load, ``interval`` once a second (it must not block:
hand slow work to a thread or do it at ``stop``), and ``stop`` once with the final results
document. ``recorder`` is given for outputs that read cumulative histograms at their own pace
(a Prometheus scrape); everything else reads the interval and results dicts only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

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

    def problem(self) -> str | None:
        """After ``stop``: what went wrong on the way (e.g. metrics an endpoint refused), one line, or None."""
        return None


class FileOutput(Output):
    """An output written once, from the final results document, to ``path`` (``--html PATH`` …).

    ``stop`` writes the file (atomically); ``mcpload.outputs.registry.write_files`` calls it after the
    run, each file on its own.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)


class OptionError(ValueError):
    """A live output's option value that cannot be used: the one line to print (exit 2 before any load)."""


class LiveOutput(Output):
    """An output that follows the run as it goes (``--prometheus``, ``--otlp``, ``--dashboard``)."""

    @classmethod
    def for_run(cls, value: str, notice: Callable[[str], None]) -> Self:
        """The output for option value ``value``, ready before any load (listening, where it listens);
        ``notice`` prints a line for the user (a warning, where the output can be reached).

        Raises:
            OptionError: the value cannot be used (its message is the line to print).
        """
        raise NotImplementedError(f"{cls.__name__} cannot be built from an option")
