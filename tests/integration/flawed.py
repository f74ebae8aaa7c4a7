"""Runs of a few seconds against the demo server with or without flaws, for the findings tests."""

from __future__ import annotations

import sys
from typing import Any

from mcpload.demo.launch import free_port
from mcpload.engine.execute import run_scenario
from mcpload.monitor import MonitorConfig, monitoring
from mcpload.scenario import Scenario

HANDSHAKE = "2025-11-25"  # sessions on the wire (the stateless 2026 era has none)


def scenario(url: str, workflow: list, profiles: dict | list, protocol: str = HANDSHAKE, **agent: Any) -> Scenario:
    return Scenario.from_dict(
        {
            "target": {"url": url, "protocol": protocol, "timeout": "10s"},
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
