"""Data files (CSV with a header row, or JSON Lines) that templates draw rows from with ``data(name)``."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from mcpload.inputs import InputError, loads_json, open_text
from mcpload.scenario.checks import check_keys, expect_mapping, expect_str, join
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean

MODES = ("sequential", "random", "unique-per-agent")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class DataSource:
    """The rows of one data file, loaded eagerly, and how agents take them.

    Modes:
        sequential: one cursor shared by every agent of this process; wraps to the first row.
        random: a row chosen with the agent's rng (repeats are expected).
        unique-per-agent: row ``agent_index % len(rows)``; with more agents than rows, agents
            ``len(rows)`` apart share a row (a wrap), which ``wraps`` counts.

    Rows are shared dicts: callers must not modify them (templates cannot; the sandbox is immutable).

    Attributes:
        name: The name templates use: ``data('users')``.
        path: The file.
        mode: One of ``MODES``.
        rows: The rows, each a dict (CSV values are strings; JSON Lines keep their types).
    """

    __slots__ = ("_cursor", "_max_agent", "mode", "name", "path", "rows")

    def __init__(self, name: str, path: str | Path, mode: str = "sequential") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown data mode {mode!r}: use one of {', '.join(MODES)}")
        self.name = name
        self.path = Path(path)
        self.mode = mode
        self.rows: tuple[dict[str, Any], ...] = tuple(_load(self.path))
        self._cursor = 0
        self._max_agent = -1

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<DataSource {self.name} {self.path.name} {self.mode} rows={len(self.rows)}>"

    @property
    def wraps(self) -> int:
        """How often the rows ran out and started again.

        sequential: completed passes over the file beyond the first; unique-per-agent: how many
        times the highest agent index seen went round the file (0 while every agent has its own
        row); random: always 0.
        """
        if self.mode == "sequential":
            return max(0, (self._cursor - 1) // len(self.rows))
        if self.mode == "unique-per-agent":
            return max(0, self._max_agent // len(self.rows))
        return 0

    def next_row(self, agent_index: int, rng: random.Random) -> dict[str, Any]:
        """The next row for an agent, per the mode (see the class docstring)."""
        if self.mode == "sequential":
            # A plain counter: agents run on one event loop, so no lock is needed.
            row = self.rows[self._cursor % len(self.rows)]
            self._cursor += 1
            return row
        if self.mode == "random":
            return rng.choice(self.rows)
        if agent_index > self._max_agent:
            self._max_agent = agent_index
        return self.rows[agent_index % len(self.rows)]


def _load(path: Path) -> list[dict[str, Any]]:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: unknown data file type {path.suffix!r} (use .csv or .jsonl)")
    try:
        with open_text(path, "data", newline="") as handle:
            rows = _csv_rows(handle, path) if kind == "csv" else _jsonl_rows(handle, path)
    except InputError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def _csv_rows(handle: Any, path: Path) -> list[dict[str, Any]]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
        if header is None:
            return []
        if len(set(header)) != len(header) or any(not name.strip() for name in header):
            raise ValueError(f"{path} line 1: the header row needs distinct, non-empty column names")
        rows = []
        for fields in reader:
            if not fields:  # a blank line
                continue
            if len(fields) != len(header):
                raise ValueError(f"{path} line {reader.line_num}: expected {len(header)} fields, got {len(fields)}")
            rows.append(dict(zip(header, fields, strict=True)))
        return rows
    except csv.Error as exc:
        raise ValueError(f"{path} line {reader.line_num}: {exc}") from None


def _jsonl_rows(handle: Any, path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = loads_json(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        except InputError as exc:
            raise ValueError(f"{path} line {number}: {exc}") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path} line {number}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    return rows


def parse_data(value: Any, path: str, base_dir: Path) -> dict[str, DataSource]:
    """The ``data:`` section: ``{name: {file, mode}}`` or ``{name: file}``; files relative to ``base_dir``.

    Raises:
        ScenarioError: an unknown key or mode, or a file that cannot be read (naming file and line).
    """
    sources: dict[str, DataSource] = {}
    for name, spec in expect_mapping(value, path).items():
        at = join(path, name)
        if not name.isidentifier():
            raise ScenarioError(f"data source names must be identifiers (letters, digits, _), got {name!r}", at)
        if isinstance(spec, str):
            spec = {"file": spec}
        check_keys(expect_mapping(spec, at), ("file", "mode"), at, required=("file",))
        file = expect_str(spec["file"], join(at, "file"))
        mode = expect_str(spec.get("mode", "sequential"), join(at, "mode"))
        if mode not in MODES:
            hint = did_you_mean(mode, MODES) or f": use one of {', '.join(MODES)}"
            raise ScenarioError(f"unknown mode '{mode}'{hint}", join(at, "mode"))
        try:
            sources[name] = DataSource(name, base_dir / file, mode)
        except ValueError as exc:
            raise ScenarioError(str(exc), join(at, "file")) from None
    return sources
