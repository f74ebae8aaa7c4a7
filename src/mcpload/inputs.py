"""Reading what the user hands us, with bounds: files, nesting, numbers.

Every file mcpload reads on the user's behalf (scenario, data files, Python agents, results files,
interval logs) goes through ``read_bytes``/``read_text``/``open_text``: a regular file only (never a
device such as ``/dev/zero``, a FIFO or a directory, also behind a symlink), and never more than
its kind's size limit. Parsed documents are nested at most ``MAX_DEPTH`` levels, so no parser or
walker can hit Python's recursion limit. A leaf: it imports nothing of ours.

The limits (also in docs/reliability.md):

=================  ==========  ===========================================
kind               limit       files
=================  ==========  ===========================================
scenario           8 MiB       the scenario YAML
python             8 MiB       a ``python:`` agent file
data               256 MiB     a ``data:`` CSV or JSON Lines file
results            2 GiB       results JSON and NDJSON interval logs read back
                               (``report``, ``compare``, ``merge``)
trace              2 GiB       ``init --from-trace`` recorded calls
=================  ==========  ===========================================
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

MiB = 1024 * 1024
LIMITS = {"scenario": 8 * MiB, "python": 8 * MiB, "data": 256 * MiB, "results": 2048 * MiB, "trace": 2048 * MiB}
#: the deepest nesting of any parsed document (YAML scenario, JSON arguments, data rows, results)
MAX_DEPTH = 100
#: the most numbers that an option or a scenario value may be, in absolute value (floats)
MAX_FLOAT = 1e9
#: integers must fit in 64 bits (seeds are 64-bit words); counts have tighter, per-field limits
MAX_INT = 2**64 - 1
#: the longest duration anywhere (a run, a think time, a timeout): 30 days
MAX_DURATION_S = 30 * 24 * 3600.0
#: the most agents a profile may ask for at once (and any other count of a load profile or step)
MAX_COUNT = 1_000_000
#: the highest rate (arrivals per time unit) and any other plain number of a load profile
MAX_RATE = 1_000_000.0


class InputError(ValueError):
    """A file or value that cannot be taken; ``str()`` is one line (the caller adds the file or option)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open(path: str | Path, kind: str) -> tuple[int, int]:
    """A read-only descriptor on a regular file within the limit of ``kind``, and the limit."""
    limit = LIMITS[kind]
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below anyway.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"cannot read: {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise InputError(f"too large: {info.st_size:,} bytes (the limit for a {kind} file is {limit:,})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, limit


def check_file(path: str | Path, kind: str) -> None:
    """Raise ``InputError`` unless ``path`` is a readable regular file within ``LIMITS[kind]``
    (for readers that open the file themselves)."""
    fd, _ = _open(path, kind)
    os.close(fd)


def read_bytes(path: str | Path, kind: str) -> bytes:
    """The content of a regular file of at most ``LIMITS[kind]`` bytes.

    Raises:
        InputError: missing, unreadable, not a regular file, or too large.
    """
    fd, limit = _open(path, kind)
    with open(fd, "rb", closefd=True) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew while we read it
        raise InputError(f"too large: over {limit:,} bytes (the limit for a {kind} file)")
    return data


def read_text(path: str | Path, kind: str) -> str:
    """``read_bytes`` decoded as UTF-8.

    Raises:
        InputError: as ``read_bytes``, or not UTF-8 text.
    """
    try:
        return read_bytes(path, kind).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})") from None


class _Capped(io.RawIOBase):
    """A raw reader that fails once more than ``limit`` bytes were read (a file growing under us)."""

    def __init__(self, raw: IO[bytes], limit: int, kind: str) -> None:
        self._raw, self._left, self._limit, self._kind = raw, limit, limit, kind

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n: int = self._raw.readinto(buffer)  # type: ignore[attr-defined]  # IO[bytes] omits readinto; the raw files have it
        self._left -= n or 0
        if self._left < 0:
            raise InputError(f"too large: over {self._limit:,} bytes (the limit for a {self._kind} file)")
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_text(path: str | Path, kind: str, newline: str | None = None) -> IO[str]:
    """A UTF-8 text stream on a regular file within ``LIMITS[kind]`` (for line-by-line readers).

    Raises:
        InputError: missing, unreadable, not a regular file, or too large (also while reading).
    """
    fd, limit = _open(path, kind)
    raw = open(fd, "rb", buffering=0, closefd=True)  # noqa: SIM115 (the returned stream owns it)
    return io.TextIOWrapper(io.BufferedReader(_Capped(raw, limit, kind)), encoding="utf-8", newline=newline)


