"""Agents written in Python: a base class, and loading ``file.py:Class`` or ``module:Class``.

A scripted agent replaces a workflow: the engine opens the session, calls ``run`` once per
conversation (with idle gaps, ``conversations_per_session`` and ``session_lifetime`` as for
workflow agents), and records every request the session makes.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import random
import sys
import traceback
from abc import ABC, abstractmethod
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mcpload.inputs import InputError, read_text
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean

if TYPE_CHECKING:
    from mcpload.mcp.session import Session


class ScriptedAgent(ABC):
    """Base class of agents written in Python (exported as ``mcpload.Agent``).

    One instance lives as long as its agent; the engine creates it with keyword arguments, so a
    subclass that defines ``__init__`` must accept and pass them on (``super().__init__(**kw)``).

    Attributes:
        id: The agent's id in the run (as in metrics and logs).
        index: The agent's number in the run (0, 1, 2…).
        rng: The agent's random generator, seeded from the run seed: use it for every random choice
            so that ``--seed`` makes runs reproducible.
        saved: Free for the agent's own state; kept across the conversations of the agent.
    """

    def __init__(self, *, id: str = "", index: int = 0, rng: random.Random | None = None) -> None:
        self.id = id
        self.index = index
        self.rng = rng if rng is not None else random.Random()
        self.saved: dict[str, Any] = {}

    @abstractmethod
    async def run(self, session: Session) -> None:
        """Run one conversation on ``session`` (``await session.call_tool(...)``, ``asyncio.sleep``…).

        Raising fails the conversation; outcomes of the session's requests are recorded either way.
        """


ALLOW_HINT = "--allow-python (Python API: allow_python=True)"


def split_spec(spec: str, path: str) -> tuple[str, str, bool]:
    """``(where, class name, is a file)`` of ``file.py:ClassName`` or ``module:ClassName``.

    Raises:
        ScenarioError: a malformed spec.
    """
    where, sep, class_name = spec.rpartition(":")
    if not sep or not where or not class_name.isidentifier():
        raise ScenarioError(f"expected file.py:ClassName or module:ClassName, got {spec!r}", path)
    return where, class_name, where.endswith(".py") or "/" in where or "\\" in where


def check_python_place(spec: str, base_dir: Path, path: str) -> str:
    """What ``spec`` will run, for the notice; refuses code outside ``base_dir`` (see ``load_agent_class``).

    Raises:
        ScenarioError: a malformed spec, a module import, or a file outside the scenario's folder.
    """
    where, _, is_file = split_spec(spec, path)
    if not is_file:
        raise ScenarioError(
            f"module {where} is outside the scenario's folder: imports of installed modules need {ALLOW_HINT}", path
        )
    folder = base_dir.resolve()
    file = (base_dir / where).resolve()
    if not file.is_relative_to(folder):
        raise ScenarioError(f"{where} is outside the scenario's folder {folder}: running it needs {ALLOW_HINT}", path)
    return where


def load_agent_class(spec: str, base_dir: Path, path: str) -> type[ScriptedAgent]:
    """The class named by ``file.py:ClassName`` (relative to ``base_dir``) or ``package.module:ClassName``.

    Importing runs the file's code: whether it may run is the caller's decision (``check_python_place``).
    A file is read as a scenario input (a regular file of at most 8 MiB); whatever its top level
    raises (also ``SystemExit`` or ``KeyboardInterrupt``) becomes one ``ScenarioError``.

    Raises:
        ScenarioError: a malformed spec, a file or module that does not import (one line, with
            the line number in the file where it failed), a missing class, or a class that is not
            a ``ScriptedAgent`` with an ``async def run``.
    """
    where, class_name, is_file = split_spec(spec, path)
    module = _import_file(where, base_dir / where, path) if is_file else _import_module(where, path)
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = [name for name, value in vars(module).items() if isinstance(value, type)]
        raise ScenarioError(f"{where} has no class '{class_name}'{did_you_mean(class_name, classes)}", path)
    if not (isinstance(cls, type) and issubclass(cls, ScriptedAgent)):
        raise ScenarioError(f"{class_name} in {where} is not a subclass of mcpload.Agent", path)
    if not inspect.iscoroutinefunction(cls.run) or inspect.isabstract(cls):
        raise ScenarioError(f"{class_name} in {where} needs an 'async def run(self, session)'", path)
    return cls


def _import_file(shown: str, file: Path, path: str) -> ModuleType:
    file = file.resolve()
    if not file.exists():
        raise ScenarioError(f"cannot import {shown}: no such file", path)
    try:
        source = read_text(file, "python")  # the code run is the code checked: a regular file, bounded
    except InputError as exc:
        raise ScenarioError(f"cannot import {shown}: {exc}", path) from None
    # A private, stable module name: the same file loaded twice replaces itself, two files never clash.
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"_mcpload_agent_{file.stem}_{digest}"
    module = ModuleType(name)
    module.__file__ = str(file)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        exec(compile(source, str(file), "exec"), module.__dict__)  # the user's agent: its place was checked
    except BaseException as exc:  # SystemExit, KeyboardInterrupt… from the agent's top level too
        sys.modules.pop(name, None)
        raise ScenarioError(f"cannot import {shown}{_line_in(exc, file)}: {_one_line(exc)}", path) from None
    return module


def _import_module(name: str, path: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except BaseException as exc:
        raise ScenarioError(f"cannot import module {name}: {_one_line(exc)}", path) from None


def _line_in(exc: BaseException, file: Path) -> str:
    """`` (line N)``: where in ``file`` the import failed, when the file is to blame."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == file:
        return f" (line {exc.lineno})"
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if Path(frame.filename).resolve() == file]
    return f" (line {frames[-1].lineno})" if frames else ""


def _one_line(exc: BaseException) -> str:
    try:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    except Exception:  # an exception whose __str__ fails
        message = "(no message)"
    text = " ".join(str(message).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
