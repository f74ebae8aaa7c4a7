"""The Markdown summary (``--summary-md``, the GitHub Action's job summary): content, verdicts, and
inertness of everything that came from the server (names, messages, findings)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.compare import compare, parse_assertion
from mcpload.outputs.summary_md import MAX_ROWS, code, md, render, verdict

HOSTILE = "evil|tool\n## <script>alert(1)</script> [x](http://e.vil) `tick` *b* " + "y" * 400


def _op(calls=10, ok=10, p95=12.0, errors=None):
    lat = {"min": 1.0, "mean": 5.0, "p50": 5.0, "p90": 10.0, "p95": p95, "p99": p95 * 1.5, "p999": 30.0, "max": 31.0}
    return {
        "calls": calls,
        "ok": ok,
        "failed": calls - ok,
        "success_rate": ok / calls if calls else None,
        "calls_per_s": calls / 10,
        "errors": errors or {},
        "latency_ms": {**lat, "count": calls},
    }


def _doc(ops=None, thresholds=(), findings=(), **extra):
    ops = ops if ops is not None else {"tools/call search": _op()}
    calls = sum(o["calls"] for o in ops.values())
    ok = sum(o["ok"] for o in ops.values())
    return {
        "scenario": "s",
        "target": {"url": "http://127.0.0.1:1/mcp"},
        "duration_s": 10.0,
        "totals": {"calls": calls, "ok": ok, "success_rate": ok / calls if calls else None, "calls_per_s": 1.0},
        "latency_ms": _op()["latency_ms"],
        "operations": ops,
        "thresholds": list(thresholds),
        "findings": list(findings),
        **extra,
    }


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_a_passing_run():
    text = render(_doc(thresholds=[{"metric": "latency", "expr": "p(95) < 1s", "passed": True, "value": 12.0}]))
    assert text.startswith("## ✅ mcpload: s — all 1 thresholds passed")
    assert "| ✅ | latency | p\\(95\\) \\< 1s | 12.0 ms |" in text
    assert "| tools/call search | 10 | 100.00% | 1 | 5.0 | 12.0 | 18.0 | – |" in text


def test_failures_findings_and_a_lost_worker_are_shown():
    finding = {"id": "error-burst", "severity": "critical", "title": "errors burst", "interval": [2, 4], "advice": "a"}
    doc = _doc(
        thresholds=[{"metric": "success_rate", "expr": "rate > 0.99", "passed": False, "value": 0.5}],
        findings=[finding],
        execution={"lost": [{"worker": 1}]},
    )
    text = render(doc)
    assert text.startswith("## ❌ mcpload: s — 1 of 1 thresholds failed")
    assert "🔴 **critical** `error-burst`: errors burst (t 2–4 s)" in text and "  → a" in text
    assert "1 worker(s) lost" in text


def test_verdicts():
    assert verdict(_doc(aborted_by="latency p(95) < 1ms"))[0] is False
    assert verdict(_doc(stopped_by_user=True)) == (False, "stopped before its end (Ctrl-C or SIGTERM)")
    capacity = {
        "stopped": "ceiling found",
        "verdict": "sustains 40 agents",
        "settings": {"unit": "agents"},
        "ceiling": {"load": 40, "calls_per_s": 80.0, "success_rate": 0.999, "p95_ms": 120.0, "p99_ms": 200.0},
    }
    ok, sentence = verdict({"capacity": capacity})
    assert ok and sentence == "sustains 40 agents"
    text = render({"capacity": capacity})
    assert "| ceiling | 40 agents | 80 | 99.90% | 120.0 | 200.0 |" in text
    assert verdict({"capacity": {**capacity, "stopped": "no load passed"}})[0] is False


def test_hostile_names_stay_inert_and_bounded():
    ops = {HOSTILE: _op(errors={HOSTILE: 3})}
    finding = {"id": HOSTILE, "severity": "warning", "title": HOSTILE, "advice": HOSTILE}
    text = render(_doc(ops=ops, findings=[finding], scenario=HOSTILE))
    assert "<script>" not in text and "](http" not in text and "\n## <" not in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "operation" not in line]
    assert table and all(_unescaped_pipes(line) == 9 for line in table if "100.00%" in line or "%" in line)
    assert all(len(line) < 2000 for line in text.splitlines())


def test_many_operations_are_cut():
    ops = {f"tools/call t{i:03}": _op() for i in range(MAX_ROWS + 7)}
    text = render(_doc(ops=ops))
    assert "… 7 more operations" in text and "t039" in text and "t040" not in text


def test_the_comparison_section():
    base = _doc(ops={"tools/call search": _op(p95=10.0)})
    new = _doc(ops={"tools/call search": _op(p95=20.0), "tools/call other": _op()})
    comparison = compare(base, new)
    assertion = parse_assertion("tools/call search: p95_delta < 10%")
    text = render(new, comparison=comparison, assertions=[(assertion, *assertion.check(comparison))], names=("a", "b"))
    assert "comparison assertions failed" in text.splitlines()[0] and text.startswith("## ❌")
    assert "### Compared with a" in text
    assert re.search(r"\| tools/call search \| 1 \| \+0% \| 100\.00% \| \+0 \| 20\.0 \| \+100% \|", text)
    assert "| ❌ | tools/call search: p95\\_delta \\< 10% | \\+100% |" in text


def test_slowest_traces_are_listed():
    traces = {"tools/call search": [{"trace_id": "ab" * 16, "latency_ms": 812.5}]}
    text = render(_doc(slowest_traces=traces))
    assert f"- tools/call search: `{'ab' * 16}` 812.5 ms" in text


def test_empty_or_odd_documents_render():
    assert render(None).startswith("## ✅ mcpload: run")
    assert render({"totals": "x", "operations": [], "findings": "y", "thresholds": [1]})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_md_is_one_inert_line(text):
    out = md(text)
    assert "\n" not in out and "\r" not in out
    # every markup character is escaped (preceded by an odd run of backslashes)
    for m in re.finditer(r"[`*_\[\]<>|#!]", out):
        run = len(out[: m.start()]) - len(out[: m.start()].rstrip("\\"))
        assert run % 2 == 1, (text, out)
    c = code(text)
    assert c.count("`") in (0, 2) and "\n" not in c
