"""The outcome of one MCP call: what every later stage (metrics, reports, thresholds) counts.

A call never raises into its caller for anything the server or the network does; it returns an
``Outcome`` whose ``kind`` is one of the ``OutcomeKind`` names below (kept stable: reports and
thresholds use them).

This module is the contract between the stages, so it sits below all of them: transports and the
session make outcomes, the engine records them, metrics, findings and outputs count them. It imports
nothing of mcpload's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final


class OutcomeKind(StrEnum):
    """The result category of one call; the value is the name in results, metrics and thresholds."""

    OK = "ok"
    TOOL_ERROR = "tool_error"  # a result with isError: true (or a declined input_required)
    RPC_ERROR = "rpc_error"  # a JSON-RPC error object; code and message kept
    HTTP_ERROR = "http_error"  # a non-2xx HTTP status; status kept
    TIMEOUT = "timeout"
    TRANSPORT = "transport"  # refused, reset, EOF, DNS, process exited
    PROTOCOL = "protocol"  # malformed JSON/SSE, id mismatch, missing fields, oversize body
    SESSION_EXPIRED = "session_expired"  # the server forgot the session; the client re-initializes
    INTERRUPTED = "interrupted"  # cancelled by the load tester itself (run stopping)
    SCHEMA_MISMATCH = "schema_mismatch"  # structuredContent that breaks the tool's own outputSchema (when checked)


# What an ``Outcome`` carries are the plain strings (the members' values), not the members: the
# recorder keys its per-call dicts by kind, where an exact ``str`` key takes CPython's fast lookup
# path, and those dicts go into the intervals and results JSON, where orjson accepts only exact
# ``str`` keys (a ``StrEnum`` member as a key raises "Dict key must be str").
OK: Final = OutcomeKind.OK.value
TOOL_ERROR: Final = OutcomeKind.TOOL_ERROR.value
RPC_ERROR: Final = OutcomeKind.RPC_ERROR.value
HTTP_ERROR: Final = OutcomeKind.HTTP_ERROR.value
TIMEOUT: Final = OutcomeKind.TIMEOUT.value
TRANSPORT: Final = OutcomeKind.TRANSPORT.value
PROTOCOL: Final = OutcomeKind.PROTOCOL.value
SESSION_EXPIRED: Final = OutcomeKind.SESSION_EXPIRED.value
INTERRUPTED: Final = OutcomeKind.INTERRUPTED.value
SCHEMA_MISMATCH: Final = OutcomeKind.SCHEMA_MISMATCH.value

KINDS: Final[tuple[str, ...]] = tuple(kind.value for kind in OutcomeKind)  # in report order


class Outcome:
    """One call's result. ``latency`` is in seconds, ``started`` a ``time.perf_counter()`` value."""

    __slots__ = (
        "bytes_received",
        "bytes_sent",
        "error_code",
        "error_message",
        "http_status",
        "kind",
        "latency",
        "method",
        "name",
        "result",
        "retry_after",
        "retry_of",
        "started",
    )

    def __init__(
        self,
        kind: str,
        method: str,
        name: str | None = None,
        started: float = 0.0,
        latency: float = 0.0,
        result: dict[str, Any] | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        http_status: int | None = None,
        bytes_sent: int = 0,
        bytes_received: int = 0,
    ) -> None:
        self.kind = kind
        self.method = method
        self.name = name
        self.started = started
        self.latency = latency
        self.result = result
        self.error_code = error_code
        self.error_message = error_message
        self.http_status = http_status
        self.bytes_sent = bytes_sent
        self.bytes_received = bytes_received
        self.retry_of: Outcome | None = None
        self.retry_after: float | None = None  # seconds a server asked to wait (HTTP Retry-After)

    @property
    def ok(self) -> bool:
        return self.kind == OK

    @property
    def operation(self) -> str:
        """``tools/call search_docs`` style label used by metrics."""
        return f"{self.method} {self.name}" if self.name else self.method

    def describe(self) -> str:
        """A one-line human description of a failure (empty for ``ok``)."""
        if self.kind == OK:
            return ""
        parts = [self.kind]
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.error_code is not None:
            parts.append(f"code {self.error_code}")
        if self.error_message:
            parts.append(self.error_message)
        return ": ".join([parts[0], " ".join(parts[1:])]) if len(parts) > 1 else parts[0]

    def __repr__(self) -> str:
        extra = f" {self.describe()!r}" if self.kind != OK else ""
        return f"<Outcome {self.operation} {self.kind} {self.latency * 1000:.2f}ms{extra}>"
