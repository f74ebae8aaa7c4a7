"""``mcpload merge``: the results of a run's segments (``--segment``) merged into one results file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload import exit_codes
from mcpload.cli import options
from mcpload.cli.distributed import report_lost
from mcpload.cli.support import (
    _check_files,
    _check_html,
    _fail,
    _write_html_report,
)


def merge(
    results_files: Annotated[
        list[Path], typer.Argument(metavar="RESULTS...", help="Results files of one run's segments (--segment)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The merged results file")] = Path("mcpload-merged.json"),
    html: options.HtmlReport = None,
    scenario_file: Annotated[
        Path | None,
        typer.Option(
            "--scenario", metavar="SCENARIO", help="Evaluate this scenario's thresholds (default: the files')"
        ),
    ] = None,
) -> None:
    """Merge the results of a run's segments exactly (counts, histograms, per-second intervals); exit 99 if a
    threshold fails."""
    from mcpload.distributed.merge import MergeError, merge_results
    from mcpload.engine.execute import write_results
    from mcpload.outputs.console import render_summary

    thresholds = None
    if scenario_file is not None:
        from mcpload.scenario import ScenarioError, load_scenario

        try:
            thresholds = list(load_scenario(scenario_file, import_python=False).thresholds)
        except (ScenarioError, ValueError) as exc:
            raise _fail(str(exc)) from None
    _check_html(html)
    _check_files(out=out)
    try:
        results = merge_results(list(results_files), thresholds)
    except MergeError as exc:
        raise _fail(str(exc)) from None
    render_summary(results)
    execution = results["execution"]
    if execution["missing"]:
        typer.echo(
            f"mcpload: the files cover {execution['covered']:.0%} of the run; missing segments: "
            f"{', '.join(execution['missing'])}",
            err=True,
        )
    report_lost(results)
    try:  # after the summary: a full disk loses this file, not what was already shown
        write_results(results, out)
        typer.echo(f"merged {len(results_files)} files: {out}", err=True)
        out_ok = True
    except OSError as exc:
        typer.echo(f"mcpload: {out}: cannot write the merged results ({exc.strerror or exc}); it is lost", err=True)
        out_ok = False
    html_ok = _write_html_report(results, html)
    passed = all(t["passed"] for t in results.get("thresholds", []))
    raise typer.Exit((0 if html_ok and out_ok else exit_codes.OUTPUT_LOST) if passed else exit_codes.THRESHOLDS)
