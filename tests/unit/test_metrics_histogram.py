"""The HDR plumbing under the recorder: bucket indexes, pouring, percentiles, interval/run split."""

from __future__ import annotations

import random

import pytest

from mcpload.metrics.histogram import (
    HIGHEST_US,
    Timing,
    bucket_index,
    clamp_us,
    new_histogram,
    percentile_key,
    pour,
    summarize,
)


def test_bucket_index_matches_hdrh():
    hist = new_histogram()
    rng = random.Random(7)
    values = [*range(1, 5000), *(rng.randint(1, HIGHEST_US) for _ in range(5000)), HIGHEST_US]
    for v in values:
        assert bucket_index(v) == hist.get_counts_array_index(v), v


def test_pour_counts_exactly_like_record_value():
    rng = random.Random(3)
    values = [int(rng.lognormvariate(10, 2)) % HIGHEST_US + 1 for _ in range(3000)]
    by_record = new_histogram()
    for v in values:
        assert by_record.record_value(v)
    pending: dict[int, int] = {}
    for v in values:
        pending[bucket_index(v)] = pending.get(bucket_index(v), 0) + 1
    poured = new_histogram()
    assert pour(poured, pending) == 0
    assert poured.equals(by_record)
    assert poured.encode() == by_record.encode()


def test_pour_refuses_out_of_array_indexes_and_counts_them():
    hist = new_histogram()
    assert pour(hist, {5: 2, hist.counts_len + 3: 4}) == 4
    assert hist.get_total_count() == 2


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0, (1, True)), (-1.0, (1, True)), (0.0000004, (1, True)), (0.0000006, (1, False)), (0.25, (250_000, False))],
)
def test_clamp_us(seconds, expected):
    assert clamp_us(seconds) == expected


def test_clamp_us_above_one_hour():
    assert clamp_us(3601.0) == (HIGHEST_US, True)
    assert clamp_us(3600.0) == (HIGHEST_US, False)


def test_percentiles_of_known_values():
    timing = Timing()
    for us in range(1, 1001):  # 1 µs … 1 ms: below 2048 µs every microsecond is exact
        timing.add(us / 1e6)
    s = timing.summary((50.0, 90.0, 99.0, 99.9, 97.5))
    assert s["count"] == 1000
    assert s["min"] == 0.001
    assert s["p50"] == 0.5
    assert s["p90"] == 0.9
    assert s["p99"] == 0.99
    assert s["p999"] == 0.999
    assert s["p97.5"] == 0.975
    assert s["max"] == 1.0
    assert s["mean"] == 0.5  # exact sum: 500.5 µs, rounded to 3 dp of ms


def test_summarize_agrees_with_hdrh_on_wide_values():
    rng = random.Random(11)
    hist = new_histogram()
    for _ in range(5000):
        hist.record_value(int(rng.lognormvariate(11, 1.5)) + 1)
    s = summarize([hist], (50.0, 95.0, 99.0, 99.9))
    for p in (50.0, 95.0, 99.0, 99.9):
        assert s[percentile_key(p)] == round(hist.get_value_at_percentile(p) / 1000, 3)
    assert s["max"] == round(hist.get_max_value() / 1000, 3)
    assert s["min"] == round(hist.get_min_value() / 1000, 3)
    assert s["mean"] == pytest.approx(hist.get_mean_value() / 1000, rel=1e-3)


def test_summarize_sums_several_histograms():
    a, b, both = new_histogram(), new_histogram(), new_histogram()
    for v in range(100, 5000, 7):
        a.record_value(v)
        both.record_value(v)
    for v in range(3000, 90000, 13):
        b.record_value(v)
        both.record_value(v)
    assert summarize([a, b], (50.0, 99.0)) == summarize([both], (50.0, 99.0))
    assert summarize([new_histogram()], (50.0,)) is None


def test_timing_interval_and_run():
    timing = Timing()
    timing.add(0.010)
    timing.add(0.020)
    assert timing.summary(interval_only=True)["count"] == 2
    timing.cut()
    assert timing.summary(interval_only=True) is None
    timing.add(0.030)
    assert timing.summary(interval_only=True)["count"] == 1
    run = timing.summary()
    assert run["count"] == 3
    assert run["mean"] == 20.0
    assert run["max"] == pytest.approx(30.0, rel=1e-3)
    assert timing.cumulative().get_total_count() == 3


def test_parent_receives_children():
    parent = Timing()
    a, b = Timing(parent), Timing(parent)
    a.add(0.001)
    b.add(0.002)
    a.flush()
    b.flush()
    s = parent.summary()
    assert s["count"] == 2
    assert s["mean"] == 1.5


def test_percentile_key():
    assert [percentile_key(p) for p in (50.0, 99.0, 99.9, 97.5, 99.99)] == ["p50", "p99", "p999", "p97.5", "p99.99"]


def test_dropped_histograms_are_freed_at_once_without_the_cycle_collector():
    # hdrh's histogram and its encoder point at each other; a cycle would keep ~184 KiB per dropped
    # interval histogram alive until a full collection (the soak benchmark saw RSS climb by ~19 MiB).
    import gc
    import weakref

    from mcpload.metrics.histogram import Timing, new_histogram
    from mcpload.metrics.results import decode_histogram, encode_histogram

    gc.disable()
    try:
        timing = Timing()
        timing.add(0.010)
        timing.flush()
        kept = timing.interval
        timing.cut()  # folds the interval into the run and empties the same histogram in place
        assert timing.interval is kept and kept.total_count == 0 and not any(kept.counts)
        assert timing.summary()["count"] == 1
        hist = new_histogram()
        hist.record_value(1234)
        copy = decode_histogram(encode_histogram(hist))
        assert copy.get_total_count() == 1 and copy.encode() == hist.encode()  # the encoder still works
        refs = [weakref.ref(hist), weakref.ref(copy), weakref.ref(timing.cumulative())]
        del hist, copy
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def test_clear_empties_a_histogram_like_a_new_one():
    from mcpload.metrics.histogram import clear, new_histogram

    used, fresh = new_histogram(), new_histogram()
    for value in (1, 700, 90_000, 3_000_000_000):
        used.record_value(value)
    clear(used)
    assert used.encode() == fresh.encode() and list(used.counts) == list(fresh.counts)
    for hist in (used, fresh):
        hist.record_value(1234)
        hist.record_value(56_789)
    assert used.encode() == fresh.encode()
    assert used.get_min_value() == fresh.get_min_value() and used.get_max_value() == fresh.get_max_value()
