"""Which processes make up the target: resolved afresh at every sample, so that workers a server
forks, and stdio server processes that come and go with sessions, are all counted."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import psutil

SERVER_CMD, PID, NAME, STDIO = "server-cmd", "pid", "name", "stdio"


@dataclass(frozen=True)
class Selection:
    """The processes to monitor; each selected process brings its children along.

    Attributes:
        pids: processes given by id (``--monitor-pid``).
        patterns: regular expressions searched in each process's name and command line
            (``--monitor-name``); mcpload itself and its ancestors never match.
        server_pid: the target mcpload started (``--server-cmd``), or None.
        own_children: every child of this process (stdio targets: one server process per session).
    """

    pids: tuple[int, ...] = ()
    patterns: tuple[str, ...] = ()
    server_pid: int | None = None
    own_children: bool = False

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"--monitor-name {pattern!r}: not a regular expression ({exc})") from None

    @property
    def empty(self) -> bool:
        return not (self.pids or self.patterns or self.server_pid is not None or self.own_children)

    def resolve(self) -> dict[int, tuple[psutil.Process, str]]:
        """The processes selected now, by pid, each with the reason it was selected
        (``server-cmd``, ``pid``, ``name`` or ``stdio``); processes that vanished are left out."""
        found: dict[int, tuple[psutil.Process, str]] = {}
        me = os.getpid()

        def add(proc: psutil.Process, source: str) -> None:
            if proc.pid == me or proc.pid in found:
                return
            found[proc.pid] = (proc, source)
            try:
                for child in proc.children(recursive=True):
                    if child.pid != me:
                        found.setdefault(child.pid, (child, source))
            except psutil.Error:
                pass

        if self.server_pid is not None:
            _add_pid(self.server_pid, SERVER_CMD, add)
        for pid in self.pids:
            _add_pid(pid, PID, add)
        if self.patterns:
            for proc in matching(self.patterns):
                add(proc, NAME)
        if self.own_children:
            try:
                children = psutil.Process(me).children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                found.setdefault(child.pid, (child, STDIO))
        return found


def _add_pid(pid: int, source: str, add: Callable[[psutil.Process, str], None]) -> None:
    with contextlib.suppress(psutil.Error):  # gone (or never there): nothing to sample
        add(psutil.Process(pid), source)


def matching(patterns: tuple[str, ...]) -> list[psutil.Process]:
    """Processes whose name or command line matches one of ``patterns`` (``re.search``), except
    this process and its ancestors (whose command lines often hold the pattern itself)."""
    compiled = [re.compile(p) for p in patterns]
    skip = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        skip.update(p.pid for p in psutil.Process().parents())
    out = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.pid in skip:
            continue
        name = proc.info.get("name") or ""
        cmdline = " ".join(proc.info.get("cmdline") or ())
        if any(rx.search(name) or rx.search(cmdline) for rx in compiled):
            out.append(proc)
    return out


def describe(proc: psutil.Process, source: str) -> dict[str, object]:
    """``{"pid", "name", "cmdline", "source"}`` of one process (empty strings where unreadable)."""
    try:
        with proc.oneshot():
            name = proc.name()
            cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        name, cmdline = "", ""
    return {"pid": proc.pid, "name": name, "cmdline": cmdline[:300], "source": source}


def own_child(pattern: str) -> int | None:
    """The pid of this process's first child whose command line matches ``pattern`` (a server it started)."""
    rx = re.compile(pattern)
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return None
    for child in children:
        try:
            if rx.search(" ".join(child.cmdline())):
                return child.pid
        except psutil.Error:
            continue
    return None