def depth_error(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """A message when ``value`` (lists, tuples, dicts) nests deeper than ``limit``, else None.

    Iterative (a value nested 50,000 deep is measured without recursion); shared sub-values are
    visited once per path, so call it on trees, not on graphs with aliases (the YAML loader bounds those).
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return f"nested more than {limit} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` that never raises RecursionError and refuses nesting deeper than ``MAX_DEPTH``.

    Raises:
        ValueError: ``json.JSONDecodeError`` for syntax, ``InputError`` for depth.
    """
    import json

    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputError(" ".join(str(exc).split())) from None
    problem = depth_error(value)
    if problem:
        raise InputError(problem)
    return value


def number_problem(value: Any) -> str | None:
    """Why a number given by the user cannot be taken (NaN, infinite, or absurdly large), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return "expected a finite number"
        if abs(value) > MAX_FLOAT:
            return f"out of range (at most {MAX_FLOAT:g} in absolute value)"
    elif isinstance(value, int) and abs(value) > MAX_INT:
        return f"out of range (at most {MAX_INT} in absolute value)"
    return None


def show_number(value: Any) -> str:
    """A number for a message (a huge integer is described, not printed)."""
    return _short(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _short(value: int) -> str:
    """An integer for a message: itself, or its size (``str()`` of 4,300+ digits raises)."""
    if value.bit_length() <= 80:
        return str(value)
    return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"


#: the longest URL or header line accepted (most servers refuse more than 8 KiB)
MAX_LINE = 8192
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field-name
#: headers mcpload sets itself (framing, connection, the MCP session): a second one would break the exchange
MANAGED_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "host",
     "mcp-session-id", "mcp-protocol-version", "last-event-id"}
)  # fmt: skip


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a target URL (the URL itself is not repeated: it may hold a secret), else None."""
    from urllib.parse import urlsplit

    if len(url) > MAX_LINE:
        return f"longer than {MAX_LINE:,} characters"
    for i, char in enumerate(url):
        if ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F:
            what = "a space" if char == " " else f"a control character ({ord(char):#04x})"
            return f"holds {what} at position {i + 1} (percent-encode it, e.g. %20)"
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "not an http(s) URL"
        port = parts.port
    except ValueError as exc:
        return str(exc)
    if port == 0:
        return "port 0 is not a port one can connect to"
    return None


def parse_headers(values: Iterable[str] | None) -> dict[str, str]:
    """``-H 'Name: value'`` options as a mapping.

    Raises:
        ValueError: a bad one, in one line that never repeats the value (a secret).
    """
    headers: dict[str, str] = {}
    for number, raw in enumerate(values or [], 1):
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            # nothing of it is repeated: without the colon there is no telling a name from a secret
            # (``-H 'Authorization Bearer …'``)
            raise ValueError(f"--header #{number}: expected 'Name: value' (the value is not shown: it may be a secret)")
        problem = header_problem(name.strip(), value.strip())
        if problem:
            raise ValueError(f"--header {name.strip()[:40]!r}: {problem}")
        headers[name.strip()] = value.strip()
    return headers


def header_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` cannot be sent as an HTTP header, else None."""
    if not _TOKEN.match(name):
        return f"invalid header name {name[:40]!r} (letters, digits and !#$%&'*+-.^_`|~ only)"
    if name.lower() in MANAGED_HEADERS:
        return f"{name} is set by mcpload itself"
    if len(name) + len(value) > MAX_LINE:
        return f"{name[:40]} is longer than {MAX_LINE:,} characters (servers refuse such headers)"
    for char in value:
        if (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F:
            return f"the value of {name} holds a control character ({ord(char):#04x})"
        if ord(char) > 0xFF:
            return f"the value of {name} holds a character that HTTP headers cannot carry ({char!r})"
    return None
