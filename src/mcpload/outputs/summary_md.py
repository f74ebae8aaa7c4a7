"""The Markdown summary of a run (``--summary-md PATH``; the GitHub Action writes it to
``$GITHUB_STEP_SUMMARY``): the verdict, the thresholds, a table per operation, the findings, and the
comparison with a baseline run when there is one.

Everything that came from the server or the scenario (operation and tool names, error messages,
finding titles) is escaped, cut and bounded in count: a summary renders as written, never as the
server would like it to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpload.compare import Assertion, Comparison

from mcpload.outputs.base import FileOutput

MAX_CELL = 160  # characters of one table cell
MAX_ROWS = 40  # operations listed; the rest are counted
MAX_FINDINGS = 20
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")
_WHITESPACE = re.compile(r"\s+")
_NOT_ID = re.compile(r"[^A-Za-z0-9._:/@ =-]")
_ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def md(value: Any, limit: int = MAX_CELL) -> str:
    """``value`` as inert Markdown text on one line: whitespace folded, cut at ``limit``, every
    character that could start markup, a link, an HTML tag or a table cell escaped."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _SPECIAL.sub(r"\\\1", text)


def code(value: Any, limit: int = 60) -> str:
    """``value`` (an id) as an inline code span; escapes do not work inside one, so only plain id
    characters are kept (others become ``?``)."""
    text = _NOT_ID.sub("?", _WHITESPACE.sub(" ", str(value)).strip()[:limit])
    return f"`{text}`" if text else "–"


def _ms(value: Any) -> str:
    return "–" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value:,.1f}"


def _pct(value: Any) -> str:
    return "–" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value * 100:.2f}%"


def _num(value: Any) -> str:
    return "–" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value:,.4g}"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def verdict(results: Mapping[str, Any]) -> tuple[bool, str]:
    """``(passed, sentence)`` of a run: thresholds, a threshold abort, a stop by the user."""
    thresholds = [t for t in results.get("thresholds") or [] if isinstance(t, Mapping)]
    failed = [t for t in thresholds if not t.get("passed")]
    if results.get("aborted_by"):
        return False, f"aborted: threshold {md(results['aborted_by'])} failed during the run"
    if failed:
        return False, f"{len(failed)} of {len(thresholds)} thresholds failed"
    capacity = _dict(results.get("capacity"))
    if capacity:
        return capacity.get("stopped") not in ("no load passed", "interrupted"), md(capacity.get("verdict"), 400)
    if results.get("stopped_by_user"):
        return False, "stopped before its end (Ctrl-C or SIGTERM)"
    return True, f"all {len(thresholds)} thresholds passed" if thresholds else "no thresholds set"


def render(
    results: Mapping[str, Any] | None,
    *,
    comparison: Comparison | None = None,
    assertions: list[tuple[Assertion, bool, float | None]] | None = None,
    names: tuple[str, str] = ("base", "new"),
) -> str:
    """The Markdown summary.

    Args:
        results: a results document (of ``run``, ``capacity`` or the NEW side of ``compare``).
        comparison: a ``mcpload.compare.Comparison`` with a baseline, when there is one.
        assertions: ``(Assertion, passed, value)`` of ``compare --assert``.
        names: how the two compared runs are named.
    """
    results = results or {}
    out: list[str] = []
    passed, sentence = verdict(results)
    failed_asserts = [a for a in assertions or [] if not a[1]]
    if failed_asserts:
        passed = False
        sentence += f"; {len(failed_asserts)} of {len(assertions or [])} comparison assertions failed"
    title = md(results.get("scenario") or "run")
    out.append(f"## {'✅' if passed else '❌'} mcpload: {title} — {sentence}")
    out.append("")
    out.extend(_overview(results))
    out.extend(_thresholds(results))
    out.extend(_capacity(results))
    out.extend(_operations(results))
    out.extend(_findings(results))
    if comparison is not None:
        out.extend(_comparison(comparison, assertions or [], names))
    return "\n".join(out).rstrip() + "\n"


def _overview(results: Mapping[str, Any]) -> list[str]:
    totals, target = _dict(results.get("totals")), _dict(results.get("target"))
    if not totals:
        return []
    where = target.get("url") or target.get("command") or "?"
    latency = _dict(results.get("latency_ms"))
    line = (
        f"**target** {md(where)} · **duration** {_num(results.get('duration_s'))} s · **calls** "
        f"{_num(totals.get('calls'))} ({_num(totals.get('calls_per_s'))}/s) · **success** "
        f"{_pct(totals.get('success_rate'))} · **p95** {_ms(latency.get('p95'))} ms · **p99** "
        f"{_ms(latency.get('p99'))} ms"
    )
    lost = _dict(results.get("execution")).get("lost")
    extra = [f"> ⚠️ {len(lost)} worker(s) lost during the run: the figures cover the rest", ""] if lost else []
    return [line, "", *extra]


def _thresholds(results: Mapping[str, Any]) -> list[str]:
    rows = [t for t in results.get("thresholds") or [] if isinstance(t, Mapping)]
    if not rows:
        return []
    out = ["### Thresholds", "", "| | metric | criterion | measured |", "|---|---|---|---|"]
    for t in rows[:MAX_ROWS]:
        value = t.get("value")
        metric = str(t.get("metric"))
        shown = "no data" if value is None else _ms(value) + " ms" if metric.startswith("latency") else _num(value)
        mark = "✅" if t.get("passed") else "❌"
        out.append(f"| {mark} | {md(metric)} | {md(t.get('expr'))} | {shown} |")
    return [*out, ""]


