"""Runs of a few seconds against the demo server with or without flaws, for the findings tests."""

from __future__ import annotations

import sys
from typing import Any

from mcpload.demo.launch import free_port
from mcpload.engine.execute import run_scenario
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
    **agent: Any,
) -> Scenario:
    return Scenario.from_dict(
        {
            "options": {"grace_period": "5s", **({"canary": canary} if canary else {})},
            "target": {"url": url, "protocol": protocol, "timeout": "10s", "connections": connections},
            "agents": {"a": {"workflow": workflow, **agent}},
            "profiles": profiles,
        },
        source="<findings test>",
    )


async def run_demo(server_args: list[str], build, monitor: bool = True) -> dict:
    """Start ``serve-demo`` with ``server_args`` (monitored), run ``build(url)`` against it, return the results."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    cmd = " ".join([sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), *server_args])
    with monitoring(MonitorConfig(server_cmd=cmd), url) as mon:
        report = await run_scenario(build(url), annotators=[mon.annotator()] if monitor else None)
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
