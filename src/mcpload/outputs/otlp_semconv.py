"""OpenTelemetry's MCP semantic conventions (``docs/gen-ai/mcp.md`` of semantic-conventions-genai,
development status), exported beside mcpload's own metrics by the OTLP output:

- ``mcp.client.operation.duration`` (histogram, ``s``): ``mcp.method.name``; for tools/call
  ``gen_ai.tool.name`` and ``gen_ai.operation.name=execute_tool``, for prompts/get
  ``gen_ai.prompt.name``; on failed calls ``error.type`` (and ``rpc.response.status_code`` for a
  JSON-RPC error); on every point ``mcp.protocol.version``, ``network.transport`` (``tcp``/``pipe``),
  ``network.protocol.name`` (``http``), ``server.address``, ``server.port``.
- ``mcp.client.session.duration`` (histogram, ``s``): the common attributes, and ``error.type`` (the
  outcome kind) for sessions that failed to open.

Every request counts, first attempts and retries (each is an MCP request); a successful call's
point has no ``error.type``. Buckets are the conventions' advised ``ExplicitBucketBoundaries``.
Computed from the recorder's HDR histograms (no per-call work): counts are exact, sums exact (µs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mcpload.metrics.histogram import bucket_index, new_histogram
from mcpload.metrics.semconv import SESSION_OK, cumulative
from mcpload.outputs.otlp_metrics import sdk_histogram

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder

OPERATION_DURATION = "mcp.client.operation.duration"
SESSION_DURATION = "mcp.client.session.duration"
#: the advised bucket boundaries of both metrics, seconds
BOUNDS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_CUTS = tuple(bucket_index(round(b * 1e6)) + 1 for b in BOUNDS_S)
_SHAPE = new_histogram()

# (attributes, count, sum in s, bucket counts, min s, max s)
Point = tuple[dict[str, Any], int, float, list[int], float, float]


def common_attributes(target: dict[str, Any]) -> dict[str, Any]:
    """The attributes every point shares, from the run header's ``target``."""
    out: dict[str, Any] = {}
    if target.get("protocol_version"):
        out["mcp.protocol.version"] = str(target["protocol_version"])
    if target.get("transport") == "stdio" or (target.get("command") and not target.get("url")):
        out["network.transport"] = "pipe"
        return out
    out["network.transport"] = "tcp"
    out["network.protocol.name"] = "http"
    parts = urlsplit(str(target.get("url") or ""))
    if parts.hostname:
        out["server.address"] = parts.hostname
        out["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    return out


def operation_attributes(op: str, etype: str | None) -> dict[str, Any]:
    """``mcp.method.name`` and friends of operation ``op`` (``"tools/call search"``), failed with ``etype``."""
    method, _, name = op.partition(" ")
    out: dict[str, Any] = {"mcp.method.name": method}
    if method == "tools/call" and name:
        out["gen_ai.tool.name"] = name
        out["gen_ai.operation.name"] = "execute_tool"
    elif method == "prompts/get" and name:
        out["gen_ai.prompt.name"] = name
    if etype is not None:
        out["error.type"] = etype
        if etype.startswith("-") and etype[1:].isdigit():  # a JSON-RPC error code
            out["rpc.response.status_code"] = etype
    return out


def _counts(hist: Any) -> list[int]:
    if not hist.total_count:
        return []
    top = hist.get_counts_array_index(hist.get_max_value()) + 1
    return list(hist.counts[:top])


def _point(attributes: dict[str, Any], counts: list[int], sum_us: int) -> Point | None:
    total = sum(counts)
    if total <= 0:
        return None
    buckets, low = [], 0
    for cut in _CUTS:
        high = min(cut, len(counts))
        buckets.append(sum(counts[low:high]) if high > low else 0)
        low = max(low, high)
    buckets.append(sum(counts[low:]))
    first = next(i for i, c in enumerate(counts) if c)
    last = max(i for i, c in enumerate(counts) if c)
    low_s = _SHAPE.get_value_from_index(first) / 1e6
    high_s = _SHAPE.get_highest_equivalent_value(_SHAPE.get_value_from_index(last)) / 1e6
    return attributes, total, max(sum_us, 0) / 1e6, buckets, low_s, high_s


def operation_points(recorder: Recorder, common: dict[str, Any]) -> list[Point]:
    """One point per (operation, error.type): the failures, and the rest (successes) without error.type."""
    totals: dict[str, tuple[list[int], int]] = {}
    for op, (hists, sum_us) in recorder.attempt_histograms().items():
        counts: list[int] = []
        for hist in hists:
            counts = _add(counts, _counts(hist))
        totals[op] = (counts, sum_us)
    failures: dict[str, list[tuple[str, list[int], int]]] = {}
    for (op, etype), timing in recorder.semconv.failed.items():
        hist, sum_us = cumulative(timing)
        failures.setdefault(op, []).append((etype, _counts(hist), sum_us))
    points = []
    for op in sorted(totals.keys() | failures.keys()):
        ok_counts, ok_sum = totals.get(op, ([], 0))
        for etype, counts, sum_us in sorted(failures.get(op, [])):
            ok_counts = _add(ok_counts, [-c for c in counts])
            ok_sum -= sum_us
            point = _point({**operation_attributes(op, etype), **common}, counts, sum_us)
            if point is not None:
                points.append(point)
        point = _point({**operation_attributes(op, None), **common}, [max(c, 0) for c in ok_counts], ok_sum)
        if point is not None:
            points.insert(len(points) - len(failures.get(op, [])), point)
    return points


def session_points(recorder: Recorder, common: dict[str, Any]) -> list[Point]:
    """One point for the sessions that ended well, one per error.type for those that failed to open."""
    points = []
    for etype, timing in sorted(recorder.semconv.sessions.items()):
        hist, sum_us = cumulative(timing)
        attributes = dict(common) if etype == SESSION_OK else {"error.type": etype, **common}
        point = _point(attributes, _counts(hist), sum_us)
        if point is not None:
            points.append(point)
    return points


def _add(a: list[int], b: list[int]) -> list[int]:
    if len(a) < len(b):
        a, b = b, a
    out = list(a)
    for i, n in enumerate(b):
        out[i] += n
    return out


def points(recorder: Recorder, common: dict[str, Any]) -> tuple[list[Point], list[Point]]:
    """``(operation points, session points)``; read the recorder on its own event loop."""
    return operation_points(recorder, common), session_points(recorder, common)


def sdk_metrics(computed: tuple[list[Point], list[Point]], start_ns: int, now_ns: int) -> list[Any]:
    """Both metrics as the OpenTelemetry SDK's export data (cumulative), leaving out empty ones."""
    out = []
    for name, description, rows in (
        (
            OPERATION_DURATION,
            "The duration of the MCP request or notification as observed on the sender from the time it was "
            "sent until the response or ack is received.",
            computed[0],
        ),
        (SESSION_DURATION, "The duration of the MCP session as observed on the MCP client.", computed[1]),
    ):
        if rows:
            out.append(sdk_histogram(name, description, rows, BOUNDS_S, start_ns, now_ns))
    return out
