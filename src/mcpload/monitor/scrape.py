"""Read chosen series from the target's own Prometheus endpoint (``--scrape-metrics URL``)."""

from __future__ import annotations

import math

# What prometheus_client (and most exporters) publish about their own process, when no series is named.
DEFAULT_SERIES = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds")
MAX_BYTES = 8 * 1024 * 1024


class Scraper:
    """Fetches ``url`` and keeps the values of ``series``.

    A series name is matched against sample names as exposed (``http_requests_total``,
    ``latency_seconds_count``); when several label sets carry the name their values are summed.

    Args:
        url: the metrics endpoint (http or https).
        series: sample names to keep (default: the standard ``process_*`` series).
        timeout: seconds per scrape; a slow endpoint must not stall the sampler.
    """

    def __init__(self, url: str, series: tuple[str, ...] = (), timeout: float = 0.8) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--scrape-metrics {url!r}: not an http(s) URL")
        self.url = url
        self.series = tuple(series) or DEFAULT_SERIES
        self.timeout = timeout
        self.errors = 0
        self.last_error: str | None = None

    def scrape(self) -> dict[str, float | None]:
        """One scrape: ``{series: value}``, None for a series absent (or every series on failure)."""
        import urllib.request  # imported on the first scrape, not at start-up

        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                text = response.read(MAX_BYTES).decode("utf-8", "replace")
            return pick(text, self.series)
        except Exception as exc:  # any failure of a scrape is counted, never fatal
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:200]
            return dict.fromkeys(self.series)


def pick(text: str, series: tuple[str, ...]) -> dict[str, float | None]:
    """The summed value of each of ``series`` in a Prometheus text exposition (None when absent)."""
    from prometheus_client.parser import text_string_to_metric_families  # only when scraping: ~50 ms to import

    wanted = set(series)
    values: dict[str, float | None] = dict.fromkeys(series)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted and not math.isnan(sample.value):
                values[sample.name] = (values[sample.name] or 0.0) + sample.value
    return values
