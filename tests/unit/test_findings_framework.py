"""The findings framework: registry, ordering, thresholds naming findings, compare, report section."""

from __future__ import annotations

import asyncio

import pytest

from mcpload.compare import CompareError, compare, parse_assertion
from mcpload.engine.looplag import LoopLag
from mcpload.findings import DETECTORS, analyze, findings_of, sort_findings
from mcpload.findings.base import GENERATOR_LAG_MS, Finding, RunView, generator_bound
from mcpload.metrics.thresholds import ThresholdError, evaluate, parse_thresholds


def _iv(t: float, **extra) -> dict:
    base = {"t": t, "calls": 10, "ok": 10, "failed": 0, "errors": {}, "active_agents": 5, "loop_lag_ms": 1.0}
    return {**base, **extra}


def _results(intervals: list[dict], **extra) -> dict:
    return {"schema": "mcpload.results/1", "totals": {}, "operations": {}, "intervals": intervals, **extra}


def test_every_detector_is_keyed_by_its_id():
    assert DETECTORS and all(key == d.id and d.signature for key, d in DETECTORS.items())


def test_a_quiet_run_has_no_findings():
    assert analyze(_results([_iv(t) for t in range(1, 11)])) == []


@pytest.mark.parametrize("odd", [None, [], "x", {"intervals": "no"}, {"intervals": [1, "a", None]}])
def test_odd_results_give_no_findings_and_no_crash(odd):
    assert analyze(odd) == []  # type: ignore[arg-type]


def test_generator_bound_marks_lagging_intervals_and_hides_them_from_server_detectors():
    intervals = [_iv(t) for t in range(1, 11)]
    intervals[3]["loop_lag_ms"] = GENERATOR_LAG_MS * 3
    intervals[4]["generator_bound"] = True
    view = RunView(_results(intervals))
    assert [generator_bound(iv) for iv in intervals].count(True) == 2
    assert len(view.usable) == 8
    (found,) = analyze(_results(intervals))
    assert found["id"] == "generator-bound"
    assert found["evidence"]["intervals"] == 2
    assert found["evidence"]["seconds"] == [4, 5]
    assert found["interval"] == [3, 5]
    assert found["severity"] == "warning"  # 20 % of the run


@pytest.mark.parametrize(
    ("adaptive", "said"),
    [
        (None, "this run used 1 worker process; --workers N, up to one per core"),
        (
            {"hot_intervals": 2, "min_left_s": 5.0, "max_workers": 2, "changes": []},
            "--workers auto added none: a process must run hot for 2 s in a row with 5.0 s of load left",
        ),
        (
            {"max_workers": 2, "changes": [{"at_s": 4.0, "to": [{}, {"name": "worker-2"}]}]},
            "--workers auto added 1 during the run, up to its cap of 2 (one per core)",
        ),
        (
            {"max_workers": 2, "changes": [{"failed": "x"}], "stopped": "a new worker could not start: boom"},
            "--workers auto could not add a worker: a new worker could not start: boom",
        ),
    ],
)
def test_generator_bound_advice_says_what_workers_auto_did(adaptive, said):
    intervals = [_iv(t, loop_lag_ms=GENERATOR_LAG_MS * 2) for t in range(1, 6)]
    execution = {"backend": "local", "workers": 1, **({"adaptive": adaptive} if adaptive else {})}
    (found,) = analyze(_results(intervals, execution=execution))
    assert said in found["advice"]


def test_lag_just_under_the_limit_is_not_generator_bound():
    intervals = [_iv(t, loop_lag_ms=GENERATOR_LAG_MS) for t in range(1, 6)]
    assert analyze(_results(intervals)) == []


def test_sorting_is_most_severe_first_then_by_id():
    found = [{"id": "b", "severity": "info"}, {"id": "a", "severity": "critical"}, {"id": "c", "severity": "warning"}]
    assert [f["id"] for f in sort_findings(found)] == ["a", "c", "b"]


def test_findings_from_probes_survive_a_recompute():
    probe = {"id": "unknown-probe-finding", "severity": "warning", "title": "t", "evidence": {}, "advice": ""}
    assert probe in analyze(_results([_iv(1)], findings=[probe]))


def test_findings_of_prefers_the_results_own_list():
    own = [{"id": "x", "severity": "info"}]
    assert findings_of(_results([], findings=own)) == own
    assert findings_of(_results([_iv(1, loop_lag_ms=500.0)]))[0]["id"] == "generator-bound"


def test_a_finding_refuses_an_unknown_severity():
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "fatal", "t", "a")


# --- thresholds ----------------------------------------------------------------------------------

WARN = {"id": "session-leak", "severity": "warning"}
INFO = {"id": "generator-bound", "severity": "info"}


