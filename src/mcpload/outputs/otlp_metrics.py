"""What the OTLP output exports, computed from the run's summary dicts and HDR histograms (no SDK
here): the instruments, their cumulative values, and the latency histogram in OTel buckets.

The metrics are those of the Prometheus output, named so that a collector's Prometheus exporter
turns them into the same names (``mcpload.call.duration`` in ``s`` → ``mcpload_call_duration_seconds``,
``mcpload.calls`` → ``mcpload_calls_total``): the Grafana dashboard works on either path.

| metric | type | attributes |
|---|---|---|
| ``mcpload.calls`` | counter, ``{call}`` | ``operation``, ``outcome`` (``ok`` or an outcome kind, each from 0) |
| ``mcpload.call.duration`` | histogram, ``s`` | ``operation`` (first attempts, as ``latency_ms``) |
| ``mcpload.retries`` | counter, ``{call}`` | ``operation`` |
| ``mcpload.sessions`` | counter, ``{session}`` | ``result``: ``opened``, ``failed`` |
| ``mcpload.conversations`` | counter, ``{conversation}`` | ``outcome``: ``ok``, ``failed`` |
| ``mcpload.arrivals`` | counter, ``{arrival}`` | ``result``: ``started``, ``dropped`` (open profiles) |
| ``mcpload.tokens``, ``mcpload.wasted_tokens`` | counter, ``{token}`` | |
| ``mcpload.sent_bytes``, ``mcpload.received_bytes`` | counter, ``By`` | |
| ``mcpload.active_agents``, ``mcpload.target_agents`` | gauge, ``{agent}`` | |
"""

from __future__ import annotations

from typing import Any

from mcpload.metrics.histogram import bucket_index
from mcpload.outcome import KINDS, OK

DURATION = "mcpload.call.duration"
# Seconds: the buckets of the Prometheus output (``prometheus.BUCKETS_S``), so both paths agree.
BOUNDS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# HDR counts-array index just past each bound: the buckets below it start at or below the bound.
_CUTS = tuple(bucket_index(round(b * 1e6)) + 1 for b in BOUNDS_S)

# (name, kind, unit, description); kind "counter" (monotonic, cumulative) or "gauge"
INSTRUMENTS = (
    ("mcpload.calls", "counter", "{call}", "MCP calls finished, first attempts and retries, by operation and outcome"),
    ("mcpload.retries", "counter", "{call}", "Calls that were retries, by operation"),
    ("mcpload.sessions", "counter", "{session}", "MCP session attempts, by result"),
    ("mcpload.conversations", "counter", "{conversation}", "Conversations finished, by outcome"),
    ("mcpload.arrivals", "counter", "{arrival}", "Open profiles: arrivals that came due, by result"),
    ("mcpload.tokens", "counter", "{token}", "Model tokens the emulated agents spent"),
    ("mcpload.wasted_tokens", "counter", "{token}", "Tokens spent on failed conversations"),
    ("mcpload.sent_bytes", "counter", "By", "Bytes sent for the calls"),
    ("mcpload.received_bytes", "counter", "By", "Bytes received for the calls"),
    ("mcpload.active_agents", "gauge", "{agent}", "Agents running"),
    ("mcpload.target_agents", "gauge", "{agent}", "Agents the profiles want"),
)

Figures = dict[str, list[tuple[dict[str, str], int]]]
# (operation, count, sum in s, bucket counts, min s, max s)
Duration = tuple[str, int, float, list[int], float, float]


