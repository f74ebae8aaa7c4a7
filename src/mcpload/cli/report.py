"""``mcpload report``: the self-contained HTML report of a results file or an interval log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload.cli.support import DEMO_HTML, _check_files, _fail


def report(
    results_file: Annotated[
        Path, typer.Argument(metavar="RESULTS", help="Results JSON, or the NDJSON interval log of a run (even cut)")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = DEMO_HTML,
) -> None:
    """Make the self-contained HTML report of a results file (or rebuild it from an interval log)."""
    from mcpload.metrics.rebuild import REBUILT, load_results
    from mcpload.outputs.html import HtmlReportError, require_plotly, write_html

    _check_files(output=output)
    try:
        require_plotly()
        results = load_results(results_file)  # its ValueError names the file
        write_html(results, output)
    except HtmlReportError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{output}: cannot write the report ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _fail(str(exc) if str(results_file) in str(exc) else f"{results_file}: {exc}") from None
    except (TypeError, AttributeError, KeyError) as exc:  # a results file edited into an odd shape
        raise _fail(f"{results_file}: cannot make a report of it ({type(exc).__name__}: {exc})") from None
    note = " (rebuilt from the interval log)" if results.get(REBUILT) else ""
    typer.echo(f"report: {output}{note}", err=True)
