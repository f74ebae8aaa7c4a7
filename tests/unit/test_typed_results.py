"""``mcpload.Results``: the typed view of a results document, its threshold checks and failure messages."""

from __future__ import annotations

import json

import pytest

import mcpload
from mcpload.metrics.histogram import new_histogram
from mcpload.metrics.results import encode_histogram
from mcpload.testing.results import describe_verdict

OP = "tools/call search"


def _doc() -> dict:
    hist = new_histogram()
    for us in range(1000, 101_000, 1000):  # 1 … 100 ms, one value each
        hist.record_value(us)
    latency = {
        "min": 1.0,
        "mean": 50.5,
        "p50": 50.0,
        "p90": 90.0,
        "p95": 95.0,
        "p99": 99.0,
        "p999": 100.0,
        "max": 100.0,
        "count": 100,
    }
    return {
        "schema": "mcpload.results/1",
        "duration_s": 10.0,
        "totals": {"calls": 110, "ok": 100, "failed": 10, "success_rate": 100 / 110, "calls_per_s": 11.0, "retries": 0},
        "latency_ms": latency,
        "operations": {
            OP: {
                "calls": 110,
                "ok": 100,
                "failed": 10,
                "success_rate": 100 / 110,
                "calls_per_s": 11.0,
                "errors": {"tool_error": 10},
                "latency_ms": latency,
                "retries": 0,
            },
        },
        "errors": {"tool_error": 10},
        "top_errors": [{"kind": "tool_error", "operation": OP, "message": "boom", "count": 10}],
        "conversations": {"success_rate": None},
        "sessions": {"success_rate": 1.0},
        "thresholds": [{"metric": "success_rate", "expr": "rate > 0.99", "passed": False, "value": 0.909}],
        "findings": [
            {
                "id": "error-burst",
                "severity": "warning",
                "title": "errors came in a burst",
                "evidence": {"n": 10},
                "interval": [2.0, 4.0],
                "charts": [],
                "advice": "look",
            },
            "not a finding",
        ],
        "histograms": {"__all__": encode_histogram(hist), OP: encode_histogram(hist)},
    }


def test_accessors():
    r = mcpload.Results(_doc())
    assert (r.calls, r.ok, r.failed) == (110, 100, 10)
    assert r.success_rate == pytest.approx(0.90909, rel=1e-4)
    assert r.operations == [OP]
    assert r.latency(OP).p95 == 95.0 and r.latency().count == 100
    assert r.operation(OP).errors == {"tool_error": 10}
    assert [f.id for f in r.findings] == ["error-burst"] and r.findings[0].interval == (2.0, 4.0)
    assert not r.passed
    with pytest.raises(KeyError, match="tools/call search"):
        r.latency("tools/call nope")


def test_empty_and_odd_documents_do_not_raise():
    r = mcpload.Results({"totals": "odd", "findings": None, "operations": []})
    assert r.calls == 0 and r.success_rate is None and r.findings == [] and r.latency().p95 is None
    assert r.passed  # no thresholds
    with pytest.raises(TypeError):
        mcpload.Results([])  # type: ignore[arg-type]


def test_check_computes_any_percentile_from_the_histograms():
    r = mcpload.Results(_doc())
    (verdict,) = r.check({f"latency{{op:{OP}}}": "p(97.5) < 98ms"})
    assert verdict["value"] == pytest.approx(98.0, rel=0.002) and verdict["passed"] is False
    assert r.raw["latency_ms"].get("p97.5") is None  # the document itself is left alone


def test_assert_thresholds_names_what_was_measured(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_doc()))
    r = mcpload.Results.load(path)
    r.assert_thresholds({"latency": "p(95) < 200ms"})  # passes
    with pytest.raises(mcpload.LoadTestFailed) as caught:
        r.assert_thresholds({"latency": ["p(95) < 200ms", "p(99) < 50ms"], "errors": "rate < 1%"})
    text = str(caught.value)
    assert text.startswith("2 of 3 load thresholds failed:")
    assert "latency p(99) < 50ms: measured 99.0 ms" in text
    assert "errors rate < 1%: measured 0.09091 (9.09%)" in text
    assert "tool_error on tools/call search 'boom' x10" in text and str(path) in text
    assert isinstance(caught.value, AssertionError) and len(caught.value.failures) == 2
    with pytest.raises(mcpload.LoadTestFailed, match=r"success_rate rate > 0\.99"):
        r.assert_thresholds()  # the scenario's own


def test_assert_no_findings():
    r = mcpload.Results(_doc())
    r.assert_no_findings(at_least="critical")
    with pytest.raises(mcpload.LoadTestFailed, match="warning error-burst: errors came in a burst"):
        r.assert_no_findings()
    with pytest.raises(ValueError):
        r.assert_no_findings(at_least="bad")


@pytest.mark.parametrize(
    ("verdict", "text"),
    [
        ({"metric": "calls", "expr": "count > 5", "value": 3}, "calls count > 5: measured 3"),
        ({"metric": "success_rate", "expr": "rate > 0.9", "value": None}, "measured no data"),
    ],
)
def test_describe_verdict(verdict, text):
    assert text in describe_verdict(verdict)


def test_bad_threshold_is_reported():
    from mcpload.metrics import ThresholdError

    with pytest.raises(ThresholdError, match="latncy"):
        mcpload.Results(_doc()).check({"latncy": "p(95) < 1ms"})