def figures(summary: dict[str, Any], gauges: dict[str, Any]) -> Figures:
    """The value of every counter and gauge: counters cumulative over the run so far.

    Args:
        summary: ``Recorder.snapshot()`` or the results document (they share these keys).
        gauges: an interval dict, for ``active_agents`` and ``target_agents``.

    Returns:
        ``{metric name: [(attributes, value), …]}``.
    """
    calls, retries = [], []
    for op, entry in summary.get("operations", {}).items():
        errors = entry.get("errors", {})
        # Every kind from an operation's first call on (0 when none): a series that appears only with
        # its first failure would hide that failure from rate().
        for kind in KINDS:
            n = entry.get("ok", 0) if kind == OK else errors.get(kind, 0)
            calls.append(({"operation": op, "outcome": kind}, n))
        calls += [({"operation": op, "outcome": kind}, n) for kind, n in errors.items() if kind not in KINDS]
        retries.append(({"operation": op}, entry.get("retries", 0)))
    sessions, conv = summary.get("sessions", {}), summary.get("conversations", {})
    totals, arrivals = summary.get("totals", {}), summary.get("arrivals") or {}
    started, failed = sessions.get("started", 0), sessions.get("failed", 0)
    return {
        "mcpload.calls": calls,
        "mcpload.retries": retries,
        "mcpload.sessions": [({"result": "opened"}, started - failed), ({"result": "failed"}, failed)],
        "mcpload.conversations": [
            ({"outcome": "ok"}, conv.get("ok", 0)),
            ({"outcome": "failed"}, conv.get("failed", 0)),
        ],
        "mcpload.arrivals": [
            ({"result": "started"}, arrivals.get("started", 0)),
            ({"result": "dropped"}, arrivals.get("dropped", 0)),
        ],
        "mcpload.tokens": [({}, conv.get("tokens", 0))],
        "mcpload.wasted_tokens": [({}, conv.get("wasted_tokens", 0))],
        "mcpload.sent_bytes": [({}, totals.get("bytes_sent", 0))],
        "mcpload.received_bytes": [({}, totals.get("bytes_received", 0))],
        "mcpload.active_agents": [({}, gauges.get("active_agents", 0))],
        "mcpload.target_agents": [({}, gauges.get("target_agents", 0))],
    }


def bucket_counts(histogram: Any) -> list[int]:
    """Counts of an HDR histogram (µs, ``metrics.histogram.new_histogram``) in the buckets of ``BOUNDS_S``.

    Each HDR bucket (at most 0.1 % wide) goes whole into the OTel bucket of its lowest value.

    Returns:
        ``len(BOUNDS_S) + 1`` counts, the last one above the highest bound.
    """
    counts = histogram.counts
    top = histogram.get_counts_array_index(histogram.get_max_value()) + 1 if histogram.total_count else 0
    out, low = [], 0
    for cut in _CUTS:
        high = min(cut, top)
        out.append(sum(counts[low:high]) if high > low else 0)
        low = max(low, high)
    out.append(sum(counts[low:top]) if top > low else 0)
    return out


def durations(summary: dict[str, Any], histograms: dict[str, Any]) -> list[Duration]:
    """The first-attempt latency of each operation, ready for a histogram data point.

    Args:
        summary: a snapshot or the results document (for the exact mean, min and max).
        histograms: ``Recorder.histograms()``, cumulative HDR histograms by operation.
    """
    out = []
    for op, entry in summary.get("operations", {}).items():
        latency, hist = entry.get("latency_ms"), histograms.get(op)
        if not latency or hist is None or not hist.total_count:
            continue
        count = hist.total_count
        out.append(
            (
                op,
                count,
                latency["mean"] * count / 1000,
                bucket_counts(hist),
                latency["min"] / 1000,
                latency["max"] / 1000,
            )
        )
    return out


def sdk_histogram(
    name: str, description: str, rows: list[tuple[Any, ...]], bounds: tuple[float, ...], start_ns: int, now_ns: int
) -> Any:
    """One cumulative histogram metric as the OpenTelemetry SDK's export data.

    Args:
        rows: ``(attributes, count, sum_s, bucket_counts, min_s, max_s)`` per data point.
        bounds: the explicit bucket bounds (seconds) the bucket counts follow.
    """
    from opentelemetry.sdk.metrics.export import AggregationTemporality, Histogram, HistogramDataPoint, Metric

    points = [
        HistogramDataPoint(
            attributes=attributes,
            start_time_unix_nano=start_ns,
            time_unix_nano=now_ns,
            count=count,
            sum=total_s,
            bucket_counts=buckets,
            explicit_bounds=bounds,
            min=low,
            max=high,
        )
        for attributes, count, total_s, buckets, low, high in rows
    ]
    histogram = Histogram(data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE)
    return Metric(name=name, description=description, unit="s", data=histogram)
