"""Worker processes on this machine (``--workers N``): forked after preflight, so that they inherit the
loaded scenario (templates, Python agents, data files) instead of rebuilding it. Parent and worker talk
over a socket pair, one JSON message per line."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from mcpload.distributed.worker import SegmentWorker
from mcpload.profiles import Segment

_LINE_LIMIT = 64 * 1024 * 1024  # a second's drain of a busy worker is far smaller; this only bounds a bug


class ProcessHandle:
    """The parent's side of one forked worker."""

    def __init__(self, segment: Segment, build: Callable[[Segment], SegmentWorker], index: int) -> None:
        self.segment = segment
        self.name = f"worker-{index + 1}"
        parent, child = socket.socketpair()
        # fork: the child gets the scenario as loaded here. The parent's event loop is running; the
        # child leaves it alone and starts its own (see _child_main).
        self._process = multiprocessing.get_context("fork").Process(
            target=_child_main, args=(parent, child, build, segment), name=f"mcpload-{self.name}", daemon=True
        )
        self._process.start()
        child.close()
        self._sock = parent
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: list[bytes] = []

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(sock=self._sock, limit=_LINE_LIMIT)
        for line in self._pending:
            self._writer.write(line)
        self._pending.clear()

    def _send(self, message: dict[str, Any]) -> None:
        line = orjson.dumps(message) + b"\n"
        if self._writer is None:
            self._pending.append(line)
            return
        if not self._writer.is_closing():
            self._writer.write(line)

    def start(self, epoch: float) -> None:
        self._send({"cmd": "start", "epoch": epoch})

    def stop(self) -> None:
        self._send({"cmd": "stop"})

    def cancel(self) -> None:
        self._send({"cmd": "cancel"})

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        assert self._reader is not None, "connect() first"
        while True:
            line = await self._reader.readline()
            if not line:
                return
            yield orjson.loads(line)

    def lost_reason(self) -> str:
        self._process.join(timeout=2)
        code = self._process.exitcode
        if code is None:
            return "worker process stopped answering"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"worker process killed by {signal.Signals(-code).name}"
        return f"worker process exited with code {code} before finishing"

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await loop.run_in_executor(None, self._process.join, 5)


async def start_process_workers(
    segments: list[Segment], build: Callable[[Segment], SegmentWorker]
) -> list[ProcessHandle]:
    """Fork one worker per segment (``build`` runs in the worker) and connect to each."""
    handles = [ProcessHandle(segment, build, i) for i, segment in enumerate(segments)]
    for handle in handles:
        await handle.connect()
    return handles


# --------------------------------------------------------------------------------------------- child


def _child_main(
    parent_sock: socket.socket, sock: socket.socket, build: Callable[[Segment], SegmentWorker], segment: Segment
) -> None:
    parent_sock.close()
    # Forked from a running event loop: drop what belongs to the parent's loop. Ctrl-C reaches the whole
    # process group; the parent decides what it means and tells the workers.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.events._set_running_loop(None)
    from mcpload._loop import run

    try:
        worker = build(segment)
    except Exception as exc:  # reported to the parent as a lost worker, with the reason
        _send_blocking(sock, {"error": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    run(_serve(sock, worker))
    os._exit(0)


def _send_blocking(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(orjson.dumps(message) + b"\n")


async def _serve(sock: socket.socket, worker: SegmentWorker) -> None:
    reader, writer = await asyncio.open_connection(sock=sock, limit=_LINE_LIMIT)

    def send(message: dict[str, Any]) -> None:
        if not writer.is_closing():
            writer.write(orjson.dumps(message) + b"\n")

    start: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
    commands = asyncio.ensure_future(_commands(reader, worker, start))
    try:
        epoch = await start
        if epoch is None:
            return  # the parent went away before the start
        await worker.run(epoch, send)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
    finally:
        commands.cancel()
        writer.close()


async def _commands(reader: asyncio.StreamReader, worker: SegmentWorker, start: asyncio.Future[float | None]) -> None:
    while True:
        line = await reader.readline()
        if not line:
            # The parent is gone (killed): stop at once rather than load a server nobody measures.
            worker.stop()
            worker.cancel_all()
            if not start.done():
                start.set_result(None)
            return
        command = orjson.loads(line)
        cmd = command.get("cmd")
        if cmd == "start" and not start.done():
            start.set_result(float(command["epoch"]))
        elif cmd == "stop":
            worker.stop()
        elif cmd == "cancel":
            worker.cancel_all()
