"""Every run output is in one table (outputs.registry): its class, its option on ``mcpload run``, and
for file outputs the one path that checks and writes them.

An output added in one place and not another fails here (see docs/architecture.md, "Adding an output").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from mcpload.outputs import registry
from mcpload.outputs.base import FileOutput, Output

ENTRIES = pytest.mark.parametrize("entry", registry.OUTPUTS, ids=lambda entry: entry.name)
FILES = pytest.mark.parametrize("entry", registry.FILE_OUTPUTS, ids=lambda entry: entry.name)

RESULTS = {
    "schema": "mcpload.results/1",
    "intervals": [],
    "thresholds": [],
    "totals": {},
    "operations": {},
    "meta": {},
}


def run_options() -> dict[str, object]:
    from mcpload.cli import app

    command = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]  # a click Group
    return {opt: param for param in command.params for opt in getattr(param, "opts", ())}


def test_names_are_unique() -> None:
    names = [entry.name for entry in registry.OUTPUTS]
    assert len(names) == len(set(names))


@ENTRIES
def test_every_output_is_an_output_class_of_that_name(entry: registry.OutputEntry) -> None:
    cls = registry.output_class(entry.name)
    assert issubclass(cls, Output)
    assert cls.name == entry.name
    assert issubclass(cls, FileOutput) == (entry.kind == "file")


@ENTRIES
def test_every_output_has_its_option_on_run(entry: registry.OutputEntry) -> None:
    assert entry.option in run_options(), f"mcpload run has no {entry.option}"


def test_run_hands_every_file_output_to_the_one_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mcpload run --html A --junit B …`` passes each file option to ``_execute(files=…)`` by registry name."""
    from typer.testing import CliRunner

    from mcpload.cli import app
    from mcpload.cli import run as run_module

    seen: dict[str, object] = {}

    def execute(*args: object, **kwargs: object) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(run_module, "_execute", execute)
    argv = ["run", "--url", "http://127.0.0.1:9/mcp", "--tool", "t", "--workers", "1", "-q"]
    for entry in registry.FILE_OUTPUTS:
        argv += [entry.option, str(tmp_path / entry.name)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert seen["files"] == {entry.name: tmp_path / entry.name for entry in registry.FILE_OUTPUTS}


@FILES
def test_every_file_output_writes_through_the_one_path(entry: registry.OutputEntry, tmp_path: Path) -> None:
    if entry.name == "html":
        pytest.importorskip("plotly")
    path = tmp_path / f"out-{entry.name}"
    lost, written = registry.write_files(RESULTS, {entry.name: path})
    assert lost == []
    assert path.stat().st_size > 0
    assert written == ([f"{entry.announce}: {path}"] if entry.announce else [])
    assert (entry.option, path) in registry.file_options({entry.name: path})


@FILES
def test_a_file_output_that_cannot_be_written_costs_only_itself(entry: registry.OutputEntry, tmp_path: Path) -> None:
    if entry.name == "html":
        pytest.importorskip("plotly")
    others = {other.name: tmp_path / other.name for other in registry.FILE_OUTPUTS if other.name != "html"}
    files = {**others, entry.name: tmp_path / "gone" / "x"}
    lost, _ = registry.write_files(RESULTS, files)
    assert lost == [f"{tmp_path / 'gone' / 'x'}: cannot write the {entry.what} (No such file or directory); it is lost"]
    assert all(path.exists() for name, path in others.items() if name != entry.name)


def test_an_unknown_file_output_is_refused() -> None:
    with pytest.raises(KeyError):
        registry.file_options({"prometheus": Path("x")})
    with pytest.raises(TypeError):
        registry.file_output_class("otlp")


@pytest.mark.parametrize("entry", registry.LIVE_OUTPUTS, ids=lambda entry: entry.name)
def test_every_live_output_is_built_through_the_one_path(entry: registry.OutputEntry) -> None:
    """A value that cannot be used is one line naming the option (exit 2 in the CLI), from ``for_run``."""
    from mcpload.outputs.base import LiveOutput, OptionError

    cls = registry.live_output_class(entry.name)
    assert issubclass(cls, LiveOutput) and "for_run" in vars(cls), f"{cls.__name__} has no for_run"
    if entry.name == "otlp":
        pytest.importorskip("opentelemetry.sdk")
    notices: list[str] = []
    with pytest.raises(OptionError) as caught:
        registry.live_outputs({entry.name: "no such place:99999999"}, notices.append)
    assert str(caught.value).startswith(entry.option) or entry.name == "otlp", caught.value
    assert notices == []


def test_run_hands_every_live_output_to_the_one_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from mcpload.cli import app
    from mcpload.cli import run as run_module

    seen: dict[str, object] = {}

    def live(values: dict[str, str | None]) -> list[object]:
        seen.update(values)
        return []

    monkeypatch.setattr(run_module, "_live_outputs", live)
    monkeypatch.setattr(run_module, "_execute", lambda *args, **kwargs: 0)
    argv = ["run", "--url", "http://127.0.0.1:9/mcp", "--tool", "t", "--workers", "1", "-q"]
    for entry in registry.LIVE_OUTPUTS:
        argv += [entry.option, f"value-{entry.name}"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert seen == {entry.name: f"value-{entry.name}" for entry in registry.LIVE_OUTPUTS}
