"""k6-style thresholds: parsing (every problem, with its path and a suggestion) and evaluation."""

from __future__ import annotations

import pytest

from mcpload.metrics import (
    Recorder,
    ThresholdError,
    evaluate,
    parse_thresholds,
    percentiles_needed,
    should_abort,
)
from mcpload.outcome import Outcome


def one(metric, spec):
    (threshold,) = parse_thresholds({metric: [spec]})
    return threshold


@pytest.mark.parametrize(
    ("metric", "spec", "aggregation", "percentile", "op", "limit"),
    [
        ("success_rate", "rate > 0.999", "rate", None, ">", 0.999),
        ("success_rate", "rate>=99.9%", "rate", None, ">=", 0.999),
        ("latency", "p(95) < 400ms", "p", 95.0, "<", 400.0),
        ("latency", "p(99.9)<1s", "p", 99.9, "<", 1000.0),
        ("latency", "avg < 200", "avg", None, "<", 200.0),
        ("latency", "max < 2s", "max", None, "<", 2000.0),
        ("latency", "med <= 100ms", "med", None, "<=", 100.0),
        ("latency", "min != 500us", "min", None, "!=", 0.5),
        ("latency_corrected", "p(99) < 1.5m", "p", 99.0, "<", 90_000.0),
        ("errors{kind:timeout}", "count < 10", "count", None, "<", 10.0),
        ("errors", "rate < 0.01", "rate", None, "<", 0.01),
        ("calls", "count >= 100", "count", None, ">=", 100.0),
        ("calls_per_s", "value == 50", "value", None, "==", 50.0),
        ("conversation_success_rate", "rate > 0.95", "rate", None, ">", 0.95),
        ("session_success_rate", "rate > 0.95", "rate", None, ">", 0.95),
        ("retries", "count < 5", "count", None, "<", 5.0),
    ],
)
def test_valid_thresholds(metric, spec, aggregation, percentile, op, limit):
    t = one(metric, spec)
    assert (t.aggregation, t.percentile, t.op) == (aggregation, percentile, op)
    assert t.limit == pytest.approx(limit)
    assert t.expr == spec
    assert str(t) == f"{metric} {spec}"
    assert not t.abort_on_fail


def test_tags_and_mapping_spec():
    (t,) = parse_thresholds(
        {
            "errors{op:tools/call search_docs, kind:rpc_error}": [
                {"threshold": "count < 3", "abort_on_fail": True, "delay_abort_eval": "10s"}
            ]
        }
    )
    assert t.name == "errors"
    assert t.tag("op") == "tools/call search_docs"
    assert t.tag("kind") == "rpc_error"
    assert t.abort_on_fail
    assert t.delay_abort_eval_s == 10.0
    assert str(t) == "errors{op:tools/call search_docs, kind:rpc_error} count < 3"


