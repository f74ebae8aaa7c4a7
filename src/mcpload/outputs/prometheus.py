"""Live Prometheus metrics of a run (``--prometheus HOST:PORT``): an HTTP endpoint whose collector
reads the run's cumulative state at scrape time, so the hot path pays nothing per call.

Once a second, on the event loop thread, ``interval`` turns the runner's snapshot and the recorder's
cumulative HDR histograms into one immutable ``_State``; a scrape (on prometheus_client's server
thread) only reads the latest ``_State``, replaced whole by one attribute assignment. Histogram
buckets are exact to HDR resolution: a bucket ``le`` counts every value ≤ ``le`` (plus those in the
bound's own HDR bucket, at most 0.1 % above it); ``_sum`` adds bucket midpoints (within 0.05 %).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from itertools import accumulate
from operator import mul
from typing import TYPE_CHECKING, Any, Self

from hdrh.histogram import HdrHistogram
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString as _untyped_float_to_go_string

from mcpload.host_guard import is_loopback
from mcpload.metrics.histogram import bucket_index
from mcpload.outcome import KINDS, OK
from mcpload.outputs.base import LiveOutput, OptionError

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder

#: prometheus_client's text for a bucket bound (``0.001``, ``+Inf``), typed: the library does not annotate it
floatToGoString: Callable[[float], str] = _untyped_float_to_go_string
DEFAULT_ADDRESS = "127.0.0.1:9464"
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BOUNDS_US = tuple(round(b * 1e6) for b in BUCKETS_S)
_LE = (*(floatToGoString(b) for b in BUCKETS_S), "+Inf")
_MIDPOINTS: list[int] = []  # HDR bucket midpoints (µs) by counts-array index, filled once


def parse_address(text: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (or a bare ``PORT``, on 127.0.0.1) into a host and a port.

    Args:
        text: ``127.0.0.1:9464``, ``0.0.0.0:9464``, ``[::1]:9464`` or ``9464``.

    Returns:
        ``(host, port)``; an IPv6 host loses its brackets.

    Raises:
        ValueError: the text is not of that form or the port is outside 1 … 65535.
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep and port.isdigit():
        host = "127.0.0.1"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or any(c.isspace() or c in "[]/" for c in host) or (":" in host and not text.strip().startswith("[")):
        raise ValueError(f"{text!r}: expected HOST:PORT, e.g. {DEFAULT_ADDRESS}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number in 1 … 65535")
    return host, int(port)


class _State:
    """What one scrape reads: plain values copied on the loop thread, never mutated afterwards."""

    __slots__ = ("calls", "counters", "durations", "gauges", "info", "retries")

    def __init__(self, info: dict[str, str]) -> None:
        self.info = info
        self.calls: list[tuple[str, str, int]] = []  # (operation, outcome, n)
        self.retries: list[tuple[str, int]] = []
        self.durations: list[tuple[str, list[int], float]] = []  # (operation, cumulative buckets, sum s)
        self.gauges = {"active": 0, "target": 0}
        self.counters: dict[str, int] = {}


def _midpoints(hist: HdrHistogram) -> list[int]:
    if len(_MIDPOINTS) < hist.counts_len:
        lows = [hist.get_value_from_index(i) for i in range(hist.counts_len)]
        _MIDPOINTS[:] = [(low + hist.get_highest_equivalent_value(low) + 1) // 2 for low in lows]
    return _MIDPOINTS


def histogram_buckets(hist: HdrHistogram) -> tuple[list[int], float]:
    """Cumulative counts of an HDR histogram (µs) at ``BUCKETS_S`` and ``+Inf``, and its sum in seconds.

    Args:
        hist: a histogram made by ``mcpload.metrics.histogram.new_histogram``.

    Returns:
        ``(counts, sum_s)``: ``counts[i]`` is how many values are ≤ ``BUCKETS_S[i]`` (HDR resolution),
        the last entry the total count.
    """
    total = hist.total_count
    if not total:
        return [0] * len(_LE), 0.0
    top = min(hist.get_counts_array_index(hist.max_value) + 1, hist.counts_len)
    counts = hist.counts[:top]
    cumulative = list(accumulate(counts))
    if cumulative[-1] != total:  # max_value not trusted: read the whole array
        counts = hist.counts[:]
        cumulative = list(accumulate(counts))
    last = len(cumulative) - 1
    out = [cumulative[min(bucket_index(bound), last)] for bound in _BOUNDS_US]
    out.append(cumulative[-1])
    return out, sum(map(mul, counts, _midpoints(hist))) / 1e6


class RunCollector(Collector):
    """Exposes the latest ``_State`` of a run in Prometheus' data model (read at scrape time)."""

    def __init__(self) -> None:
        self.state = _State({})

    def update(self, snapshot: dict[str, Any], gauges: dict[str, Any], histograms: dict[str, HdrHistogram]) -> None:
        """Replace the state (loop thread): cumulative ``snapshot``, gauges of the last interval, histograms."""
        state = _State(self.state.info)
        for op, entry in sorted(snapshot.get("operations", {}).items()):
            errors = entry.get("errors", {})
            state.calls += [(op, kind, entry.get("ok", 0) if kind == OK else errors.get(kind, 0)) for kind in KINDS]
            state.calls += [(op, kind, n) for kind, n in errors.items() if kind not in KINDS]
            state.retries.append((op, entry.get("retries", 0)))
        for op, hist in sorted(histograms.items()):
            if not op.startswith("__"):
                state.durations.append((op, *histogram_buckets(hist)))
        state.gauges = {"active": gauges.get("active_agents") or 0, "target": gauges.get("target_agents") or 0}
        sessions = snapshot.get("sessions", {})
        conversations = snapshot.get("conversations", {})
        arrivals = snapshot.get("arrivals") or {}
        totals = snapshot.get("totals", {})
        state.counters = {
            "sessions_opened": sessions.get("started", 0) - sessions.get("failed", 0),
            "sessions_failed": sessions.get("failed", 0),
            "conversations_ok": conversations.get("ok", 0),
            "conversations_failed": conversations.get("failed", 0),
            "tokens": conversations.get("tokens", 0),
            "wasted_tokens": conversations.get("wasted_tokens", 0),
            "arrivals_started": arrivals.get("started", 0),
            "arrivals_dropped": arrivals.get("dropped", 0),
            "bytes_sent": totals.get("bytes_sent", 0),
            "bytes_received": totals.get("bytes_received", 0),
        }
        self.state = state  # one assignment: a scrape sees the old state or the new, never a mix

    def describe(self) -> Iterator[Metric]:
        """Every metric family this collector exports (empty), for the registry's name checks."""
        return self._families(_State({}))

    def collect(self) -> Iterator[Metric]:
        """The metric families of the latest state (scrape thread)."""
        return self._families(self.state)

    @staticmethod
    def _families(s: _State) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "mcpload_run_info", "The run being measured (always 1).", labels=["run_id", "scenario", "target"]
        )
        if s.info:
            info.add_metric([s.info["run_id"], s.info["scenario"], s.info["target"]], 1)
        yield info
        calls = CounterMetricFamily(
            "mcpload_calls_total", "MCP calls finished (first attempts and retries).", labels=["operation", "outcome"]
        )
        for op, kind, n in s.calls:
            calls.add_metric([op, kind], n)
        yield calls
        durations = HistogramMetricFamily(
            "mcpload_call_duration_seconds", "Latency of first attempts, by operation.", labels=["operation"]
        )
        for op, buckets, sum_s in s.durations:
            durations.add_metric([op], list(zip(_LE, buckets, strict=True)), sum_s)
        yield durations
        retries = CounterMetricFamily("mcpload_retries_total", "Calls that were retries.", labels=["operation"])
        for op, n in s.retries:
            retries.add_metric([op], n)
        yield retries
        yield GaugeMetricFamily("mcpload_active_agents", "Agents running.", value=s.gauges["active"])
        yield GaugeMetricFamily("mcpload_target_agents", "Agents the profiles want.", value=s.gauges["target"])
        c = s.counters
        for name, doc, label, values in (
            ("sessions", "MCP session attempts.", "result", ("opened", "failed")),
            ("conversations", "Conversations finished.", "outcome", ("ok", "failed")),
            ("arrivals", "Open profiles: arrivals that came due.", "result", ("started", "dropped")),
        ):
            family = CounterMetricFamily(f"mcpload_{name}_total", doc, labels=[label])
            for value in values:
                family.add_metric([value], c.get(f"{name}_{value}", 0))
            yield family
        for name, doc, key in (
            ("mcpload_tokens_total", "Model tokens the emulated agents spent.", "tokens"),
            ("mcpload_wasted_tokens_total", "Tokens spent on conversations that failed.", "wasted_tokens"),
            ("mcpload_sent_bytes_total", "Bytes sent for the calls.", "bytes_sent"),
            ("mcpload_received_bytes_total", "Bytes received for the calls.", "bytes_received"),
        ):
            yield CounterMetricFamily(name, doc, value=c.get(key, 0))


