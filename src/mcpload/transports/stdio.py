"""stdio transport: one server process per session, newline-delimited JSON-RPC.

The command runs without a shell (argv as given; to use a shell, make it the command: ``sh -c …``).
Its environment is explicit, as in the official MCP Python SDK's stdio client: only a few harmless
variables are inherited from mcpload's own environment (``INHERITED_ENV_VARS``: ``PATH``, ``HOME``, …),
then ``env`` is laid over them; ``inherit_env=True`` passes mcpload's whole environment instead, so a
load tester's own secrets reach the server only when asked. stderr is kept in a bounded buffer (for
diagnostics, never allowed to block the server). Shutdown follows the spec: close stdin, then SIGTERM,
then SIGKILL.

stdout is read line by line, each line at most ``max_line`` bytes (``max_response_bytes``): a longer
one is read to its end and dropped, the call it answers fails as ``protocol`` and reading goes on
(see ``Correlated`` for how that call is found). A line that is not JSON is a stray log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import deque
from collections.abc import Mapping
from typing import Any, Self

import orjson

from mcpload.outcome import SESSION_EXPIRED, TIMEOUT, TRANSPORT
from mcpload.transports.base import CallFailure, TransportSettings
from mcpload.transports.correlated import SNIFF_BYTES, Correlated

STDERR_KEEP = 64 * 1024

# The variables a stdio server inherits by default: the MCP Python SDK's list (mcp.client.stdio).
INHERITED_ENV_VARS: tuple[str, ...] = (
    (
        "APPDATA",
        "HOMEDRIVE",
        "HOMEPATH",
        "LOCALAPPDATA",
        "PATH",
        "PATHEXT",
        "PROCESSOR_ARCHITECTURE",
        "SYSTEMDRIVE",
        "SYSTEMROOT",
        "TEMP",
        "USERNAME",
        "USERPROFILE",
    )
    if sys.platform == "win32"
    else ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
)


def server_environment(
    env: Mapping[str, str] | None = None, inherit_env: bool = False, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a stdio server process gets.

    Args:
        env: Variables given for the server (the scenario's ``target.env``); they win.
        inherit_env: Start from the whole of ``parent`` instead of ``INHERITED_ENV_VARS`` only.
        parent: mcpload's own environment (default ``os.environ``).
    """
    parent = os.environ if parent is None else parent
    if inherit_env:
        base = dict(parent)
    else:  # as the SDK: skip exported shell functions ("() { …"), a known injection vector
        base = {k: v for k in INHERITED_ENV_VARS if (v := parent.get(k)) is not None and not v.startswith("()")}
    return {**base, **(env or {})}


STDERR_EXCERPT = 300  # characters of a dying server's stderr that go into its one-line error


