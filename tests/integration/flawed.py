"""Runs of a few seconds against the demo server with or without flaws, for the findings tests."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from mcpload.demo.launch import free_port
from mcpload.distributed.loads import run_scenario
from mcpload.engine.preflight import PreflightError
from mcpload.monitor import MonitorConfig, monitoring
from mcpload.scenario import Scenario

HANDSHAKE = "2025-11-25"  # sessions on the wire (the stateless 2026 era has none)


def scenario(
    url: str,
    workflow: list,
    profiles: dict | list,
    protocol: str = HANDSHAKE,
    connections: str = "own",
    canary: dict | None = None,
    thresholds: dict | None = None,
    **agent: Any,
) -> Scenario:
    return Scenario.from_dict(
        {
            **({"thresholds": thresholds} if thresholds else {}),
            "options": {"grace_period": "5s", **({"canary": canary} if canary else {})},
            "target": {"url": url, "protocol": protocol, "timeout": "10s", "connections": connections},
            "agents": {"a": {"workflow": workflow, **agent}},
            "profiles": profiles,
        },
        source="<findings test>",
    )


async def run_demo(
    server_args: list[str], build, monitor: bool = True, workers: int = 1, preflight_tries: int = 1
) -> dict:
    """Start ``serve-demo`` with ``server_args`` (monitored), run ``build(url)`` against it, return the results.

    ``preflight_tries``: behind a front without affinity even the preflight's session may land on two
    replicas (its second request on a new connection): try it again that many times in all."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    cmd = " ".join([sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), *server_args])
    with monitoring(MonitorConfig(server_cmd=cmd), url) as mon:
        for attempt in range(preflight_tries):
            try:
                report = await run_scenario(
                    build(url), annotators=[mon.annotator()] if monitor else None, workers=workers
                )
                break
            except PreflightError:
                if attempt == preflight_tries - 1:
                    raise
    return report.results


def ids(results: dict) -> list[str]:
    return [f["id"] for f in results["findings"]]


# The replacement server of ``run_with_restart``: started with the run, it does its imports (seconds
# on a busy machine) at once, says so, and waits for a line on stdin to serve.
STANDBY = (
    "import os, sys\n"
    "import mcpload.cli, mcpload.cli.serve_demo, mcpload.demo.server, mcpload.demo.flaws\n"
    "import mcp.server, mcp.server.mcpserver, mcp.types, uvicorn  # the SDK: seconds on a busy machine\n"
    "print('warm', flush=True)\n"
    "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nobody reads the pipe any more\n"
    "sys.stdin.readline()\n"
    "sys.argv[0] = 'mcpload'\n"
    "mcpload.cli.main()\n"
)


@dataclass
class Restarted:
    results: dict
    outage_s: float  # from the kill until the restarted server accepted a connection, as it happened


async def run_with_restart(build, down_at: float, down_for: float, server_args: tuple[str, ...] = ()) -> Restarted:
    """Run ``build(url)`` against a demo server that is killed at ``down_at`` s and started again
    ``down_for`` s later on the same port (a crash and a restart).

    The restarted server is a process made ready beforehand (its imports done), so that it serves
    about ``down_for`` s after the kill whatever the load on this machine; the outage it caused is
    measured all the same (``outage_s``) for the tests to compare the findings with."""
    import asyncio
    import subprocess
    import time

    from mcpload.demo.launch import stop_process, wait_for_port

    port = free_port()
    args = ["serve-demo", "--port", str(port), *server_args]
    first = subprocess.Popen(
        [sys.executable, "-m", "mcpload.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    standby = subprocess.Popen(
        [sys.executable, "-c", STANDBY, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, 30, first)
        assert standby.stdout is not None and standby.stdin is not None
        assert standby.stdout.readline() == b"warm\n"  # blocks until its imports are done (or it died)
        outage: list[float] = []

        async def crash_and_restart() -> None:
            await asyncio.sleep(down_at)
            first.kill()
            first.wait()
            killed = time.monotonic()
            await asyncio.sleep(down_for)
            standby.stdin.write(b"serve\n")
            standby.stdin.flush()
            await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 30, standby)
            outage.append(time.monotonic() - killed)

        chaos = asyncio.ensure_future(crash_and_restart())
        report = await run_scenario(build(f"http://127.0.0.1:{port}/mcp"))
        await chaos
        return Restarted(report.results, outage[0])
    finally:
        for proc in (first, standby):
            stop_process(proc)
