"""Worker processes on this machine (``--workers N``): forked after preflight, so that they inherit the
loaded scenario (templates, Python agents, data files) instead of rebuilding it. Parent and worker talk
over a socket pair, one JSON message per line.

``--workers auto`` adds workers during the run (``distributed.adaptive``). By then the parent runs
threads (the watchdog, outputs), which a fork must not copy in the middle of their work, so those
workers are *spawned*: a fresh interpreter that rebuilds the scenario from the command line's recipe,
as a Ray actor does."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mcpload.distributed.worker import Recipe, SegmentWorker
from mcpload.profiles import Segment, ShareSchedule

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from mcpload.engine.preflight import Preflight

_LINE_LIMIT = 64 * 1024 * 1024  # a second's drain of a busy worker is far smaller; this only bounds a bug


@dataclass(frozen=True, slots=True)
class SpawnRecipe:
    """What a spawned worker needs to rebuild its part of the run (all picklable).

    Attributes:
        recipe: rebuilds ``(scenario, target)`` (the command line's ``RunRecipe``).
        info: what the coordinator's preflight learnt (transport, protocol, tools).
        seed: the run's seed.
        secrets: values to redact from error messages.
        digest: ``(path, sha256)`` of the scenario file as the run loaded it: a worker that finds the file
            changed since refuses to start (it would run another scenario), or None (no file).
    """

    recipe: Recipe
    info: Preflight
    seed: int
    secrets: frozenset[str]
    digest: tuple[str, str] | None = None

    @staticmethod
    def digest_of(source: str) -> tuple[str, str] | None:
        """``(absolute path, sha256)`` of a scenario file; None when ``source`` is not a readable file."""
        try:
            path = Path(source).resolve()
            return str(path), hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None


class ProcessHandle:
    """The parent's side of one worker process.

    Args:
        segment: the worker's segment (a spawned worker's is given by its first change).
        build: forks a worker that builds its ``SegmentWorker`` with this, from the scenario loaded here;
            or a ``SpawnRecipe``: spawns one that rebuilds it (``--workers auto`` during a run).
        index: the worker's number (``worker-{index + 1}``).
    """

    def __init__(self, segment: Segment, build: Callable[[Segment], SegmentWorker] | SpawnRecipe, index: int) -> None:
        self.segment = segment
        self.name = f"worker-{index + 1}"
        parent, child = socket.socketpair()
        self._process: BaseProcess | _Spawned
        if isinstance(build, SpawnRecipe):
            self._process = _Spawned(child)
            payload = pickle.dumps(build)  # what the child reads first (the socket is still blocking here)
            parent.sendall(len(payload).to_bytes(8, "big") + payload)
        else:
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

    def reshare(self, at_s: float, segment: Segment | None, epoch: int) -> None:
        """From ``at_s`` (seconds after the run's start) on, the worker executes ``segment``."""
        if segment is not None:
            self.segment = segment
        text = None if segment is None else str(segment)
        self._send({"cmd": "reshare", "at_s": at_s, "segment": text, "epoch": epoch})

    async def ready(self, timeout: float) -> None:
        """Until a spawned worker has built its scenario (its first message).

        Raises:
            RuntimeError: it failed (its reason), ended or took longer than ``timeout`` seconds.
        """
        assert self._reader is not None, "connect() first"
        try:
            line = await asyncio.wait_for(self._reader.readline(), timeout)
        except TimeoutError:
            raise RuntimeError(f"not ready after {timeout:g}s") from None
        message = orjson.loads(line) if line else {}
        if not isinstance(message, dict) or not message.get("ready"):
            raise RuntimeError(str(message.get("error") if isinstance(message, dict) else "") or self.lost_reason())

    def kill(self) -> None:
        """End the process now (a worker that never took part)."""
        if self._process.is_alive():
            self._process.kill()

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


class _Spawned:
    """A worker process started as a fresh interpreter (``python -c``), not through ``multiprocessing``:
    its spawn would run the parent's ``__main__`` again, which a Python caller's unguarded script does not
    survive. The child gets its end of the socket pair as an inherited descriptor, then the pickled
    ``SpawnRecipe`` over it (``sys.path`` travels in ``PYTHONPATH``, so that the recipe unpickles)."""

    def __init__(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        code = f"from mcpload.distributed.worker_processes import spawned_main; spawned_main({fd})"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        # its own session: a Ctrl-C at the terminal must not reach it while the interpreter starts (before
        # it can ignore SIGINT); the coordinator tells it to stop, and it stops on its own when the
        # coordinator's end of the socket closes
        self._popen = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._popen.kill()


def spawned_main(fd: int) -> None:
    """A worker started during the run: read its recipe, rebuild the scenario, say ready, then serve like a
    forked one. It holds nothing until the coordinator gives it a share (``reshare``)."""
    # Ctrl-C reaches the whole process group; the parent decides what it means and tells the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from mcpload._loop import run
    from mcpload.engine.world import prepare_world

    sock = socket.socket(fileno=fd)
    try:
        size = int.from_bytes(_read_exactly(sock, 8), "big")
        spawn: SpawnRecipe = pickle.loads(_read_exactly(sock, size))
        if spawn.digest is not None and SpawnRecipe.digest_of(spawn.digest[0]) != spawn.digest:
            raise RuntimeError(f"the scenario file {spawn.digest[0]} changed (or went) since the run started")
        scenario, target = spawn.recipe()
        info = spawn.info
        worker = SegmentWorker(
            scenario, target, info.transport, info.protocol, spawn.seed, None, spawn.secrets,
            shares=ShareSchedule(None, fixed=False),
        )  # fmt: skip
        prepare_world(worker.load.world, info, scenario)
    except Exception as exc:  # reported to the parent, which records the failed change
        _send_blocking(sock, {"error": " ".join(f"{type(exc).__name__}: {exc}".split())[:500]})
        os._exit(1)
    _send_blocking(sock, {"ready": True})
    run(_serve(sock, worker))
    os._exit(0)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the coordinator went away")
        data += chunk
    return data


def _send_blocking(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(orjson.dumps(message) + b"\n")


async def _serve(sock: socket.socket, worker: SegmentWorker) -> None:
    reader, writer = await asyncio.open_connection(sock=sock, limit=_LINE_LIMIT)

    def send(message: dict[str, Any]) -> None:
        if not writer.is_closing():
            writer.write(orjson.dumps(message) + b"\n")

    start: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
    commands = asyncio.ensure_future(_commands(reader, worker, start, send))
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


async def _commands(
    reader: asyncio.StreamReader,
    worker: SegmentWorker,
    start: asyncio.Future[float | None],
    send: Callable[[dict[str, Any]], None],
) -> None:
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
        elif cmd == "reshare":
            segment = command.get("segment")
            notice = worker.reshare(
                float(command["at_s"]), None if segment is None else Segment.parse(segment), int(command["epoch"])
            )
            send({"reshared": round(notice, 3)})
