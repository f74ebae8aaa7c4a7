"""Live run metrics pushed over OTLP/HTTP (OpenTelemetry) to a collector, once a second.

Needs the ``otel`` extra (``pip install 'mcpload[otel]'``): the SDK is imported only when an
``OTLPOutput`` is made, and its absence raises ``OTLPUnavailable`` with the install line. The metrics
are listed in ``outputs.otlp_metrics``.

Nothing happens per call: ``interval()`` (once a second, on the event loop) swaps in the latest
cumulative figures, and the SDK's exporter thread reads them. Counters are observable instruments
reporting the recorder's cumulative counts, so they are exact: after the run each equals its figure in
the results document. The duration histogram is already aggregated by the recorder (HDR), so it joins
each export as a ready data point (cumulative temporality, bounds ``BOUNDS_S``): its count is exact,
its sum is the exact mean (rounded to 1 µs) times the count, and a value within 0.1 % above a bucket
bound may be counted at or below it (HDR resolution).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from mcpload.outputs.base import LiveOutput, OptionError
from mcpload.outputs.otlp_metrics import (
    BOUNDS_S,
    DURATION,
    INSTRUMENTS,
    Duration,
    Figures,
    durations,
    figures,
    sdk_histogram,
)

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
METRICS_PATH = "/v1/metrics"
SCOPE = "mcpload"
INSTALL_HINT = "pip install 'mcpload[otel]'"
EXPORTER_LOGGER = "opentelemetry.exporter"  # logs every retry: kept off the live view, summed up by problem()


class OTLPUnavailable(RuntimeError):
    """The OpenTelemetry SDK or its OTLP/HTTP exporter is not installed."""


def metrics_url(endpoint: str) -> str:
    """The OTLP/HTTP metrics URL for ``endpoint``: a base URL gets ``/v1/metrics`` appended.

    Raises:
        ValueError: not an http(s) URL with a host.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--otlp {endpoint!r}: expected an http(s) URL such as {DEFAULT_ENDPOINT}")
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + METRICS_PATH
    return endpoint


def require_sdk() -> None:
    """Raise ``OTLPUnavailable`` (one line, with the install command) when the ``otel`` extra is missing."""
    try:
        import opentelemetry.exporter.otlp.proto.http.metric_exporter
        import opentelemetry.sdk.metrics  # noqa: F401
    except ImportError as exc:
        raise OTLPUnavailable(f"--otlp needs the OpenTelemetry SDK ({exc.name} is missing): {INSTALL_HINT}") from None


