"""The transports mcpload speaks: one table that the target (``mcp.connect``), the scenario's
``target:`` section (``scenario.target_spec``), the JSON Schema and the CLI help all read.

A new transport is one module (a ``Transport`` subclass with a ``from_target`` classmethod) plus one
line in ``TRANSPORTS`` below; see docs/architecture.md, "Adding a transport". The table is plain data:
reading it imports no transport code (the scenario model stays light); ``transport_class`` imports a
transport's module the first time a session needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mcpload.transports.base import Transport

AUTO = "auto"  # not a transport: try the fitting ones in order (see ``auto_order``)


@dataclass(frozen=True, slots=True)
class TransportEntry:
    """One transport.

    Attributes:
        name: Its ``transport:`` / ``--transport`` value (and ``Transport.name``).
        summary: A few words for help texts and docs.
        needs: ``url`` (an HTTP(S) endpoint) or ``command`` (a server process mcpload starts).
        location: ``module:Class``, the ``Transport`` subclass (its module imported on first use).
        url_suffix: With ``transport: auto``, a URL path ending in this tries this transport first.
        oauth: Whether OAuth client credentials work over it.
    """

    name: str
    summary: str
    needs: Literal["url", "command"]
    location: str
    url_suffix: str | None = None
    oauth: bool = False


#: every transport; with ``auto``, URL targets try them in this order (unless a ``url_suffix`` matches)
TRANSPORTS: tuple[TransportEntry, ...] = (
    TransportEntry("http", "Streamable HTTP", "url", "mcpload.transports.streamable_http:StreamableHTTP", oauth=True),
    TransportEntry("sse", "legacy HTTP+SSE", "url", "mcpload.transports.legacy_sse:LegacySSE", url_suffix="/sse"),
    TransportEntry("stdio", "a server process on stdin/stdout", "command", "mcpload.transports.stdio:Stdio"),
)
BY_NAME: dict[str, TransportEntry] = {entry.name: entry for entry in TRANSPORTS}
#: the accepted values of ``transport`` (``auto`` first)
NAMES: tuple[str, ...] = (AUTO, *BY_NAME)
#: the CLI's ``--transport`` help
CHOICES_HELP = " | ".join(NAMES)


@cache
def transport_class(name: str) -> type[Transport]:
    """The class of transport ``name`` (its module imported on the first call).

    Raises:
        KeyError: an unknown name (callers validate names against ``NAMES`` first).
    """
    module, _, class_name = BY_NAME[name].location.partition(":")
    cls: type[Transport] = getattr(importlib.import_module(module), class_name)
    return cls


def needs_problem(transport: str, *, has_url: bool, url_word: str = "URL") -> str | None:
    """Why a pinned ``transport`` does not fit a target given as a URL (``has_url``) or a command; or None.

    ``url_word`` is how the caller spells URL in its message (the scenario file says ``url``).
    """
    entry = BY_NAME.get(transport)
    if entry is None:
        return None
    if entry.needs == "command" and has_url:
        return f"transport {transport} needs a command, not a {url_word}"
    if entry.needs == "url" and not has_url:
        return f"transport {transport} needs a {url_word}, not a command"
    return None


def auto_order(path: str | None, *, oauth: bool = False) -> list[str]:
    """The transports ``auto`` tries, in order: for a URL whose path is ``path``, or a command (None)."""
    if path is None:
        return [entry.name for entry in TRANSPORTS if entry.needs == "command"]
    fitting = [entry for entry in TRANSPORTS if entry.needs == "url" and (entry.oauth or not oauth)]
    path = path.rstrip("/")
    first = [entry.name for entry in fitting if entry.url_suffix and path.endswith(entry.url_suffix)]
    return first + [entry.name for entry in fitting if entry.name not in first]
