"""The monitoring options shared by ``mcpload run`` and ``mcpload capacity`` (``--monitor-pid``,
``--monitor-name``, ``--server-cmd``, ``--scrape-metrics``, ``--scrape-series``,
``--extrapolate-agents``, ``--monitor-drain``) and how they become a ``MonitorConfig``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported where used: the CLI starts without the monitoring modules
    from mcpload.mcp.connect import Target
    from mcpload.monitor.monitor import MonitorConfig
    from mcpload.scenario.model import Scenario

PANEL = "Target monitoring"

MonitorPid = Annotated[
    list[int] | None,
    typer.Option(
        "--monitor-pid", metavar="PID", help="Sample this process and its children (repeatable)", rich_help_panel=PANEL
    ),
]
MonitorName = Annotated[
    list[str] | None,
    typer.Option(
        "--monitor-name",
        metavar="PATTERN",
        help="Sample every process whose name or command line matches this regex, children too (repeatable)",
        rich_help_panel=PANEL,
    ),
]
ServerCmd = Annotated[
    str | None,
    typer.Option(
        "--server-cmd",
        metavar="CMD",
        help="Start the target with this command before the load (ready when --url's port listens), sample it, "
        "stop it after",
        rich_help_panel=PANEL,
    ),
]
ScrapeMetrics = Annotated[
    str | None,
    typer.Option(
        "--scrape-metrics", metavar="URL", help="Also sample the target's Prometheus endpoint", rich_help_panel=PANEL
    ),
]
ScrapeSeries = Annotated[
    list[str] | None,
    typer.Option(
        "--scrape-series",
        metavar="NAME",
        help="A series to read there (repeatable; default: process_cpu_seconds_total, "
        "process_resident_memory_bytes, process_open_fds)",
        rich_help_panel=PANEL,
    ),
]
ExtrapolateAgents = Annotated[
    int | None,
    typer.Option(
        "--extrapolate-agents",
        metavar="N",
        help="Estimate cores and memory for N agents (default: 10 × the peak of active agents)",
        rich_help_panel=PANEL,
    ),
]

MonitorDrain = Annotated[
    str,
    typer.Option(
        "--monitor-drain",
        metavar="DURATION",
        help="After the load, its sessions closed, keep sampling the target this long (0 = no drain; at most "
        "60s): memory that stays up is kept per session (finding session-leak)",
        rich_help_panel=PANEL,
    ),
]


def monitor_config(
    target: Target | None,
    pids: list[int] | None = None,
    names: list[str] | None = None,
    server_cmd: str | None = None,
    scrape_url: str | None = None,
    scrape_series: list[str] | None = None,
    extrapolate_agents: int | None = None,
    drain: str | None = None,
) -> MonitorConfig:
    """The ``MonitorConfig`` of the flags; a stdio target's processes are always sampled.

    Raises:
        ValueError: a bad pattern, URL, count or drain duration (one line).
    """
    from mcpload.monitor.monitor import DRAIN_S, MonitorConfig
    from mcpload.profiles.durations import parse_duration

    return MonitorConfig(
        pids=tuple(pids or ()),
        names=tuple(names or ()),
        server_cmd=server_cmd,
        stdio=target is not None and target.command is not None,
        scrape_url=scrape_url,
        scrape_series=tuple(scrape_series or ()),
        extrapolate_agents=extrapolate_agents,
        drain_s=DRAIN_S if drain is None else parse_duration(drain, "--monitor-drain"),
    )


def target_url(scenario: Scenario, target: Target | None) -> str | None:
    """The URL a ``--server-cmd`` must listen on (None for stdio targets)."""
    return (target if target is not None else scenario.to_target()).url
