"""What many test modules share: running the ``mcpload`` command as a user does.

One helper instead of a copy per module (issue 17 §3): the console script beside this interpreter
(or ``python -m mcpload.cli``), always with this tree's ``src`` first on ``PYTHONPATH`` so a worktree
tests its own code, stdin closed (a command that would prompt fails instead of hanging), bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

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
