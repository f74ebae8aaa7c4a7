"""``mcpload replay --per-call``: the replay goes through a recording proxy (``mcpload record``, a child
process for HTTP, a wrapped command for stdio) so that its calls can be compared one by one with the trace."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from mcpload.child_process import free_port, wait_for_port


class RecorderStartError(RuntimeError):
    """The recording proxy did not start (one line for the user)."""


def through_recorder(
    url: str | None, stdio_cmd: str | None, folder: Path
) -> tuple[str | None, str | None, subprocess.Popen[bytes] | None]:
    """Point the replay at a recording proxy (its trace goes to ``folder``): a child process for HTTP,
    a wrapped command for stdio. Returns (url, stdio_cmd, the child process or None).

    Raises:
        RecorderStartError: the proxy did not listen within 30 s.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    me = [sys.executable, "-m", "mcpload.cli", "record"]
    if stdio_cmd is not None:
        return None, shlex.join([*me, "--stdio-cmd", stdio_cmd, "-o", str(folder / "now-{pid}.jsonl")]), None
    port = free_port()
    command = [*me, "--upstream", str(url), "--listen", f"127.0.0.1:{port}", "-o", str(folder / "now.jsonl")]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 30, child)
    except (RuntimeError, TimeoutError) as exc:
        stop_recorder(child)
        raise RecorderStartError(f"--per-call: the recording proxy did not start ({exc})") from None
    parts = urlsplit(str(url))
    return f"http://127.0.0.1:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else ""), None, child


def stop_recorder(child: subprocess.Popen[bytes]) -> None:
    """Stop the recording proxy the way Ctrl-C does (its trace complete); kill it after 15 s."""
    child.send_signal(signal.SIGINT)  # the recorder's clean stop: open sessions end, the trace is complete
    try:
        child.wait(15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