@pytest.mark.parametrize(
    ("spec", "findings", "passed"),
    [
        ({"findings": ["severity < warning"]}, [], True),
        ({"findings": ["severity < warning"]}, [INFO], True),
        ({"findings": ["severity < warning"]}, [INFO, WARN], False),
        ({"findings": ["severity == none"]}, [INFO], False),
        ({"findings": ["count == 0"]}, [], True),
        ({"findings": ["count == 0"]}, [INFO], False),
        ({"findings{id:session-leak}": ["count == 0"]}, [INFO], True),
        ({"findings{id:session-leak}": ["count == 0"]}, [WARN], False),
        ({"findings{id:session-leak}": ["severity <= info"]}, [WARN, INFO], False),
    ],
)
def test_thresholds_can_name_findings(spec, findings, passed):
    (result,) = evaluate(parse_thresholds(spec), {"findings": findings})
    assert result["passed"] is passed


def test_a_findings_threshold_has_no_data_while_the_run_goes_on():
    (result,) = evaluate(parse_thresholds({"findings": ["count == 0"]}), {"totals": {}})
    assert result["passed"] and result["no_data"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"findings": ["severity < warnin"]}, "did you mean 'warning'"),
        ({"findings": ["rate < 1"]}, "does not apply to findings"),
        ({"findings{op:x}": ["count == 0"]}, "has no tag 'op'"),
    ],
)
def test_bad_findings_thresholds_are_named(spec, message):
    with pytest.raises(ThresholdError, match=message):
        parse_thresholds(spec)


# --- compare -------------------------------------------------------------------------------------


def test_compare_lists_findings_new_and_gone_and_can_gate_on_them():
    base = _results([], findings=[INFO])
    new = _results([], findings=[WARN])
    comparison = compare(base, new)
    assert [f["id"] for f in comparison.new_findings] == ["session-leak"]
    assert [f["id"] for f in comparison.gone_findings] == ["generator-bound"]
    assertion = parse_assertion("new_findings == 0")
    assert assertion.check(comparison) == (False, 1.0)
    assert parse_assertion("new_findings == 0").check(compare(base, base)) == (True, 0.0)
    with pytest.raises(CompareError, match="count of the whole run"):
        parse_assertion("tools/call x: new_findings == 0")


# --- the loop-lag meter --------------------------------------------------------------------------


def test_loop_lag_sees_a_blocked_loop():
    import time

    async def go() -> tuple[dict, dict]:
        lag = LoopLag(period_s=0.01)
        lag.start()
        await asyncio.sleep(0.05)
        quiet = lag.cut()
        time.sleep(0.3)  # block the loop, as a CPU-bound agent would
        await asyncio.sleep(0.03)
        blocked = lag.cut()
        lag.stop()
        return quiet, blocked

    quiet, blocked = asyncio.run(go())
    assert blocked["loop_lag_ms"] >= 250
    assert quiet["loop_lag_ms"] < blocked["loop_lag_ms"]


def test_the_html_report_opens_with_the_findings_linked_to_their_charts():
    pytest.importorskip("plotly")
    from mcpload.outputs.html import render_html

    intervals = [_iv(t) for t in range(1, 6)]
    intervals[2]["loop_lag_ms"] = 900.0
    page = render_html(_results(intervals, findings=[{**INFO, "title": "<b>x</b>", "charts": ["loop_lag", "nope"]}]))
    assert page.index('id="findings"') < page.index('id="glance"')
    assert 'href="#chart-loop_lag"' in page and "#chart-nope" not in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_the_html_diff_lists_findings_new_and_gone():
    pytest.importorskip("plotly")
    from mcpload.outputs.compare_html import render_compare_html

    base = _results([], findings=[{**INFO, "title": "was there"}])
    new = _results([], findings=[{**WARN, "title": "<i>appeared</i>"}])
    page = render_compare_html(compare(base, new), base, new)
    assert "Findings new or gone" in page and "session-leak" in page and "generator-bound" in page
    assert "<i>appeared</i>" not in page


def test_a_threshold_naming_an_unknown_finding_is_refused_with_a_suggestion():
    from mcpload.scenario import Scenario, ScenarioError

    data = {
        "target": {"url": "http://127.0.0.1:1/mcp"},
        "agents": {"a": {"workflow": ["ping"]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        "thresholds": {"findings{id:sesion-leak}": ["count == 0"]},
    }
    with pytest.raises(ScenarioError, match="did you mean 'session-leak'"):
        Scenario.from_dict(data)
    data["thresholds"] = {"findings{id:unknown-session-status}": ["count == 0"]}  # a probe's id
    assert Scenario.from_dict(data).thresholds


def test_the_report_draws_the_canary_when_there_is_one():
    pytest.importorskip("plotly")
    from mcpload.outputs.html import render_html

    intervals = [_iv(t, canary={"calls": 4, "ok": 4, "p50_ms": 2.0, "max_ms": 150.0}) for t in range(1, 4)]
    assert 'id="chart-canary"' in render_html(_results(intervals))
    assert 'id="chart-canary"' not in render_html(_results([_iv(1)]))


def test_the_summary_names_the_severity_a_threshold_measured():
    from rich.console import Console

    from mcpload.outputs.console import render_summary

    console = Console(record=True, width=200)
    results = _results([], findings=[WARN])
    results["thresholds"] = evaluate(parse_thresholds({"findings": ["severity < warning"]}), results)
    render_summary(results, console)
    text = console.export_text()
    assert "severity < warning  (value warning)" in text
    assert "warning session-leak" in text