def test_bare_spec_and_empty_mapping():
    assert len(parse_thresholds({"success_rate": "rate > 0.9"})) == 1
    assert parse_thresholds(None) == []
    assert parse_thresholds({}) == []


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"latency": ["p95 < 400ms"]}, "thresholds.latency[0]: unknown aggregation 'p95' (did you mean 'p(95)'?)"),
        ({"latency": ["avgg < 4"]}, "thresholds.latency[0]: unknown aggregation 'avgg' (did you mean 'avg'?)"),
        ({"latencyy": ["p(95) < 1s"]}, "thresholds.latencyy: unknown metric 'latencyy' (did you mean 'latency'?)"),
        ({"latency": ["p(95) < 4 sec"]}, "thresholds.latency[0]: unknown unit 'sec' (did you mean 's'?)"),
        ({"latency": ["p(95) < 4mss"]}, "thresholds.latency[0]: unknown unit 'mss' (did you mean 'ms'?)"),
        ({"latency": ["p(95) < fast"]}, "thresholds.latency[0]: expected a duration like '400ms'"),
        ({"latency": ["p(120) < 1s"]}, "thresholds.latency[0]: percentile 120 is not within (0, 100]"),
        ({"latency": ["p(95) 400ms"]}, "thresholds.latency[0]: expected '<aggregation> <operator> <value>'"),
        ({"calls_per_s": ["value = 3"]}, "thresholds.calls_per_s[0]: unknown operator '=' (did you mean '=='?)"),
        ({"success_rate": ["p(95) < 1s"]}, "aggregation 'p(95)' does not apply to success_rate (use rate)"),
        ({"latency": ["rate > 0.9"]}, "aggregation 'rate' does not apply to latency (use p(N), avg, min, max, med)"),
        ({"success_rate": ["rate > 0.9s"]}, "thresholds.success_rate[0]: success_rate rate takes a plain number"),
        ({"latency{opp:x}": ["avg < 3"]}, "thresholds.latency{opp:x}: latency has no tag 'opp' (did you mean 'op'?)"),
        ({"latency{op}": ["avg < 3"]}, "thresholds.latency{op}: expected tag:value, got 'op'"),
        ({"errors{kind:timout}": ["count < 1"]}, "unknown error kind 'timout' (did you mean 'timeout'?)"),
        ({"errors{kind:ok}": ["count < 1"]}, "unknown error kind 'ok'"),
        ({"latency": [{"threshold": "avg < 3", "abort_on_fal": True}]}, "unknown key 'abort_on_fal' (did you mean"),
        ({"latency": [{"threshold": "avg < 3", "abort_on_fail": "yes"}]}, "abort_on_fail: expected true or false"),
        ({"latency": [{"abort_on_fail": True}]}, "thresholds.latency[0]: missing 'threshold'"),
        ({"latency": [{"threshold": "avg<3", "delay_abort_eval": "10 secs"}]}, "delay_abort_eval: unknown unit 'secs'"),
        ({"latency": [42]}, "thresholds.latency[0]: expected a string like 'p(95) < 400ms', got int"),
        ({"latency": []}, "thresholds.latency: no thresholds given"),
        (["latency"], "thresholds: expected a mapping of metric to thresholds, got list"),
    ],
)
def test_problems_name_their_path(mapping, message):
    with pytest.raises(ThresholdError) as info:
        parse_thresholds(mapping)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_every_problem_is_reported():
    with pytest.raises(ThresholdError) as info:
        parse_thresholds(
            {"latency": ["p95 < 1s", "avg < 2 sec", "p(99) < 1s"], "succes_rate": ["rate > 1"]},
            path="scenario.thresholds",
        )
    assert info.value.problems == [
        "scenario.thresholds.latency[0]: unknown aggregation 'p95' (did you mean 'p(95)'?)",
        "scenario.thresholds.latency[1]: unknown unit 'sec' (did you mean 's'?) (units: us, ms, s, m, h)",
        "scenario.thresholds.succes_rate: unknown metric 'succes_rate' (did you mean 'success_rate'?)",
    ]
    assert str(info.value) == "; ".join(info.value.problems)


def make_snapshot(open_model=False):
    rec = Recorder()
    for ms in range(1, 101):
        rec.record(Outcome("ok", "tools/call", "search", 1.0, ms / 1000), intended_start=0.5 if open_model else None)
    for _ in range(2):
        rec.record(Outcome("timeout", "tools/call", "slow", 1.0, 2.0))
    rec.record(Outcome("ok", "tools/call", "slow", 1.0, 0.5), retry=True)
    rec.conversation_finished(True)
    return rec.snapshot(10.0)


def results(spec_map, snapshot):
    return [(r["metric"], r["expr"], r["passed"], r["value"]) for r in evaluate(parse_thresholds(spec_map), snapshot)]


