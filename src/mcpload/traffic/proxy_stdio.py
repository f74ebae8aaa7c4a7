"""The recording proxy for stdio targets: itself a stdio MCP server that starts the real one.

The agent host starts ``mcpload record --stdio-cmd CMD`` instead of ``CMD``; bytes pass both ways
as they come (our stdin → the server's stdin, its stdout → our stdout, its stderr → our stderr),
and each complete line is also parsed for the trace. The whole process is one session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

import orjson

from mcpload.traffic.observer import Observer

READ = 64 * 1024
MAX_LINE = 16 * 1024 * 1024  # a longer line is passed on but not parsed for the trace
SESSION = "s1"


class _Lines:
    """Splits a byte stream into lines for the observer, bounding what it keeps."""

    def __init__(self, on_line: Callable[[bytes], None]) -> None:
        self._buf = bytearray()
        self._skipping = False
        self._on_line = on_line

    def feed(self, chunk: bytes) -> None:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if not self._skipping:
                self._buf += chunk[start:end]
                self._on_line(bytes(self._buf))
            self._buf.clear()
            self._skipping = False
            start = end + 1
        if not self._skipping:
            self._buf += chunk[start:]
            if len(self._buf) > MAX_LINE:
                self._buf.clear()
                self._skipping = True


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line) if line.strip() else None
    except orjson.JSONDecodeError:
        return None


async def record_stdio(command: list[str], observer: Observer, stdin: Any = None, stdout: Any = None) -> int:
    """Run ``command`` behind the proxy until our stdin ends or the server exits; returns its exit code.

    Args:
        command: The server's argv.
        observer: Where messages go.
        stdin, stdout: Binary streams for tests (default: this process's).
    """
    loop = asyncio.get_running_loop()
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout.buffer
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=None, limit=READ
    )
    server_in, server_out = proc.stdin, proc.stdout
    assert server_in is not None and server_out is not None
    observer.session(SESSION)
    writer = observer.writer

    def from_client(line: bytes) -> None:
        message = _parse(line)
        if message is not None:
            observer.client(SESSION, message, writer.now(), len(line))

    def from_server(line: bytes) -> None:
        message = _parse(line)
        if message is not None:
            observer.server(SESSION, message, writer.now(), None, len(line))

    client_lines, server_lines = _Lines(from_client), _Lines(from_server)

    async def upstream() -> None:
        reader = asyncio.StreamReader(limit=READ)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        try:
            while chunk := await reader.read(READ):
                client_lines.feed(chunk)  # observed first: its request time is when we saw it
                server_in.write(chunk)
                await server_in.drain()
        except (ConnectionError, BrokenPipeError):
            pass
        finally:
            transport.close()
            with contextlib.suppress(Exception):
                server_in.close()

    async def downstream() -> None:
        fd = stdout.fileno()
        while chunk := await server_out.read(READ):
            server_lines.feed(chunk)
            await loop.run_in_executor(None, _write_all, fd, chunk)

    up = asyncio.create_task(upstream())
    try:
        await downstream()  # ends when the server closes its stdout (it exits, or saw our EOF)
    finally:
        up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await up
        reason = "eof" if server_in.is_closing() else "server_exited"
        try:
            code = await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            proc.kill()
            code = await proc.wait()
        observer.end_session(SESSION, reason)
    return code


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
