"""``mcpload record``: start the writer, the redactor and the right proxy; stop cleanly on a signal.

The trace is flushed line by line, so Ctrl-C, SIGTERM or a crash loses at most the line being
written; on a clean stop every open session gets its ``session_end``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from mcpload import exit_codes
from mcpload._loop import run
from mcpload.traffic.observer import Observer
from mcpload.traffic.proxy_http import RecordingProxy
from mcpload.traffic.proxy_requests import Upstream
from mcpload.traffic.proxy_stdio import record_stdio
from mcpload.traffic.redact import Redactor
from mcpload.traffic.trace import TraceWriter
from mcpload.version import __version__


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port).

    Raises:
        ValueError: not ``HOST:PORT`` with a port in 0..65535.
    """
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]"), int(port)


async def _until_signal(main: asyncio.Task[object]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, main.cancel)


def record_http(upstream_url: str, listen: str, out: Path, redactor: Redactor, announce: bool = True) -> int:
    """Run the HTTP recording proxy until Ctrl-C or SIGTERM; returns the number of trace lines."""
    upstream = Upstream(upstream_url)
    host, port = parse_listen(listen)
    writer = TraceWriter(out, {"source": "http", "upstream": upstream.public(), "redaction": redactor.describe(),
                               "mcpload": __version__})  # fmt: skip
    observer = Observer(writer, redactor)
    proxy = RecordingProxy(upstream, observer)

    async def main() -> None:
        ready = asyncio.Event()
        task = asyncio.create_task(proxy.serve(host, port, ready))
        await _until_signal(task)
        started = asyncio.create_task(ready.wait())
        await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
        if task.done():  # it could not listen (the port is taken…), or a signal came first
            started.cancel()
            if not task.cancelled():
                task.result()  # raises the OSError for the CLI to report
            return
        if announce:
            path = urlpath(upstream.path)
            print(f"recording {upstream.public()} → point your agent host at http://{host}:{port}{path}"
                  f" (trace: {out}; Ctrl-C stops)", file=sys.stderr)  # fmt: skip
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        run(main())
    finally:
        observer.close()
        writer.close()
    return writer.lines


def urlpath(path: str) -> str:
    return path.split("?", 1)[0] or "/"


def record_command(command: list[str], out: Path, redactor: Redactor) -> int:
    """Run the stdio recording proxy until stdin ends; returns the server's exit code."""
    writer = TraceWriter(out, {"source": "stdio", "command": Path(command[0]).name, "redaction": redactor.describe(),
                               "mcpload": __version__})  # fmt: skip
    observer = Observer(writer, redactor)

    async def main() -> int:
        task = asyncio.create_task(record_stdio(command, observer))
        await _until_signal(task)
        try:
            return await task
        except asyncio.CancelledError:
            return exit_codes.INTERRUPTED

    try:
        return run(main())
    finally:
        observer.close()
        writer.close()