def stderr_excerpt(text: str, limit: int = STDERR_EXCERPT) -> str:
    """``"; stderr: …"`` with the last non-empty lines of ``text`` on one line (control characters
    removed, at most ``limit`` characters, the end kept: a traceback's last line says what failed)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    tail = " | ".join(line for line in lines[-8:] if line)
    tail = "".join(ch if ch.isprintable() else " " for ch in tail)
    if not tail:
        return ""
    if len(tail) > limit:
        tail = "…" + tail[-(limit - 1) :]
    return f"; stderr: {tail}"


class Stdio(Correlated):
    name = "stdio"

    def __init__(
        self,
        command: list[str],
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        max_line: int = 16 * 1024 * 1024,
        shutdown_timeout: float = 2.0,
        inherit_env: bool = False,
    ) -> None:
        if not command:
            raise ValueError("stdio command is empty")
        self.command = list(command)
        self.env = env
        self.inherit_env = inherit_env
        self.cwd = cwd
        self.max_line = max_line
        self.max_body = max_line  # the transports' common name for max_response_bytes
        self.shutdown_timeout = shutdown_timeout
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_tail: deque[bytes] = deque()
        self._stderr_size = 0
        self._pending: dict[Any, asyncio.Future[tuple[dict[str, Any], int]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stdin: asyncio.StreamWriter | None = None  # the running process's stdin
        self._exited: str | None = None

    @classmethod
    def from_target(cls, target: TransportSettings, headers: dict[str, str]) -> Self:
        del headers  # no HTTP here
        return cls(
            target.command or [],
            env=target.env,
            max_line=target.max_response_bytes,
            inherit_env=target.inherit_env,
        )

    async def start(self) -> None:
        if self.proc is None:
            await self._spawn()

    async def _spawn(self) -> asyncio.StreamWriter:
        """Start the server process and its readers; returns its stdin."""
        try:
            proc = self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=self.max_line,
                env=server_environment(self.env, self.inherit_env),
                cwd=self.cwd,
            )
        except OSError as exc:
            raise CallFailure(TRANSPORT, f"cannot start {self.command[0]!r}: {exc.strerror or exc}") from None
        # all three are pipes (PIPE above): asyncio types them as optional
        stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
        assert stdin is not None and stdout is not None and stderr is not None
        self._stdin = stdin
        self._exited = None
        self._tasks = [
            asyncio.ensure_future(self._read_stdout(stdout)),
            asyncio.ensure_future(self._read_stderr(stderr)),
        ]
        return stdin

    async def _read_stdout(self, reader: asyncio.StreamReader) -> None:
        reason = "server closed stdout"
        head: bytes | None = None  # the first bytes of a line over the limit, while its rest is skipped
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:  # end of output: a last line without LF, or none
                line = exc.partial
                if not line and head is None:
                    break
            except asyncio.LimitOverrunError as exc:
                # a line over the limit: take what is buffered out of the reader, keep its first bytes
                part = await reader.readexactly(exc.consumed)
                if head is None:
                    head = part[:SNIFF_BYTES]
                continue
            except (ValueError, ConnectionError) as exc:
                reason = f"cannot read the server's stdout: {exc}"
                break
            if head is not None:  # the end of a line over the limit: the call it answers fails, reading goes on
                self._bad_message(f"server wrote a line over {self.max_line} bytes", head + line[-SNIFF_BYTES:], True)
                head = None
            else:
                try:
                    msg = orjson.loads(line)
                except orjson.JSONDecodeError:
                    if line.strip():  # a stray line (a log on stdout): blamed only on a call whose id it names
                        self._bad_message("malformed JSON-RPC message (or invalid UTF-8) on stdout", line)
                else:
                    if isinstance(msg, dict):
                        self._incoming(msg, len(line))
                    elif isinstance(msg, list):  # a JSON-RPC batch (2025-03-26)
                        for item in msg:
                            if isinstance(item, dict):
                                self._incoming(item, len(line) // len(msg))
            if not line.endswith(b"\n"):
                break
        proc, tasks = self.proc, self._tasks
        code = await proc.wait() if proc is not None else None
        if len(tasks) > 1:  # let the stderr reader take the last words of a dying server
            await asyncio.wait((tasks[1],), timeout=1.0)
        if self.proc is not proc:
            return  # stopped (or restarted) meanwhile: _stop has failed what was in flight
        self._exited = f"{reason}; process exited with code {code}{stderr_excerpt(self.stderr_text())}"
        self._fail_all(CallFailure(TRANSPORT, self._exited))

    async def _read_stderr(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(8192):
            self.stderr_tail.append(chunk)
            self._stderr_size += len(chunk)
            while self._stderr_size > STDERR_KEEP and len(self.stderr_tail) > 1:
                self._stderr_size -= len(self.stderr_tail.popleft())

    async def _send_message(self, body: bytes, timeout: float) -> int:
        if self._exited is not None:
            raise CallFailure(SESSION_EXPIRED, self._exited)
        stdin = self._stdin
        if stdin is None:
            stdin = await self._spawn()
        try:
            stdin.write(body + b"\n")
            if stdin.transport.get_write_buffer_size() > 65536:
                async with asyncio.timeout(timeout):  # a server that stops reading stdin must not hold the call
                    await stdin.drain()
        except TimeoutError:
            raise CallFailure(TIMEOUT, "timed out writing to the server (it does not read its stdin)") from None
        except (ConnectionError, RuntimeError) as exc:
            if self._tasks:  # the process is gone: say why, with its stderr, once the reader has seen it end
                await asyncio.wait((self._tasks[0],), timeout=2.0)
            raise CallFailure(TRANSPORT, self._exited or f"cannot write to the server: {exc}") from None
        return len(body) + 1

    async def reset(self) -> None:
        await self._stop()

    async def close(self) -> None:
        self.cancel_answers()
        await self._stop()

    async def _stop(self) -> None:
        proc, self.proc, self._stdin = self.proc, None, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                proc.stdin.close()  # type: ignore[union-attr]  # a pipe (see _spawn); any failure is suppressed
            for step in (None, proc.terminate, proc.kill):
                if step is not None:
                    with contextlib.suppress(ProcessLookupError):
                        step()
                try:
                    await asyncio.wait_for(proc.wait(), self.shutdown_timeout)
                    break
                except TimeoutError:
                    continue
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._fail_all(CallFailure(TRANSPORT, "session closed"))
        self._exited = None

    def stderr_text(self) -> str:
        return b"".join(self.stderr_tail).decode("utf-8", "replace")

    def diagnostics(self) -> dict[str, Any]:
        return {"command": self.command, "pid": self.proc.pid if self.proc else None, "stderr": self.stderr_text()}
