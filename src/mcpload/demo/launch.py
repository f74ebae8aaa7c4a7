"""Start the demo server in a child process on a free loopback port, for the demo and the tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

# the process helpers live below both demo and monitor (``--server-cmd``); tests import them from here too
from mcpload.child_process import free_port, stop_process, wait_for_port


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


def replica_args(
    *,
    latency: str,
    failure_rate: str,
    latency_sigma: float,
    seed: int | None,
    max_concurrency: int | None,
    queue_timeout: float | None,
    reject_above: int | None,
    stateless: bool,
    json_response: bool,
    flaws: list[str],
) -> list[str]:
    """The ``serve-demo`` options every replica of ``serve-demo --replicas`` gets: the front's own behaviour."""
    args = ["--latency", latency, "--failure-rate", failure_rate, "--latency-sigma", str(latency_sigma)]
    for name, value in (
        ("--seed", seed),
        ("--max-concurrency", max_concurrency),
        ("--queue-timeout", queue_timeout),
        ("--reject-above", reject_above),
    ):
        if value is not None:
            args += [name, str(value)]
    args += ["--stateless"] * stateless + ["--json-response"] * json_response
    for spec in flaws:
        args += ["--flaw", spec]
    return args


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
