"""Capacity search logic without a server: SLO parsing, settings, the ramp and bisection against a
model of a server with a known limit, and the analysis (knee, first broken SLO, dominant error)."""

from __future__ import annotations

import math

import pytest

from mcpload.capacity import Growth, Resolution, Settings, SloError, parse_slo, parse_slos, search
from mcpload.capacity.analysis import dominant_error, first_broken, knee
from mcpload.capacity.recovery import first_recovered, recovery_load
from mcpload.capacity.slo import DEFAULT_SLOS, evaluate

# 1. SLOs


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit"),
    [
        ("success_rate >= 0.999", "success_rate", ">=", 0.999),
        ("success_rate>99.5%", "success_rate", ">", 0.995),
        ("error_rate <= 1%", "error_rate", "<=", 0.01),
        ("p95 <= 400ms", "p95", "<=", 400.0),
        ("p99 < 1.5s", "p99", "<", 1500.0),
        ("P50 <= 250", "p50", "<=", 250.0),
        ("p90 <= 800us", "p90", "<=", 0.8),
        ("p99.9 <= 2s", "p999", "<=", 2000.0),
    ],
)
def test_slo_parsing(text, metric, op, limit):
    slo = parse_slo(text)
    assert (slo.metric, slo.op) == (metric, op)
    assert slo.limit == pytest.approx(limit)
    assert slo.text == text.strip()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("p95 400ms", "expected e.g."),
        ("p97 <= 400ms", "unknown metric 'p97'"),
        ("success_rate >= 2", "between 0 and 1"),
        ("success_rate >= 0.9ms", "fraction"),
        ("p95 >= 400ms", "upper bound"),
        ("p95 <= 40%", "duration"),
        ("latency <= 1s", "unknown metric"),
    ],
)
def test_bad_slos_say_what_is_wrong_in_one_line(text, fragment):
    with pytest.raises(SloError) as info:
        parse_slo(text)
    message = str(info.value)
    assert fragment in message and "\n" not in message and repr(text) in message


def test_no_slo_means_the_defaults():
    assert [s.text for s in parse_slos(None)] == list(DEFAULT_SLOS)


def test_slos_judge_a_window():
    slos = parse_slos(["success_rate >= 0.99", "error_rate <= 0.05", "p95 <= 300ms"])
    window = {"calls": 200, "ok": 197, "latency_ms": {"p95": 310.0}}
    checks = evaluate(slos, window)
    assert [c["passed"] for c in checks] == [False, True, False]
    assert checks[0]["value"] == pytest.approx(0.985) and checks[2]["value"] == 310.0
    # no calls at all: nothing was served, every SLO fails
    assert not any(c["passed"] for c in evaluate(slos, {"calls": 0, "ok": 0}))


# 2. settings


def test_growth_and_resolution_parse():
    assert Growth.parse("x2") == Growth(factor=2.0) and Growth.parse("1.5x") == Growth(factor=1.5)
    assert Growth.parse("+5").next(10, integer=True) == 15 and Growth.parse("5").add == 5
    assert Growth.parse("x1.1").next(3, integer=True) == 4  # agents always grow by one at least
    for bad in ("x1", "x0.5", "-3", "fast"):
        with pytest.raises(ValueError, match="--step"):
            Growth.parse(bad)
    assert Resolution.parse("10%").done(100, 109, integer=True)
    assert not Resolution.parse("10%").done(100, 111, integer=True)
    assert Resolution.parse("2").done(8, 10, integer=True) and not Resolution.parse("2").done(8, 11, integer=True)
    assert Resolution.parse("0.5").done(3.0, 3.4, integer=False)
    with pytest.raises(ValueError, match="--resolution"):
        Resolution.parse("0%")
    with pytest.raises(ValueError, match="--start"):
        Settings(start=1.5)
    with pytest.raises(ValueError, match="--by"):
        Settings(by="vus")


# 3. the search against a model server: C slots, L seconds per call, closed-loop agents back to back


def model_server(slots: int, latency_ms: float, slo_p95_ms: float, bound_at: float | None = None):
    """A closed-loop queue: N agents wait ceil(N / slots) service times; throughput min(N, slots) / L."""
    seen: list[tuple[float, str]] = []

    async def measure(load: float, phase: str) -> dict:
        seen.append((load, phase))
        p95 = latency_ms * math.ceil(load / slots)
        rate = min(load, slots) / (latency_ms / 1000)
        errors = {"tool_error": int(load)} if load > 3 * slots else {}
        checks = [{"slo": "p95 <= limit", "value": p95, "passed": p95 <= slo_p95_ms}]
        if bound_at is not None and load >= bound_at:
            verdict = "generator-bound"
        else:
            verdict = "pass" if p95 <= slo_p95_ms else "fail"
        return {
            "load": load,
            "phase": phase,
            "calls_per_s": rate,
            "calls": int(rate * 10),
            "ok": int(rate * 10),
            "failed": sum(errors.values()),
            "errors": errors,
            "success_rate": 1.0,
            "latency_ms": {"p50": p95, "p95": p95, "p99": p95},
            "slos": checks,
            "verdict": verdict,
            "guard": "mcpload is the bottleneck" if verdict == "generator-bound" else None,
        }

    return measure, seen


