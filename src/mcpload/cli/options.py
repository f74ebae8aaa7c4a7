"""The command-line options several commands share, defined once (``Annotated`` types for Typer).

Option groups with their own logic stay with it: monitoring (``cli.monitor``), split runs
(``cli.distributed``), the host guard and dry run (``cli.plan``), the integrations (``cli.integrations``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mcpload.transports.registry import CHOICES_HELP as TRANSPORT_CHOICES

# -- the target of a load (run, capacity, replay): each overrides the scenario's ---------------------
TargetUrl = Annotated[str | None, typer.Option(help="Target URL (overrides the scenario's)")]
StdioCmd = Annotated[str | None, typer.Option("--stdio-cmd", help="Target stdio command")]
Transport = Annotated[str | None, typer.Option(help=TRANSPORT_CHOICES)]
Protocol = Annotated[str | None, typer.Option(help="auto, or a protocol version")]
BearerEnv = Annotated[str | None, typer.Option(help="Environment variable holding a bearer token")]

# -- the target of a command that connects without a scenario (diagnose, init) ----------------------
ServerUrl = Annotated[str | None, typer.Argument(help="MCP endpoint URL (Streamable HTTP or legacy /sse)")]
ServerCmd = Annotated[str | None, typer.Option("--stdio-cmd", help="Start this command as a stdio server")]
ServerTransport = Annotated[str, typer.Option(help=TRANSPORT_CHOICES)]
ServerProtocol = Annotated[str, typer.Option(help="auto, or a protocol version such as 2025-11-25")]
ServerBearerEnv = Annotated[str | None, typer.Option(help="Name of an environment variable holding a bearer token")]
Timeout = Annotated[float, typer.Option(help="Per-request timeout, seconds")]
ConnectTimeout = Annotated[float, typer.Option(help="Connect timeout, seconds")]

# -- every command that connects ---------------------------------------------------------------------
Headers = Annotated[list[str] | None, typer.Option("--header", "-H", help="Extra HTTP header 'Name: value'")]
#: ``--insecure`` and ``--ca-file``, the same on every command that connects
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates")]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file", metavar="PEM", help="Trust the CA certificates in this PEM file (a private CA, self-signed server)"
    ),
]

# -- a run -------------------------------------------------------------------------------------------
Seed = Annotated[int | None, typer.Option(help="Seed for every random choice")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No live view, only the summary")]
HtmlReport = Annotated[Path | None, typer.Option("--html", metavar="PATH", help="Also write the HTML report")]
Prometheus = Annotated[
    str | None,
    typer.Option("--prometheus", metavar="HOST:PORT", help="Serve live Prometheus metrics, e.g. 127.0.0.1:9464"),
]
Otlp = Annotated[
    str | None,
    typer.Option("--otlp", metavar="URL", help="Push live metrics over OTLP/HTTP, e.g. http://127.0.0.1:4318"),
]
AllowPython = Annotated[
    bool,
    typer.Option(
        "--allow-python",
        help="Let the scenario's python: agents import code outside its folder (other files, installed modules)",
    ),
]