class OTLPOutput(LiveOutput):
    """Pushes a run's metrics to an OTLP/HTTP endpoint (an OpenTelemetry collector) once a second.

    Args:
        endpoint: the collector's base URL (``/v1/metrics`` is appended) or the full metrics URL.
        headers: extra HTTP headers (e.g. an API key for a hosted backend).
        export_interval_s: how often the SDK exports.
        timeout_s: per-export timeout, retries included; also bounds the final flush.
        run_id: the ``mcpload.run_id`` resource attribute (a random UUID by default).

    Raises:
        OTLPUnavailable: the ``otel`` extra is not installed.
        ValueError: ``endpoint`` is not an http(s) URL.
    """

    name = "otlp"

    @classmethod
    def for_run(cls, value: str, notice: Callable[[str], None]) -> Self:
        """``--otlp URL``: a bad URL or a missing ``otel`` extra exits 2 before any load."""
        try:
            return cls(value)
        except (OTLPUnavailable, ValueError) as exc:
            raise OptionError(str(exc)) from None

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        headers: dict[str, str] | None = None,
        export_interval_s: float = 1.0,
        timeout_s: float = 5.0,
        run_id: str | None = None,
    ) -> None:
        self.url = metrics_url(endpoint)
        require_sdk()
        self.headers = dict(headers or {})
        self.export_interval_s = export_interval_s
        self.timeout_s = timeout_s
        self.run_id = run_id or uuid.uuid4().hex
        self.exports = 0  # export attempts (the SDK retries each within timeout_s)
        self.failed_exports = 0
        self._recorder: Recorder | None = None
        self._provider: Any = None
        self._exporter: Any = None
        self._started_ns = 0
        # Replaced whole (never mutated) on the event loop; read by the SDK's exporter thread.
        self._figures: Figures = figures({}, {})
        self._durations: list[Duration] = []
        self._semconv: tuple[list[Any], list[Any]] = ([], [])  # outputs.otlp_semconv points (MCP conventions)
        self._common: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._log = _LastMessage()
        self._propagate: bool | None = None

    def start(self, meta: dict[str, Any], recorder: Recorder) -> None:
        """Create the meter provider with the run's resource attributes; exports begin."""
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource

        from mcpload.outputs.otlp_semconv import common_attributes
        from mcpload.version import __version__

        self._recorder = recorder
        self._started_ns = time.time_ns()
        self._common = common_attributes(meta.get("target") or {})
        self._capture_logs()
        target = meta.get("target") or {}
        resource = Resource.create(
            {
                "service.name": "mcpload",
                "service.version": __version__,
                "mcpload.run_id": self.run_id,
                "mcpload.scenario": str(meta.get("scenario") or ""),
                "mcpload.target": str(target.get("url") or target.get("command") or ""),
            }
        )
        otlp = OTLPMetricExporter(endpoint=self.url, headers=self.headers, timeout=self.timeout_s)
        self._exporter = _with_durations(otlp, self, resource)
        reader = PeriodicExportingMetricReader(
            self._exporter,
            export_interval_millis=self.export_interval_s * 1000,
            export_timeout_millis=self.timeout_s * 1000,
        )
        self._provider = MeterProvider(resource=resource, metric_readers=[reader])
        meter = self._provider.get_meter(SCOPE, __version__)
        for name, kind, unit, description in INSTRUMENTS:
            make = meter.create_observable_counter if kind == "counter" else meter.create_observable_gauge
            make(name, callbacks=[self._callback(name)], unit=unit, description=description)

    def _callback(self, name: str) -> Callable[[Any], list[Any]]:
        from opentelemetry.metrics import Observation

        def observe(_options: Any) -> list[Any]:
            return [Observation(value, attributes) for attributes, value in self._figures.get(name, ())]

        return observe

    def interval(self, interval: dict[str, Any], snapshot: dict[str, Any]) -> None:
        """Swap in the cumulative figures of ``snapshot`` and the latency histograms (a few ms)."""
        self._update(snapshot, interval)

    def stop(self, results: dict[str, Any]) -> None:
        """Export the final figures (those of ``results``), then shut the SDK down.

        When the last export failed (no collector there), pending retries are cut short and the
        final export skipped, so the end of the run is not held up by ``timeout_s`` of retries.
        """
        if self._provider is None:
            return
        intervals = results.get("intervals") or [{}]
        self._update(results, intervals[-1])
        timeout_ms = self.timeout_s * 1000
        try:
            # A healthy collector answers in milliseconds: an export still going after a second is retrying.
            if self._exporter.idle.wait(min(1.0, self.timeout_s)) and self._exporter.last_ok:
                self._provider.force_flush(timeout_millis=timeout_ms)
            else:
                self._log.closed = True  # keep the reason it failed, not "shutdown in progress"
                self._exporter.abort()
        finally:
            self._closing = True  # the SDK's own last collection at shutdown would repeat the flush
            self._provider.shutdown(timeout_millis=timeout_ms)
            self._provider = None
            self._release_logs()

    def problem(self) -> str | None:
        """One line saying how many exports failed and why; None when all went through."""
        if not self.failed_exports:
            return None
        last = f" (last: {self._log.last})" if self._log.last else ""
        return f"otlp: {self.failed_exports} of {self.exports} exports to {self.url} failed{last}"

    def duration_metric(self) -> Any:
        """The ``mcpload.call.duration`` metric as the SDK's export data, or None before any call."""
        with self._lock:
            rows = self._durations
        if not rows:
            return None
        return sdk_histogram(
            DURATION,
            "Latency of first-attempt MCP calls, by operation",
            [({"operation": op}, *rest) for op, *rest in rows],
            BOUNDS_S,
            self._started_ns,
            time.time_ns(),
        )

    def semconv_metrics(self) -> list[Any]:
        """``mcp.client.operation.duration`` and ``mcp.client.session.duration`` (``outputs.otlp_semconv``)."""
        from mcpload.outputs.otlp_semconv import sdk_metrics

        with self._lock:
            computed = self._semconv
        return sdk_metrics(computed, self._started_ns, time.time_ns())

    def _update(self, summary: dict[str, Any], gauges: dict[str, Any]) -> None:
        from mcpload.outputs.otlp_semconv import points

        new_figures = figures(summary, gauges)
        new_durations = durations(summary, self._recorder.histograms()) if self._recorder is not None else []
        new_semconv = points(self._recorder, self._common) if self._recorder is not None else ([], [])
        with self._lock:
            self._figures, self._durations, self._semconv = new_figures, new_durations, new_semconv

    def _exported(self, ok: bool) -> None:
        self.exports += 1
        if not ok:
            self.failed_exports += 1

    def _capture_logs(self) -> None:
        logger = logging.getLogger(EXPORTER_LOGGER)
        self._propagate = logger.propagate
        logger.propagate = False
        logger.addHandler(self._log)

    def _release_logs(self) -> None:
        if self._propagate is None:
            return
        logger = logging.getLogger(EXPORTER_LOGGER)
        logger.removeHandler(self._log)
        logger.propagate = self._propagate
        self._propagate = None


