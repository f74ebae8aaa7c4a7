"""The results document of a run (schema ``mcpload.results/1``, see docs/results-format.md) and the
histogram codec that lets results be merged and re-reported later."""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

from mcpload.metrics.histogram import acyclic
from mcpload.metrics.recorder import Recorder

SCHEMA = "mcpload.results/1"


def build_results(
    recorder: Recorder,
    *,
    meta: dict[str, Any],
    intervals: list[dict[str, Any]],
    thresholds: list[dict[str, Any]],
    duration_s: float,
) -> dict[str, Any]:
    """Build the results document.

    Args:
        recorder: the run's recorder (read, not changed apart from pouring its buffers).
        meta: the run header: ``started_at``, ``target``, ``scenario``, ``profiles``, ``seed``.
        intervals: the interval dicts of the run, in order.
        thresholds: evaluated thresholds (``thresholds.evaluate``).
        duration_s: the run's length, for the rates.

    Returns:
        A plain, JSON-serializable dict.
    """
    snapshot = recorder.snapshot(duration_s)
    return {
        "schema": SCHEMA,
        "started_at": meta.get("started_at"),
        "duration_s": round(duration_s, 3),
        "target": meta.get("target"),
        "scenario": meta.get("scenario"),
        "profiles": meta.get("profiles"),
        "seed": meta.get("seed"),
        **snapshot,
        "intervals": intervals,
        "thresholds": thresholds,
        "histograms": {name: encode_histogram(h) for name, h in recorder.histograms().items()},
    }


def encode_histogram(histogram: HdrHistogram) -> str:
    """The compressed base64 HdrHistogram V2 encoding (readable by every HdrHistogram port)."""
    encoded: bytes = histogram.encode()  # hdrh is untyped
    return encoded.decode("ascii")


def decode_histogram(encoded: str) -> HdrHistogram:
    """Decode a histogram of the results document (values in microseconds).

    Raises:
        ValueError: the text is not an HdrHistogram encoding.
    """
    try:
        return acyclic(HdrHistogram.decode(encoded))
    except Exception as exc:  # hdrh raises TypeError, zlib.error or its own cookie/length errors
        raise ValueError(f"not an encoded HdrHistogram: {exc}") from exc
