"""What many test modules share: running the ``mcpload`` command as a user does.

One helper instead of a copy per module (issue 17 §3): the console script beside this interpreter
(or ``python -m mcpload.cli``), always with this tree's ``src`` first on ``PYTHONPATH`` so a worktree
tests its own code, stdin closed (a command that would prompt fails instead of hanging), bounded.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
#: the console script installed beside this interpreter
MCPLOAD = str(Path(sys.executable).parent / "mcpload")
#: the same command through the interpreter (what a Ray or worker process spawns)
MCPLOAD_MODULE = [sys.executable, "-m", "mcpload.cli"]


def mcpload_env(extra: Mapping[str, str] | None = None, drop: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment with ``src`` first on ``PYTHONPATH``, ``extra`` added, ``drop`` removed."""
    env = {**os.environ, **(extra or {})}
    for name in drop:
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return env


#: the environment the command runs in when a test gives none of its own
ENV = mcpload_env()


def mcpload(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    drop_env: Iterable[str] = (),
    timeout: float = 120,
    module: bool = False,
    expect_ok: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``mcpload ARGS`` and return the finished process (text stdout and stderr captured).

    Args:
        cwd: the working directory (relative output paths land there).
        env: variables added to this process's environment; ``drop_env``: variables removed from it.
        timeout: seconds before ``subprocess.TimeoutExpired`` (a hung command fails its test).
        module: run ``python -m mcpload.cli`` rather than the console script.
        expect_ok: assert the exit code is 0 (the stderr tail is the assertion's message).
    """
    command = [*(MCPLOAD_MODULE if module else [MCPLOAD]), *map(str, args)]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=mcpload_env(env, drop_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if expect_ok:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def timed_mcpload(*args: str | Path, **kwargs) -> tuple[subprocess.CompletedProcess[str], float]:
    """``mcpload`` and the seconds it took (wall clock, interpreter start included)."""
    start = time.monotonic()
    done = mcpload(*args, **kwargs)
    return done, time.monotonic() - start


def mcpload_in_process(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mcpload ARGS`` as the console script runs it (``mcpload.cli.main``), in this process: the same
    code path without an interpreter start (seconds on a busy machine), for commands that end before
    any load starts (bad input, refused options). stdout and stderr captured, the exit code kept."""
    from mcpload.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdout, sys.stderr, os.getcwd()
    sys.argv, sys.stdout, sys.stderr = ["mcpload", *argv], out, err
    if cwd is not None:
        os.chdir(cwd)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv, sys.stdout, sys.stderr = saved[:3]
        os.chdir(saved[3])
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


async def call_echo(url: str, timeout: float = 5.0, **transport_kw: Any) -> Any:
    """One ``echo`` tool call on a fresh Streamable HTTP session (2025-11-25) to ``url``: its ``Outcome``."""
    from mcpload import Session, StreamableHTTP

    session = Session(StreamableHTTP(url, **transport_kw), protocol="2025-11-25", timeout=timeout)
    try:
        return await session.call_tool("echo", {"message": "hi"})
    finally:
        await session.close()
