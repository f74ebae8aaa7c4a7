"""Every run output, in one table (k6's ``--out`` table is the model): its command-line option, what it
is called in messages, and its class. The run command builds every output through it: live ones before the
load (``live_outputs``), files checked before it and written after it (``write_files``).

Two kinds of output:

- ``file``: written once the run has ended, from the results document (``--html PATH``, ``--junit``,
  ``--csv``, ``--summary-md``). The class takes the path; its ``stop(results)`` writes the file. Each
  is written on its own: one that fails costs only itself (``paths.write_each``).
- ``live``: follows the run as it goes (``--prometheus``, ``--otlp``, ``--dashboard``): the class
  (a ``LiveOutput``) is built by ``for_run(value, notice)`` before any load (``live_outputs``), then
  gets the engine's ``start``/``interval``/``stop`` calls.

A new output is one module (an ``Output`` subclass) plus one line here, and its option on
``mcpload run``; see docs/architecture.md, "Adding an output".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcpload.outputs.base import FileOutput, LiveOutput

if TYPE_CHECKING:
    from mcpload.outputs.base import Output


@dataclass(frozen=True, slots=True)
class OutputEntry:
    """One output.

    Attributes:
        name: Its option on ``mcpload run`` without the dashes (``--html`` → ``html``), and ``Output.name``.
        kind: ``file`` (a path, written after the run) or ``live`` (follows the run).
        what: How messages call it ("HTML report": "cannot write the HTML report").
        location: ``module:Class``, the ``Output`` subclass (its module imported on first use).
        announce: For a file output, the word of the line naming the written file (``report: PATH``); None: no line.
    """

    name: str
    kind: Literal["file", "live"]
    what: str
    location: str
    announce: str | None = None

    @property
    def option(self) -> str:
        return f"--{self.name}"


OUTPUTS: tuple[OutputEntry, ...] = (
    OutputEntry("html", "file", "HTML report", "mcpload.outputs.html:HtmlOutput", announce="report"),
    OutputEntry("junit", "file", "JUnit report", "mcpload.outputs.junit:JUnitOutput"),
    OutputEntry("csv", "file", "CSV intervals", "mcpload.outputs.csv_output:CSVOutput"),
    OutputEntry("summary-md", "file", "Markdown summary", "mcpload.outputs.summary_md:SummaryMdOutput", "summary"),
    OutputEntry("prometheus", "live", "Prometheus metrics", "mcpload.outputs.prometheus:PrometheusOutput"),
    OutputEntry("otlp", "live", "OTLP metrics", "mcpload.outputs.otlp:OTLPOutput"),
    OutputEntry("dashboard", "live", "live dashboard", "mcpload.outputs.dashboard:DashboardOutput"),
)
BY_NAME: dict[str, OutputEntry] = {entry.name: entry for entry in OUTPUTS}
FILE_OUTPUTS: tuple[OutputEntry, ...] = tuple(entry for entry in OUTPUTS if entry.kind == "file")
LIVE_OUTPUTS: tuple[OutputEntry, ...] = tuple(entry for entry in OUTPUTS if entry.kind == "live")


@cache
def output_class(name: str) -> type[Output]:
    """The class of output ``name`` (its module imported on the first call).

    Raises:
        KeyError: an unknown name.
    """
    module, _, class_name = BY_NAME[name].location.partition(":")
    cls: type[Output] = getattr(importlib.import_module(module), class_name)
    return cls


def file_output_class(name: str) -> type[FileOutput]:
    """The class of file output ``name``: it takes the path to write.

    Raises:
        KeyError: an unknown name. TypeError: not a file output.
    """
    cls = output_class(name)
    if BY_NAME[name].kind != "file" or not issubclass(cls, FileOutput):
        raise TypeError(f"{name} is not a file output")
    return cls


def live_output_class(name: str) -> type[LiveOutput]:
    """The class of live output ``name``: ``for_run(value, notice)`` builds it.

    Raises:
        KeyError: an unknown name. TypeError: not a live output.
    """
    cls = output_class(name)
    if BY_NAME[name].kind != "live" or not issubclass(cls, LiveOutput):
        raise TypeError(f"{name} is not a live output")
    return cls


def live_outputs(values: Mapping[str, str | None], notice: Callable[[str], None]) -> list[Output]:
    """The live outputs given a value, in table order, each ready before any load (listening, where it
    listens); ``notice`` prints their lines for the user.

    Raises:
        OptionError: the first value that cannot be used (its message is the line to print).
        KeyError: ``values`` names something that is not a live output.
    """
    unknown = set(values) - {entry.name for entry in LIVE_OUTPUTS}
    if unknown:
        raise KeyError(f"not live outputs: {', '.join(sorted(unknown))}")
    outputs: list[Output] = []
    for entry in LIVE_OUTPUTS:
        value = values.get(entry.name)
        if value is not None:
            outputs.append(live_output_class(entry.name).for_run(value, notice))
    return outputs


def file_options(files: Mapping[str, Path | None]) -> list[tuple[str, Path | None]]:
    """``(option, path)`` of every file output, in table order (for ``paths.check_outputs``).

    Raises:
        KeyError: ``files`` names something that is not a file output.
    """
    unknown = set(files) - {entry.name for entry in FILE_OUTPUTS}
    if unknown:
        raise KeyError(f"not file outputs: {', '.join(sorted(unknown))}")
    return [(entry.option, files.get(entry.name)) for entry in FILE_OUTPUTS]


def write_files(results: dict[str, Any], files: Mapping[str, Path | None]) -> tuple[list[str], list[str]]:
    """Write every file output given a path, each on its own (``paths.write_each``).

    Returns:
        The lines naming what was lost, and the lines announcing what was written (``report: PATH``).
    """
    from mcpload.outputs.paths import write_each

    def writer(cls: type[FileOutput]) -> Callable[[Path], None]:
        return lambda path: cls(path).stop(results)

    writes = [(BY_NAME[option[2:]], path) for option, path in file_options(files) if path is not None]
    lost = write_each((entry.what, path, writer(file_output_class(entry.name))) for entry, path in writes)
    failed = {line.partition(": cannot write")[0] for line in lost}
    written = [f"{entry.announce}: {path}" for entry, path in writes if entry.announce and str(path) not in failed]
    return lost, written
