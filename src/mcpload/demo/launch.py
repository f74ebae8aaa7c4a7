"""Start the demo server in a child process on a free loopback port, for the demo and the tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@contextlib.contextmanager
def demo_server(
    port: int = 0,
    transport: str = "http",
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run ``mcpload serve-demo`` and yield its URL; stop it on exit."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "mcpload.cli",
        "serve-demo",
        "--port",
        str(port),
        "--transport",
        transport,
        *extra_args,
    ]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, timeout, proc)
        yield f"http://127.0.0.1:{port}" + ("/sse" if transport == "sse" else "/mcp")
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_replicas(host: str, port: int, replicas: int, args: list[str]) -> None:
    """Start ``replicas`` demo servers (``serve-demo`` with ``args``) on free loopback ports and serve
    a round-robin front without affinity (``demo.front``) on ``host:port`` until interrupted."""
    import asyncio
    import signal

    from mcpload.demo.front import serve_front

    def stop(*_: object) -> None:
        raise SystemExit(0)  # runs the finally below: no replica outlives the front

    signal.signal(signal.SIGTERM, stop)

    ports = [free_port() for _ in range(replicas)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(p), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        for p, proc in zip(ports, procs, strict=True):
            wait_for_port("127.0.0.1", p, 30, proc)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_front(host, port, [("127.0.0.1", p) for p in ports]))
    finally:
        for proc in procs:
            stop_process(proc)
