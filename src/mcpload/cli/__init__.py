"""Command line: argv → options → commands. The only package that reads argv or exits.

One module per command (``run``, ``capacity``, ``compare``, …), registered on ``app`` below; shared
plumbing in ``support``, the run-time guards in ``guard``.

Exit codes: 0 success · 1 a diagnose check failed · 2 bad input (usage, options, scenario) · 3 target
unreachable or not an MCP server · 99 a threshold failed · 130 interrupted (results still written).
"""

from __future__ import annotations

from typing import Annotated

import typer

from mcpload.cli import (
    capacity,
    compare,
    demo,
    diagnose,
    init,
    merge,
    report,
    run,
    schema,
    serve_demo,
    traffic,
)
from mcpload.cli.support import DEBUG
from mcpload.version import __version__

app = typer.Typer(
    name="mcpload",
    help="Load tester for MCP servers: emulates many bursty LLM agents and measures what they see.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="On a failure, show the traceback behind the one-line message")
    ] = False,
) -> None:
    if debug:
        DEBUG["on"] = True


@app.command()
def version() -> None:
    """Print the mcpload version."""
    typer.echo(__version__)


app.command("serve-demo")(serve_demo.serve_demo)
app.command("run")(run.run_cmd)
app.command("report")(report.report)
app.command("compare")(compare.compare_cmd)
app.command("demo")(demo.demo)
app.command("capacity")(capacity.capacity)
app.command("merge")(merge.merge)
app.command("init")(init.init)
app.command("diagnose")(diagnose.diagnose)
app.command("schema")(schema.schema)
traffic.register(app)


def main() -> None:
    from mcpload.cli.guard import main as guarded_main

    guarded_main(app)
