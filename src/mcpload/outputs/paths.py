"""Output files: checked before the load starts, written one by one after it, never losing the rest.

``check_outputs`` runs before any load. Every output path must be a place where mcpload can
replace a regular file atomically (a temporary file beside it, then a rename):

* its folder exists, is a folder, and a file can be created in it (a real probe: a read-only
  mount or a missing permission fails here, not after a long run);
* the path itself is not a directory, a device (``/dev/null`` included: atomic replace never
  replaces a device), a FIFO or a socket, and not a read-only file;
* no two outputs share a path (``--out r.ndjson`` would collide with its own interval log).

``write_each`` writes the outputs after the run one at a time: one that fails (a full disk, a folder
removed meanwhile) costs that output only, named in one line; the others are still written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path


def output_problem(path: Path) -> str | None:
    """Why ``path`` cannot receive an output file, else None (see the module docstring)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        return f"{path.parent} is not a directory"
    except OSError as exc:
        return f"cannot use it ({exc.strerror or exc})"
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            return "is a directory"
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "a device"
            )
            return f"is {kind}, not a regular file (outputs are replaced atomically, never written into a device)"
        if not os.access(path, os.W_OK):
            return "is read-only"
    parent = path.parent
    if not parent.exists():
        return f"no such directory {parent}"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    probe = parent / f".{path.name}.{os.getpid()}.probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    except OSError as exc:
        return f"cannot create files in {parent} ({exc.strerror or exc})"
    os.close(fd)
    probe.unlink(missing_ok=True)
    return None


def check_outputs(paths: Iterable[tuple[str, Path | None]]) -> str | None:
    """The first problem among ``(option, path)`` pairs, as ``option PATH: problem``; None when all fit."""
    seen: dict[str, str] = {}
    for option, path in paths:
        if path is None:
            continue
        problem = output_problem(path)
        if problem:
            return f"{option} {path}: {problem}"
        key = os.path.realpath(path)
        if key in seen:
            return f"{option} {path}: the same file as {seen[key]}"
        seen[key] = option
    return None


def write_each(writes: Iterable[tuple[str, Path | None, Callable[[Path], object]]]) -> list[str]:
    """Write each ``(what, path, write)`` independently; the lines naming what was lost (empty: all written)."""
    lost = []
    for what, path, write in writes:
        if path is None:
            continue
        try:
            write(path)
        except OSError as exc:
            lost.append(f"{path}: cannot write the {what} ({exc.strerror or exc}); it is lost")
    return lost
