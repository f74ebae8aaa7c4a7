"""Run comparison: deltas, assertion parsing and checking, results-file errors."""

from __future__ import annotations

import json

import pytest

from mcpload.compare import ALL, CompareError, compare, load_results, parse_assertion

SEARCH, GET = "tools/call search_docs", "tools/call get_doc"


def results(rate: float, success: float, p95: float, ops: dict[str, tuple[float, float, float]]) -> dict:
    def lat(p: float) -> dict:
        return {"p50": p / 2, "p95": p, "p99": p * 1.5}

    return {
        "schema": "mcpload.results/1",
        "totals": {"calls": 100, "calls_per_s": rate, "success_rate": success},
        "latency_ms": lat(p95),
        "operations": {
            name: {"calls": 10, "calls_per_s": r, "success_rate": s, "latency_ms": lat(p)}
            for name, (r, s, p) in ops.items()
        },
    }


BASE = results(100.0, 0.999, 20.0, {SEARCH: (50.0, 1.0, 30.0), GET: (50.0, 0.998, 10.0)})
NEW = results(90.0, 0.997, 25.0, {SEARCH: (45.0, 0.994, 45.0), "ping": (45.0, 1.0, 2.0)})


def test_deltas_overall_and_per_operation():
    comparison = compare(BASE, NEW)
    assert [r.operation for r in comparison.rows] == [ALL, "ping", GET, SEARCH]
    total = comparison.row(ALL).deltas
    assert total["calls_per_s_delta"] == pytest.approx(-10.0)
    assert total["success_rate_delta"] == pytest.approx(-0.2)  # percentage points
    assert total["p95_delta"] == pytest.approx(25.0)
    assert total["p95_delta_ms"] == pytest.approx(5.0)
    assert total["p50_delta"] == pytest.approx(25.0)
    search = comparison.row(SEARCH).deltas
    assert search["p95_delta"] == pytest.approx(50.0) and search["success_rate_delta"] == pytest.approx(-0.6)
    gone = comparison.row(GET)
    assert gone.new is None and gone.deltas["calls_per_s_delta"] == pytest.approx(-100.0)
    assert gone.deltas["p95_delta"] is None and gone.deltas["success_rate_delta"] is None
    added = comparison.row("ping")
    assert added.base is None and added.deltas["calls_per_s_delta"] is None  # from 0: no relative change


@pytest.mark.parametrize(
    ("text", "passed", "value"),
    [
        ("p95_delta < 10%", False, 25.0),
        ("p95_delta < 30%", True, 25.0),
        ("p95_delta <= 5ms", True, 5.0),
        ("p95_delta < 0.004s", False, 5.0),
        ("success_rate_delta > -0.1%", False, -0.2),
        ("success_rate_delta >= -0.5pp", True, -0.2),
        ("calls_per_s_delta > -15%", True, -10.0),
        (f"{SEARCH}: p95_delta < 10%", False, 50.0),
        (f"  {SEARCH} : p99_delta<60%", True, 50.0),
        (f"{GET}: p95_delta < 10%", True, None),  # no data passes, as thresholds do
    ],
)
def test_assertions(text, passed, value):
    assertion = parse_assertion(text)
    ok, measured = assertion.check(compare(BASE, NEW))
    assert ok is passed
    assert measured == (None if value is None else pytest.approx(value))


def test_operation_with_colons_in_its_name():
    base = results(1.0, 1.0, 1.0, {"resources/read docs://index": (1.0, 1.0, 10.0)})
    new = results(1.0, 1.0, 1.0, {"resources/read docs://index": (1.0, 1.0, 12.0)})
    assertion = parse_assertion("resources/read docs://index: p95_delta < 10%")
    assert assertion.operation == "resources/read docs://index"
    assert assertion.check(compare(base, new)) == (False, pytest.approx(20.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95 < 10%", "unknown metric 'p95' (did you mean 'p95_delta'?)"),
        ("p95_delta < 10", "needs the unit"),
        ("success_rate_delta > -0.1ms", "'%' (percentage points)"),
        ("calls_per_s_delta > 5ms", "'%' (relative change)"),
        ("p95_delta less than 10%", "expected '[OPERATION:] METRIC OP NUMBER%'"),
        (": p95_delta < 10%", "empty operation"),
    ],
)
def test_bad_assertions(text, message):
    with pytest.raises(CompareError, match="--assert") as info:
        parse_assertion(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_operation_suggests_one():
    with pytest.raises(CompareError, match=r"did you mean 'tools/call search_docs'\?"):
        parse_assertion("tools/call search_doc: p95_delta < 10%").check(compare(BASE, NEW))


def test_load_results_errors(tmp_path):
    with pytest.raises(CompareError, match=r"missing\.json: no such file"):
        load_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CompareError, match=r"bad\.json: not a JSON results file"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(CompareError, match=r"other\.json: not an mcpload results file"):
        load_results(tmp_path / "other.json")
    (tmp_path / "v2.json").write_text(json.dumps({"schema": "mcpload.results/2"}))
    with pytest.raises(CompareError, match=r"v2\.json: schema 'mcpload\.results/2' is not supported"):
        load_results(tmp_path / "v2.json")
    (tmp_path / "ok.json").write_text(json.dumps(BASE))
    assert load_results(tmp_path / "ok.json") == BASE
