"""Rate SLOs decided with a confidence interval (Wilson), over the baseline error rate; an
undecided step is inconclusive and never counts as sustainable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.capacity import Resolution, Settings, parse_slo
from mcpload.capacity.search import search
from mcpload.metrics.confidence import wilson

SUCCESS = parse_slo("success_rate >= 0.99")


def test_one_failure_in_55_calls_decides_nothing():
    # the case: 54/55 ok was called a failure of "success_rate >= 0.99"
    check = SUCCESS.check({"calls": 55, "ok": 54})
    assert check["verdict"] == "inconclusive" and not check["passed"]
    low, high = check["interval"]
    assert low < 0.01 < high


@pytest.mark.parametrize(
    ("calls", "ok", "verdict"),
    [(2000, 1995, "pass"), (2000, 1900, "fail"), (300, 297, "inconclusive"), (1000, 1000, "pass"), (0, 0, "fail")],
)
def test_rate_verdicts(calls, ok, verdict):
    assert SUCCESS.check({"calls": calls, "ok": ok})["verdict"] == verdict


def test_the_baseline_error_rate_is_the_servers_not_the_loads():
    window = {"calls": 4000, "ok": 3880}  # 3 % errors
    assert SUCCESS.check(window)["verdict"] == "fail"
    relative = SUCCESS.check(window, baseline_error=0.03)
    assert relative["verdict"] == "pass" and relative["baseline_error"] == 0.03
    assert SUCCESS.check({"calls": 4000, "ok": 3700}, baseline_error=0.03)["verdict"] == "fail"  # 7.5 %: load


def test_error_rate_slos_and_latency_slos():
    assert parse_slo("error_rate <= 1%").check({"calls": 5000, "ok": 4990})["verdict"] == "pass"
    latency = parse_slo("p95 <= 100ms").check({"calls": 3, "ok": 3, "latency_ms": {"p95": 120}})
    assert latency["verdict"] == "fail" and "interval" not in latency


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_holds_the_point_estimate_within_0_and_1(trials, data):
    failures = data.draw(st.integers(min_value=0, max_value=trials))
    low, high = wilson(failures, trials)
    assert 0 <= low <= failures / trials <= high <= 1
    if failures == 0:
        assert low == 0
    if failures == trials:
        assert high == 1


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=20, max_value=2000), st.floats(min_value=0.0, max_value=0.5))
def test_a_verdict_agrees_with_the_point_estimate_when_decided(calls, error):
    failed = round(calls * error)
    check = SUCCESS.check({"calls": calls, "ok": calls - failed})
    if check["verdict"] == "pass":
        assert failed / calls <= 0.01
    elif check["verdict"] == "fail":
        assert failed / calls > 0.01


async def test_an_inconclusive_step_is_not_a_failure():
    # passes below 8, undecided from 8 to 11, fails from 12: not shown to break up to 11
    async def measure(load: float, phase: str) -> dict:
        verdict = "pass" if load < 8 else "inconclusive" if load < 12 else "fail"
        return {"load": load, "phase": phase, "verdict": verdict}

    out = await search(Settings(start=2, resolution=Resolution.parse("1")), measure)
    assert out.passing == 11 and out.failing == 12


def test_calls_to_decide_grows_as_the_rate_nears_the_limit():
    from mcpload.capacity.slo import calls_to_decide, error_budgets

    budgets = error_budgets((SUCCESS,))
    near = calls_to_decide(SUCCESS.check({"calls": 200, "ok": 197}), budgets)  # 1.5 % vs 1 %
    far = calls_to_decide(SUCCESS.check({"calls": 100, "ok": 100}), budgets)  # 0 %: about 3 / 1 %
    assert near is not None and far is not None and near > far > 100
    assert calls_to_decide(SUCCESS.check({"calls": 100, "ok": 99}), budgets) is None  # at the limit
    assert calls_to_decide(SUCCESS.check({"calls": 5000, "ok": 4999}), budgets) is None  # decided
