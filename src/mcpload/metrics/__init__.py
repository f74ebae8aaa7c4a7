"""Metrics: the recorder (HDR histograms and counters per interval and per run), the NDJSON
interval log, the results document and k6-style thresholds. A leaf: it imports nothing of ours but
``mcpload.outcome``'s kind names."""

from mcpload.metrics.intervals import IntervalSpool, IntervalWriter, read_intervals
from mcpload.metrics.recorder import Recorder
from mcpload.metrics.results import SCHEMA, build_results, decode_histogram
from mcpload.metrics.thresholds import (
    Threshold,
    ThresholdError,
    evaluate,
    parse_thresholds,
    percentiles_needed,
    should_abort,
)

__all__ = [
    "SCHEMA",
    "IntervalSpool",
    "IntervalWriter",
    "Recorder",
    "Threshold",
    "ThresholdError",
    "build_results",
    "decode_histogram",
    "evaluate",
    "parse_thresholds",
    "percentiles_needed",
    "read_intervals",
    "should_abort",
]
