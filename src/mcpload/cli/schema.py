"""``mcpload schema``: the JSON Schema of the scenario format (for editors: completion and checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload.cli.support import _fail


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file (default: standard output)")
    ] = None,
) -> None:
    """Print the JSON Schema of the scenario format (for editors: completion and checks)."""
    from mcpload.scenario.schema import schema_text

    text = schema_text()
    if output is None:
        typer.echo(text, nl=False)
        return
    from mcpload.atomic import write_text_atomic

    try:
        write_text_atomic(output, text)
    except OSError as exc:
        raise _fail(f"{output}: cannot write the schema ({exc.strerror or exc})") from None
    typer.echo(f"schema: {output}", err=True)
