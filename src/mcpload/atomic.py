"""Write a file atomically: to a temporary file beside it, then rename over it.

A reader (a CI job, a browser, ``mcpload compare``) sees either the old file or the complete new
one, never a half-written one, even when the writer fails or is killed mid-way. The temporary file
is in the same directory (a rename is atomic only within one file system) and is removed when the
write fails.

Used by the engine (the results JSON), outputs, traffic and the CLI, so it sits below all of them and
imports nothing of mcpload's.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path


def temp_path(path: Path) -> Path:
    """The temporary file for ``path``: hidden, beside it, unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` to write the content to a temporary file, then rename it to ``path``.

    Args:
        path: The file to (re)place.
        write: Writes the whole content to the path it is given.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: ``path`` exists and is not a regular file (a device such as /dev/null, a FIFO, a
            directory): it is never replaced.
        Whatever ``write`` or the rename raises; ``path`` is then unchanged and the temporary file gone.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # never replace a device, a FIFO or a directory
        raise OSError(errno.EINVAL, "not a regular file (outputs never replace a device or a directory)")
    tmp = temp_path(path)
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``write_atomic``)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