def test_evaluate_pass_fail_and_units():
    snap = make_snapshot()
    out = evaluate(
        parse_thresholds(
            {
                "latency": ["p(50) < 60ms", "p(50) < 0.04s", "max < 3s", "avg < 100"],
                "latency{op:tools/call search}": ["p(99) <= 100ms", "max < 50ms"],
                "success_rate": ["rate > 0.95", "rate > 0.99"],
                "success_rate{op:tools/call slow}": ["rate >= 0.3"],
                "errors{kind:timeout}": ["count < 3", "rate < 0.01"],
                "errors": ["count == 2"],
                "calls": ["count == 103"],
                "calls_per_s": ["value > 10", "value < 10"],
                "retries{op:tools/call slow}": ["count == 1", "rate < 0.5"],
                "conversation_success_rate": ["rate == 1"],
            }
        ),
        snap,
    )
    passed = {(r["metric"], r["expr"]): r["passed"] for r in out}
    assert passed == {
        ("latency", "p(50) < 60ms"): True,
        ("latency", "p(50) < 0.04s"): False,
        ("latency", "max < 3s"): True,
        ("latency", "avg < 100"): True,
        ("latency{op:tools/call search}", "p(99) <= 100ms"): True,
        ("latency{op:tools/call search}", "max < 50ms"): False,
        ("success_rate", "rate > 0.95"): True,
        ("success_rate", "rate > 0.99"): False,
        ("success_rate{op:tools/call slow}", "rate >= 0.3"): True,
        ("errors{kind:timeout}", "count < 3"): True,
        ("errors{kind:timeout}", "rate < 0.01"): False,
        ("errors", "count == 2"): True,
        ("calls", "count == 103"): True,
        ("calls_per_s", "value > 10"): True,
        ("calls_per_s", "value < 10"): False,
        ("retries{op:tools/call slow}", "count == 1"): True,
        ("retries{op:tools/call slow}", "rate < 0.5"): True,
        ("conversation_success_rate", "rate == 1"): True,
    }
    first = out[0]
    assert first == {
        "metric": "latency",
        "expr": "p(50) < 60ms",
        "passed": True,
        "value": snap["latency_ms"]["p50"],
        "abort_on_fail": False,
        "no_data": False,
        "unit": "ms",
    }
    units = {(r["metric"], r["expr"]): r["unit"] for r in out}
    assert units[("success_rate", "rate > 0.95")] == "ratio" and units[("calls", "count == 103")] == "count"
    assert units[("calls_per_s", "value > 10")] == "calls/s"
    assert units[("errors{kind:timeout}", "rate < 0.01")] == "ratio"


def test_no_data_passes_and_says_so():
    snap = make_snapshot()
    out = evaluate(
        parse_thresholds(
            {
                "latency{op:tools/call never}": ["p(95) < 1ms"],
                "latency_corrected": ["max < 1ms"],
                "session_success_rate": ["rate > 0.99"],
                "errors{op:tools/call never}": ["count > 5", "rate < 0.1"],
            }
        ),
        snap,
    )
    assert [(r["passed"], r["value"], r["no_data"]) for r in out] == [
        (True, None, True),
        (True, None, True),
        (True, None, True),
        (False, 0, False),  # a count of an operation never called is a real 0
        (True, None, True),
    ]


def test_corrected_latency_threshold():
    snap = make_snapshot(open_model=True)
    assert results({"latency_corrected": ["min > 500ms"]}, snap) == [
        ("latency_corrected", "min > 500ms", True, snap["latency_corrected_ms"]["min"])
    ]


def test_other_percentiles_need_asking_for():
    thresholds = parse_thresholds({"latency": ["p(97.5) < 1s", "p(95) < 1s"]})
    assert percentiles_needed(thresholds) == (95.0, 97.5)
    with pytest.raises(KeyError, match="percentiles_needed"):
        evaluate(thresholds, make_snapshot())
    rec = Recorder()
    rec.record(Outcome("ok", "ping", None, 0.0, 0.002))
    out = evaluate(thresholds, rec.snapshot(1.0, percentiles=percentiles_needed(thresholds)))
    assert [r["passed"] for r in out] == [True, True]


def test_should_abort_waits_for_its_delay():
    thresholds = parse_thresholds(
        {
            "success_rate": [{"threshold": "rate > 0.999", "abort_on_fail": True, "delay_abort_eval": "30s"}],
            "latency": ["max < 1ms"],  # fails, but does not abort
            "latency{op:tools/call never}": [{"threshold": "max < 1ms", "abort_on_fail": True}],  # no data
        }
    )
    snap = make_snapshot()
    assert should_abort(thresholds, snap, elapsed_s=10.0) is None
    crossed = should_abort(thresholds, snap, elapsed_s=30.0)
    assert crossed is thresholds[0]
    assert str(crossed) == "success_rate rate > 0.999"
