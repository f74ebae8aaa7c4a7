"""Command-line options of the integrations: ``--summary-md`` (the Markdown summary, as the GitHub
Action writes it). Checked before any load; written after it. Nothing here reads argv."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target

from mcpload import exit_codes

SummaryMd = Annotated[
    Path | None,
    typer.Option(
        "--summary-md",
        metavar="PATH",
        help="Also write a Markdown summary (verdict, thresholds, operations, findings, comparison), "
        "as the GitHub Action puts in $GITHUB_STEP_SUMMARY",
    ),
]


TraceContext = Annotated[
    float | None,
    typer.Option(
        "--trace-context",
        metavar="RATE",
        help="Give this share of requests (0..1, e.g. 0.01) a W3C traceparent in params._meta and the HTTP "
        "header, so the server's OpenTelemetry spans link to the run; the slowest traced calls are reported",
    ),
]


def with_trace_context(target: Target, rate: float | None) -> Target:
    """``target`` asking for trace context on ``rate`` of the requests; exit 2 on a rate outside (0, 1]."""
    if rate is None:
        return target
    if not 0 < rate <= 1:
        typer.echo(f"mcpload: --trace-context {rate:g}: the sampled share must be above 0 and at most 1", err=True)
        raise typer.Exit(exit_codes.USAGE)
    import dataclasses

    return dataclasses.replace(target, trace_context=rate)


Dashboard = Annotated[
    str | None,
    typer.Option(
        "--dashboard",
        metavar="HOST:PORT",
        help="Serve a live web dashboard during the run (charts, findings, a stop button), e.g. 127.0.0.1:5665",
    ),
]


def check_summary_md(path: Path | None) -> None:
    """Exit 2 before any load when the summary could not be written there (``outputs.paths``)."""
    if path is None:
        return
    from mcpload.outputs.paths import output_problem

    problem = output_problem(path)
    if problem:
        typer.echo(f"mcpload: --summary-md {path}: {problem}", err=True)
        raise typer.Exit(exit_codes.USAGE)


def write_summary_md(path: Path | None, results: dict[str, Any] | None, **comparison: Any) -> bool:
    """Write the summary when asked; False (and one line) when it could not be written."""
    if path is None:
        return True
    from mcpload.outputs.summary_md import render, write_summary_md

    try:
        write_summary_md(path, render(results, **comparison))
    except OSError as exc:
        typer.echo(f"mcpload: {path}: cannot write the Markdown summary ({exc.strerror or exc})", err=True)
        return False
    typer.echo(f"summary: {path}", err=True)
    return True
