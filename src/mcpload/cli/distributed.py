"""Split runs on the command line: ``mcpload run --workers/--segment/--start-at/--ray`` and
``mcpload merge``. See docs/distributed.md."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer

from mcpload.distributed.sizing import AGENTS_PER_WORKER, MAX_WORKERS, auto_workers

if TYPE_CHECKING:
    from mcpload.engine.load import LoadFactory
    from mcpload.profiles import Segment
    from mcpload.scenario.command_line import RunRecipe
    from mcpload.scenario.model import Scenario


class SplitRun(TypedDict, total=False):
    """The split-run keyword arguments of ``run_scenario`` (``--segment``, ``--start-at``, the load)."""

    segment: Segment
    start_at: float | None
    load: LoadFactory | None


PANEL = "Split runs"

Workers = Annotated[
    str,
    typer.Option(
        "--workers",
        metavar="N|auto",
        help=f"Worker processes sharing this run (execution segments, merged live). auto: one per "
        f"{AGENTS_PER_WORKER:,} agents at the peak to start with, and one more (up to one per core) whenever a "
        "process runs hot (CPU or event-loop lag)",
        rich_help_panel=PANEL,
    ),
]
SegmentOpt = Annotated[
    str | None,
    typer.Option(
        "--segment",
        metavar="i/N",
        help="Run only the i-th of N equal shares of the load (or a:b, e.g. 0:1/4); merge with 'mcpload merge'",
        rich_help_panel=PANEL,
    ),
]
StartAt = Annotated[
    str | None,
    typer.Option(
        "--start-at",
        metavar="TIME",
        help="Start the load at this wall-clock time (Unix seconds or ISO 8601), so that segments start together",
        rich_help_panel=PANEL,
    ),
]
Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS|auto",
        help="Run the segments as Ray actors (extra mcpload\\[ray]): a cluster address, or auto (RAY_ADDRESS or a "
        "local cluster); --workers then counts actors (default: the cluster's CPUs)",
        rich_help_panel=PANEL,
    ),
]


#: the furthest ``--start-at`` may lie in the future
START_AT_HORIZON_S = 366 * 24 * 3600.0


def resolve_workers(text: str, scenario: Scenario, ray: str | None) -> int:
    """``--workers``: a count, or ``auto``. Raises ValueError (exit 2) on anything else."""
    if text == "auto":
        if ray:
            return 0  # the Ray backend asks the cluster
        return auto_workers(scenario)
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"--workers {text!r}: expected a number of processes or auto") from None
    if n < 1:
        raise ValueError(f"--workers {n}: must be at least 1")
    if n > MAX_WORKERS:
        raise ValueError(f"--workers {n}: at most {MAX_WORKERS} processes on one machine")
    return n


def parse_start_at(text: str | None) -> float | None:
    """``--start-at``: Unix seconds or an ISO 8601 time (with a zone, else UTC); None when absent."""
    if text is None:
        return None
    try:
        at: float | None = float(text)
    except ValueError:
        at = None
    if at is not None:
        if not math.isfinite(at) or not time.time() - 3600 <= at <= time.time() + START_AT_HORIZON_S:
            raise ValueError(f"--start-at {text[:40]!r}: expected a time within the next year")
        return at
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--start-at {text!r}: expected Unix seconds or an ISO 8601 time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    at = when.timestamp()
    if at < time.time() - 3600:
        raise ValueError(f"--start-at {text!r}: more than an hour in the past")
    if at > time.time() + START_AT_HORIZON_S:
        raise ValueError(f"--start-at {text[:40]!r}: expected a time within the next year")
    return at


def distribution(
    scenario: Scenario, workers: str, segment: str | None, start_at: str | None, ray: str | None, recipe: RunRecipe
) -> SplitRun:
    """The split-run keyword arguments of ``run_scenario`` from the options. Raises ValueError (exit 2)."""
    from mcpload.distributed.loads import split_load
    from mcpload.profiles import Segment

    out: SplitRun = {}
    count = resolve_workers(workers, scenario, ray)
    ray_recipe = None
    if segment is not None:
        try:
            out["segment"] = Segment.parse(segment)
        except ValueError as exc:
            raise ValueError(f"--segment {exc}") from None
    out["start_at"] = parse_start_at(start_at)
    if ray:
        from mcpload.distributed.ray_backend import require_ray

        require_ray()
    # auto (not with Ray): workers may be added during the run, which rebuild the run from the recipe
    adaptive = workers == "auto" and not ray
    if ray or adaptive:
        ray_recipe = recipe.resolved()
    out["load"] = split_load(count, ray, ray_recipe, adaptive)
    return out


def report_lost(results: dict[str, Any]) -> None:
    """One line per worker lost during the run (its share of the load is missing from the results)."""
    for lost in (results.get("execution") or {}).get("lost", []):
        typer.echo(
            f"mcpload: {lost['name']} (segment {lost['segment']}, {lost['share']:.0%} of the load) was lost at "
            f"{lost['at_s']}s: {lost['reason']}",
            err=True,
        )
