"""``--server-cmd``: start the target as a child process before preflight, stop it after the run."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import time
from typing import IO
from urllib.parse import urlsplit

from mcpload.child_process import stop_process, wait_for_port


class ServerStartError(Exception):
    """The server command could not be started, exited, or never listened."""


def start_server(command: str, url: str | None, wait_s: float = 30.0) -> subprocess.Popen[bytes]:
    """Start ``command`` (split like a shell would, run without one) and wait until it is ready.

    Ready means: something accepts TCP connections on the port of ``url``; with no URL (a stdio
    target has its own processes) the process only has to be alive after a short pause.

    Raises:
        ServerStartError: with a one-line reason; the process is stopped first.
    """
    argv = shlex.split(command)
    if not argv:
        raise ServerStartError("--server-cmd is empty")
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed below; a file, not a pipe: never blocks the server)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
    except OSError as exc:
        errors.close()
        raise ServerStartError(f"--server-cmd: cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    try:
        if url:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            wait_for_port(parts.hostname or "127.0.0.1", port, wait_s, proc)
        else:
            time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with code {proc.returncode}")
    except (RuntimeError, TimeoutError) as exc:
        stop_process(proc)
        tail = _last_line(errors)
        raise ServerStartError(f"--server-cmd {command!r}: {exc}{tail}") from None
    finally:
        errors.close()  # the child keeps its own descriptor
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 5 s."""
    if proc.poll() is None:
        stop_process(proc)


def _last_line(errors: IO[bytes]) -> str:
    errors.seek(0)
    lines = errors.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
    return f" (last stderr line: {lines[-1][:200]})" if lines else ""