async def test_ramp_then_bisect_finds_the_known_ceiling():
    # 4 slots × 100 ms, p95 ≤ 250 ms: up to 8 agents wait at most one service time → ceiling 8 agents
    measure, seen = model_server(slots=4, latency_ms=100, slo_p95_ms=250)
    out = await search(Settings(start=1, resolution=Resolution.parse("1")), measure)
    assert out.passing == 8 and out.failing == 9 and out.overload == 16
    assert out.stopped == "ceiling found"
    assert [load for load, _ in seen] == [1, 2, 4, 8, 16, 12, 10, 9]
    assert [phase for _, phase in seen] == ["ramp"] * 5 + ["bisect"] * 3


async def test_additive_steps_and_relative_resolution():
    measure, seen = model_server(slots=10, latency_ms=50, slo_p95_ms=120)  # ceiling: 20 agents
    out = await search(Settings(start=5, growth=Growth.parse("+10"), resolution=Resolution.parse("10%")), measure)
    assert [load for load, _ in seen][:3] == [5, 15, 25]
    assert out.passing == 20 and out.failing in (21, 22)


async def test_rate_loads_bisect_in_fractions():
    async def measure(load: float, phase: str) -> dict:
        verdict = "pass" if load <= 7.3 else "fail"
        return {"load": load, "phase": phase, "verdict": verdict, "slos": [], "errors": {}}

    out = await search(Settings(by="rate", start=1, resolution=Resolution.parse("0.25")), measure)
    assert 7.0 <= out.passing <= 7.3 < out.failing <= out.passing + 0.25


async def test_a_failing_first_step_is_bisected_down():
    measure, _ = model_server(slots=2, latency_ms=100, slo_p95_ms=250)  # ceiling 4
    out = await search(Settings(start=10, resolution=Resolution.parse("1")), measure)
    assert out.passing == 4 and out.failing == 5


async def test_nothing_passes():
    measure, _ = model_server(slots=1, latency_ms=500, slo_p95_ms=250)
    out = await search(Settings(start=1), measure)
    assert out.passing is None and out.stopped == "no load passed"


async def test_max_load_stops_the_ramp():
    measure, seen = model_server(slots=100, latency_ms=10, slo_p95_ms=250)
    out = await search(Settings(start=1, max_load=20), measure)
    assert out.stopped == "max load reached" and out.passing == 20 and out.failing is None
    assert [load for load, _ in seen] == [1, 2, 4, 8, 16, 20]


async def test_generator_bound_step_stops_the_search():
    measure, seen = model_server(slots=100, latency_ms=10, slo_p95_ms=250, bound_at=8)
    out = await search(Settings(start=1), measure)
    assert out.stopped == "generator-bound" and out.guard["load"] == 8
    assert out.passing == 4  # what the server was seen to sustain, not a ceiling
    assert [load for load, _ in seen] == [1, 2, 4, 8]


# 4. analysis


async def test_knee_first_broken_and_dominant_error():
    measure, _ = model_server(slots=4, latency_ms=100, slo_p95_ms=250)
    out = await search(Settings(start=1, resolution=Resolution.parse("1")), measure)
    k = knee(out.steps)
    # the lowest load's p95 is 100 ms; the first over 150 ms is the first load past the 4 slots
    assert k["load"] == 8 and k["baseline_p95_ms"] == 100 and k["baseline_load"] == 1
    slos = parse_slos(["p95 <= 250ms", "success_rate >= 0.99"])
    steps = [
        {"load": 4, "verdict": "pass", "slos": [{"slo": "p95 <= 250ms", "value": 100, "passed": True}]},
        {
            "load": 6,
            "verdict": "fail",
            "slos": [
                {"slo": "p95 <= 250ms", "value": 300, "passed": False},
                {"slo": "success_rate >= 0.99", "value": 0.5, "passed": False},
            ],
        },
        {"load": 8, "verdict": "fail", "slos": [{"slo": "p95 <= 250ms", "value": 900, "passed": False}]},
    ]
    # both break at 6: the one furthest past its limit (0.99 / 0.5 ≈ 2 against 300 / 250 = 1.2)
    assert first_broken(steps, slos) == {"slo": "success_rate >= 0.99", "load": 6, "value": 0.5, "limit": 0.99}
    breaking = {"errors": {"timeout": 3, "tool_error": 40}, "failed": 43}
    results = {"top_errors": [{"kind": "tool_error", "message": "server busy", "count": 40}]}
    assert dominant_error(breaking, results) == {
        "kind": "tool_error",
        "count": 40,
        "share_of_failures": round(40 / 43, 4),
        "message": "server busy",
    }
    assert dominant_error({"errors": {}}, None) is None


def test_recovery_needs_consecutive_passing_intervals():
    ivs = [{"t": t, "passed": p} for t, p in [(11, False), (12, True), (13, False), (14, True), (15, True), (16, True)]]
    assert first_recovered(ivs)["t"] == 14
    assert first_recovered(ivs[:5])["t"] == 14  # the run ends while they pass: that counts
    assert first_recovered([{"t": 1, "passed": False}]) is None
    assert recovery_load(9, integer=True) in (4, 5) and recovery_load(8, integer=True) == 4
    assert recovery_load(1, integer=True) == 1 and recovery_load(5.0, integer=False) == 2.5