def _with_durations(exporter: Any, output: OTLPOutput, resource: Any) -> Any:
    """Wrap ``exporter`` so that every export also carries the duration histogram of ``output``.

    The Python SDK has no metric producers (and no way to record a value n times at once), so the
    histogram, already aggregated by the recorder, joins the batch here, in the exporter thread.
    """
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        MetricsData,
        ResourceMetrics,
        ScopeMetrics,
    )
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from mcpload.version import __version__

    def inject(data: Any, metrics: list[Any]) -> Any:
        resources = list(data.resource_metrics) if data is not None else []
        if not resources:
            resources = [ResourceMetrics(resource, [], "")]
        first = resources[0]
        scopes = list(first.scope_metrics)
        for i, scope in enumerate(scopes):
            if scope.scope.name == SCOPE:
                scopes[i] = ScopeMetrics(scope.scope, [*scope.metrics, *metrics], scope.schema_url)
                break
        else:
            scopes.append(ScopeMetrics(InstrumentationScope(SCOPE, __version__), metrics, ""))
        resources[0] = ResourceMetrics(first.resource, scopes, first.schema_url)
        return MetricsData(resources)

    class DurationExporter(MetricExporter):
        def __init__(self) -> None:
            super().__init__(exporter._preferred_temporality, exporter._preferred_aggregation)
            self.last_ok = True
            self.idle = threading.Event()  # clear while an export (and its retries) is under way
            self.idle.set()
            self._down = False

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
            if output._closing:
                return MetricExportResult.SUCCESS
            metric = output.duration_metric()
            extra = ([metric] if metric is not None else []) + output.semconv_metrics()
            if extra:
                metrics_data = inject(metrics_data, extra)
            self.idle.clear()
            try:
                result = exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            finally:
                self.idle.set()
            self.last_ok = result == MetricExportResult.SUCCESS
            output._exported(self.last_ok)
            return result

        def abort(self) -> None:
            """Shut the OTLP exporter down now: an export retrying in the exporter thread gives up."""
            self.shutdown()

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            flushed: bool = exporter.force_flush(timeout_millis=timeout_millis)
            return flushed

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            if not self._down:
                self._down = True
                exporter.shutdown(timeout_millis=timeout_millis)

    return DurationExporter()


class _LastMessage(logging.Handler):
    """Keeps the last warning of the OTLP exporter, whose messages would garble the live view."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None
        self.closed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.closed:
            return
        try:
            self.last = record.getMessage()[:300]
        except Exception:  # a broken log call must not break the exporter thread
            self.last = str(record.msg)[:300]
