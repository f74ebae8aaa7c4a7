"""``mcpload compare``: two runs side by side, gated by --assert."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload import exit_codes
from mcpload.cli import integrations as cli_integrations
from mcpload.cli.support import _check_html, _fail


def compare_cmd(
    base: Annotated[Path, typer.Argument(metavar="BASE", help="Results JSON of the reference run")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="Results JSON of the run to judge")],
    assertions: Annotated[
        list[str] | None,
        typer.Option(
            "--assert",
            metavar="EXPR",
            help="Gate on a delta, e.g. 'p95_delta < 10%', 'success_rate_delta > -0.1%', "
            "'tools/call search_docs: p99_delta < 20%' (repeatable)",
        ),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", metavar="PATH", help="Also write an HTML diff")] = None,
    summary_md: cli_integrations.SummaryMd = None,
) -> None:
    """Compare two runs: calls/s, success rate and p50/p95/p99 per operation; exit 99 if an --assert fails."""
    from mcpload.compare import CompareError, compare, load_results, parse_assertion
    from mcpload.outputs.comparison import render_comparison

    try:
        parsed = [parse_assertion(text) for text in assertions or []]
        _check_html(html)
        cli_integrations.check_summary_md(summary_md)
        base_results, new_results = load_results(base), load_results(new)
        comparison = compare(base_results, new_results)
        verdicts = [(a, *a.check(comparison)) for a in parsed]
    except CompareError as exc:
        raise _fail(str(exc)) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:  # a results file edited into an odd shape
        raise _fail(f"{base}, {new}: cannot compare ({type(exc).__name__}: {exc})") from None
    render_comparison(comparison, verdicts, base_name=str(base), new_name=str(new))
    if html is not None:
        from mcpload.outputs.compare_html import write_compare_html

        try:
            write_compare_html(html, comparison, base_results, new_results, (base.name, new.name), verdicts)
        except OSError as exc:
            raise _fail(f"{html}: cannot write the HTML diff ({exc.strerror or exc})") from None
        typer.echo(f"diff: {html}", err=True)
    names = (base.name, new.name)
    cli_integrations.write_summary_md(summary_md, new_results, comparison=comparison, assertions=verdicts, names=names)
    raise typer.Exit(exit_codes.THRESHOLDS if any(not passed for _, passed, _ in verdicts) else 0)
