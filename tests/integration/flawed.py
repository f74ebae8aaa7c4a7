"""Runs of a few seconds against the demo server with or without flaws, for the findings tests."""

from __future__ import annotations

import sys
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


async def run_with_restart(build, down_at: float, down_for: float, server_args: tuple[str, ...] = ()) -> dict:
    """Run ``build(url)`` against a demo server that is killed at ``down_at`` s and started again
    ``down_for`` s later on the same port (a crash and a restart)."""
    import asyncio
    import subprocess

    from mcpload.demo.launch import stop_process, wait_for_port

    port = free_port()
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), *server_args]

    def start() -> subprocess.Popen:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = [start()]
    try:
        wait_for_port("127.0.0.1", port, 30, procs[0])

        async def crash_and_restart() -> None:
            await asyncio.sleep(down_at)
            procs[0].kill()
            procs[0].wait()
            await asyncio.sleep(down_for)
            procs.append(start())

        chaos = asyncio.ensure_future(crash_and_restart())
        report = await run_scenario(build(f"http://127.0.0.1:{port}/mcp"))
        await chaos
        return report.results
    finally:
        for proc in procs:
            stop_process(proc)