class PrometheusOutput(LiveOutput):
    """Serves a run's live metrics on ``http://HOST:PORT/metrics`` while it runs.

    Args:
        address: ``HOST:PORT`` to listen on (127.0.0.1 by default: the endpoint is not exposed
            beyond this machine unless asked, e.g. ``0.0.0.0:9464``).

    Raises:
        ValueError: a malformed address (see ``parse_address``).
    """

    name = "prometheus"

    def __init__(self, address: str = DEFAULT_ADDRESS) -> None:
        self.host, self.port = parse_address(address)
        self.registry = CollectorRegistry(auto_describe=True)
        self.collector = RunCollector()
        self.registry.register(self.collector)
        self._recorder: Recorder | None = None
        self._server: Any = None
        self._thread: Any = None

    @classmethod
    def for_run(cls, value: str, notice: Callable[[str], None]) -> Self:
        """``--prometheus HOST:PORT``: listening already, so a bad or busy address exits 2 before any load."""
        try:
            output = cls(value)
            output.listen()
        except ValueError as exc:
            raise OptionError(f"--prometheus {exc}") from None
        except OSError as exc:
            raise OptionError(f"--prometheus {value!r}: cannot listen ({exc.strerror or exc})") from None
        if not is_loopback(output.host):  # others on the network can reach it
            notice(
                f"mcpload: warning: --prometheus listens on {output.host}, beyond this machine (loopback: 127.0.0.1)"
            )
        return output

    @property
    def url(self) -> str:
        """The metrics endpoint."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def listen(self) -> None:
        """Start serving now (idempotent); the CLI calls it before the load to fail early.

        Raises:
            OSError: the address cannot be bound (in use, not local).
        """
        if self._server is None:
            self._server, self._thread = start_http_server(self.port, self.host, registry=self.registry)

    def close(self) -> None:
        """Stop serving (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(5)

    def start(self, meta: dict[str, Any], recorder: Recorder) -> None:
        """Label the run and start serving."""
        target = meta.get("target") or {}
        if isinstance(target, dict):
            target = target.get("url") or target.get("command") or ""
        run_id = str(meta.get("run_id") or uuid.uuid4().hex[:12])
        self.collector.state = _State({"run_id": run_id, "scenario": str(meta.get("scenario") or ""), "target": target})
        self._recorder = recorder
        self.listen()

    def interval(self, interval: dict[str, Any], snapshot: dict[str, Any]) -> None:
        """Publish the state as of this interval's cut (loop thread: the recorder is read here only)."""
        histograms = self._recorder.histograms() if self._recorder is not None else {}
        self.collector.update(snapshot, interval, histograms)

    def stop(self, results: dict[str, Any]) -> None:
        """Publish the final state (for a last read of ``registry``), then stop serving."""
        try:
            last = (results.get("intervals") or [{}])[-1]
            self.interval(last, results)
        finally:
            self.close()
