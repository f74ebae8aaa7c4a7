"""Command-line options of the integrations: ``--summary-md`` (the Markdown summary, as the GitHub
Action writes it). Checked before any load; written after it. Nothing here reads argv."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

SummaryMd = Annotated[
    Path | None,
    typer.Option(
        "--summary-md",
        metavar="PATH",
        help="Also write a Markdown summary (verdict, thresholds, operations, findings, comparison), "
        "as the GitHub Action puts in $GITHUB_STEP_SUMMARY",
    ),
]


def check_summary_md(path: Path | None) -> None:
    """Exit 2 before any load when the summary could not be written."""
    if path is not None and not path.parent.is_dir():
        typer.echo(f"mcpload: --summary-md {path}: no such directory {path.parent}", err=True)
        raise typer.Exit(2)


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