def _operations(results: Mapping[str, Any]) -> list[str]:
    ops = _dict(results.get("operations"))
    if not ops:
        return []
    out = [
        "### Operations",
        "",
        "| operation | calls | success | calls/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for name in sorted(ops)[:MAX_ROWS]:
        op = _dict(ops[name])
        lat = _dict(op.get("latency_ms"))
        errors = ", ".join(f"{md(k)} {n}" for k, n in sorted(_dict(op.get("errors")).items())[:5]) or "–"
        out.append(
            f"| {md(name)} | {_num(op.get('calls'))} | {_pct(op.get('success_rate'))} | {_num(op.get('calls_per_s'))} "
            f"| {_ms(lat.get('p50'))} | {_ms(lat.get('p95'))} | {_ms(lat.get('p99'))} | {errors} |"
        )
    if len(ops) > MAX_ROWS:
        out.append(f"| … {len(ops) - MAX_ROWS} more operations (in the results JSON) | | | | | | | |")
    slow = _slowest_traces(results)
    return [*out, "", *slow]


def _slowest_traces(results: Mapping[str, Any]) -> list[str]:
    """The trace ids of the slowest sampled calls per operation (``--trace-context``), when recorded."""
    traces = _dict(results.get("slowest_traces"))
    if not traces:
        return []
    out = ["<details><summary>Slowest traced calls (trace ids)</summary>", ""]
    for name in sorted(traces)[:MAX_ROWS]:
        calls = [c for c in traces[name] or [] if isinstance(c, Mapping)][:3]
        shown = ", ".join(f"{code(c.get('trace_id'), 32)} {_ms(c.get('latency_ms'))} ms" for c in calls)
        out.append(f"- {md(name)}: {shown}")
    return [*out, "", "</details>", ""]


def _findings(results: Mapping[str, Any]) -> list[str]:
    findings = [f for f in results.get("findings") or [] if isinstance(f, Mapping)]
    if not findings:
        return []
    out = ["### Findings", ""]
    for f in findings[:MAX_FINDINGS]:
        severity = str(f.get("severity"))
        span = f.get("interval")
        when = ""
        if isinstance(span, list) and len(span) == 2 and all(isinstance(x, int | float) for x in span):
            when = f" (t {span[0]:g}–{span[1]:g} s)"
        icon, name = _ICON.get(severity, ""), code(f.get("id"))
        out.append(f"- {icon} **{md(severity)}** {name}: {md(f.get('title'), 300)}{when}")
        if f.get("advice"):
            out.append(f"  → {md(f.get('advice'), 400)}")
    if len(findings) > MAX_FINDINGS:
        out.append(f"- … {len(findings) - MAX_FINDINGS} more (in the results JSON)")
    return [*out, ""]


def _capacity(results: Mapping[str, Any]) -> list[str]:
    cap = _dict(results.get("capacity"))
    if not cap:
        return []
    unit = md(_dict(cap.get("settings")).get("unit") or "load")
    out = ["### Capacity", "", "| | load | calls/s | success | p95 ms | p99 ms |", "|---|--:|--:|--:|--:|--:|"]
    for label, key in (("ceiling", "ceiling"), ("knee", "knee"), ("breaking point", "breaking_point")):
        row = _dict(cap.get(key))
        if row:
            out.append(
                f"| {label} | {_num(row.get('load'))} {unit} | {_num(row.get('calls_per_s'))} | "
                f"{_pct(row.get('success_rate'))} | {_ms(row.get('p95_ms'))} | {_ms(row.get('p99_ms'))} |"
            )
    out.append("")
    out.append(f"stopped: {md(cap.get('stopped'))}")
    return [*out, ""]


def _comparison(
    comparison: Comparison, assertions: list[tuple[Assertion, bool, float | None]], names: tuple[str, str]
) -> list[str]:
    out = [
        f"### Compared with {md(names[0])}",
        "",
        "| operation | calls/s | Δ | success | Δ pp | p95 ms | Δ | p99 ms | Δ |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in comparison.rows[: MAX_ROWS + 1]:
        new, d = row.new, row.deltas
        if new is None:
            out.append(f"| {md(row.operation)} | not called | | | | | | | |")
            continue
        out.append(
            f"| {md(row.operation)} | {_num(new.calls_per_s)} | {_delta(d.get('calls_per_s_delta'), '%')} | "
            f"{_pct(new.success_rate)} | {_delta(d.get('success_rate_delta'), '')} | {_ms(new.latency.get('p95'))} | "
            f"{_delta(d.get('p95_delta'), '%')} | {_ms(new.latency.get('p99'))} | {_delta(d.get('p99_delta'), '%')} |"
        )
    out.append("")
    if comparison.new_findings:
        ids = ", ".join(code(f.get("id")) for f in comparison.new_findings[:MAX_FINDINGS])
        out += [f"New findings since {md(names[0])}: {ids}", ""]
    if assertions:
        out += ["| | assertion | measured |", "|---|---|---|"]
        for assertion, ok, value in assertions:
            out.append(f"| {'✅' if ok else '❌'} | {md(assertion.text)} | {md(assertion.shown(value))} |")
        out.append("")
    return out


def _delta(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    return f"{value:+.3g}{unit}"


def write_summary_md(path: str | Path, text: str, *, append: bool = False) -> None:
    """Write (or, for ``$GITHUB_STEP_SUMMARY``, append) the summary; a plain file is replaced atomically."""
    if append:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
        return
    from mcpload.atomic import write_text_atomic

    write_text_atomic(path, text)


class SummaryMdOutput(FileOutput):
    """Writes the Markdown summary when the run ends (``mcpload run --summary-md PATH``)."""

    name = "summary-md"

    def stop(self, results: dict[str, Any]) -> None:
        """Write the summary of the run (replacing the file)."""
        write_summary_md(self.path, render(results))
