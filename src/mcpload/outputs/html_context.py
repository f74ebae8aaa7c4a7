"""What the HTML report says in words and tables, taken from the results document.

Values come out as plain strings (formatted, never marked safe): the template escapes them, so
whatever the server sent — tool names, error messages, server info — shows as text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mcpload.metrics.rebuild import REBUILT
from mcpload.outputs.html_series import flatten

DASH = "–"


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return value if ok and math.isfinite(value) else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def fmt(value: Any) -> str:
    """Any value as short text: thousands separators, at most 3 decimals, ``–`` for no data."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        text = f"{value:,.3f}".rstrip("0").rstrip(".")
        return text if text not in ("", "-0") else "0"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:199] + "…"
    return str(value)


def ms(value: Any) -> str:
    return DASH if _num(value) is None else f"{value:,.1f} ms"


def pct(rate: Any) -> str:
    if _num(rate) is None:
        return DASH
    return f"{100 * rate:.2f} %" if rate < 1 else "100 %"


def errors_text(errors: Any) -> str:
    items = sorted(((k, v) for k, v in as_dict(errors).items() if _num(v)), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {fmt(v)}" for k, v in items) or DASH


def verdict(results: dict[str, Any]) -> dict[str, str]:
    """``{"label", "tone", "detail"}``: the outcome of the run in one word and why."""
    thresholds = [t for t in as_list(results.get("thresholds")) if isinstance(t, dict)]
    failed = [t for t in thresholds if not t.get("passed")]
    details = []
    if results.get("aborted_by"):
        details.append(f"aborted by threshold {results['aborted_by']}")
    if results.get("stopped_by_user"):
        details.append("interrupted (Ctrl-C)")
    if results.get(REBUILT):
        label, tone = "not evaluated", "neutral"
        details.insert(0, "rebuilt from an interval log: thresholds were not evaluated")
    elif not thresholds:
        label, tone = "no thresholds", "neutral"
    elif failed:
        label, tone = "FAILED", "fail"
        details.insert(0, f"{len(failed)} of {len(thresholds)} thresholds failed")
    else:
        label, tone = "PASSED", "pass"
        details.insert(0, f"all {len(thresholds)} thresholds passed")
    return {"label": label, "tone": tone, "detail": "; ".join(details)}


def describe_profile(profile: Any) -> str:
    """One line for a profile of the results (``type (kind) from Xs for Ys: stages …``)."""
    p = as_dict(profile)
    text = f"{p.get('type', '?')} ({p.get('kind', '?')})"
    text += f" from {fmt(p.get('start_s'))} s for {fmt(p.get('duration_s'))} s"
    stages = [s for s in as_list(p.get("stages")) if isinstance(s, dict)]
    if stages:
        text += "; stages " + ", ".join(f"{fmt(s.get('duration_s'))} s → {fmt(s.get('target'))}" for s in stages)
    known = {"type", "kind", "start_s", "duration_s", "stages"}
    extra = [f"{k} {fmt(v)}" for k, v in p.items() if k not in known]
    return text + ("; " + ", ".join(extra) if extra else "")


def glance(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The run at a glance: (label, value) rows."""
    target = as_dict(results.get("target"))
    server = as_dict(target.get("server_info"))
    server_text = " ".join(str(server[k]) for k in ("name", "version") if server.get(k) is not None)
    server_text += "".join(f"; {k}: {fmt(v)}" for k, v in server.items() if k not in ("name", "version"))
    protocol = target.get("protocol_version")
    if target.get("era"):
        protocol = f"{protocol or DASH} ({target['era']} era)"
    rows = [
        ("scenario", fmt(results.get("scenario"))),
        ("target", fmt(target.get("url") or target.get("command"))),
        ("transport", fmt(target.get("transport"))),
        ("protocol", fmt(protocol)),
        ("server", server_text or DASH),
        ("started at", fmt(results.get("started_at"))),
        ("duration", f"{fmt(results.get('duration_s'))} s"),
        ("seed", fmt(results.get("seed"))),
    ]
    rows += [("profile", describe_profile(p)) for p in as_list(results.get("profiles"))]
    execution = as_dict(results.get("execution"))
    segments = [str(s) for s in as_list(execution.get("segments"))]
    if segments and segments != ["0:1"]:
        what = {"processes": "worker processes", "ray": "Ray actors", "merge": "merged segment files"}
        label = what.get(str(execution.get("backend")), "segment")
        rows.append(("split", f"{len(segments)} {label}: {', '.join(segments)}" if label != "segment" else segments[0]))
    return rows


def headline(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The big numbers: (label, value) cards."""
    totals, lat = as_dict(results.get("totals")), as_dict(results.get("latency_ms"))
    conv = as_dict(results.get("conversations"))
    cards = [
        ("calls", fmt(totals.get("calls"))),
        ("success", pct(totals.get("success_rate"))),
        ("failed", fmt(totals.get("failed"))),
        ("calls/s", fmt(totals.get("calls_per_s"))),
        ("p50", ms(lat.get("p50"))),
        ("p95", ms(lat.get("p95"))),
        ("p99", ms(lat.get("p99"))),
        ("conversations ok", pct(conv.get("success_rate"))),
    ]
    if _num(conv.get("wasted_tokens")):
        cards.append(("wasted tokens", fmt(conv["wasted_tokens"])))
    return cards


def thresholds(results: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for t in as_list(results.get("thresholds")):
        t = as_dict(t)
        value = t.get("value")
        metric = str(t.get("metric", ""))
        shown = ms(value) if metric.startswith("latency") else fmt(value)
        rows.append(
            {
                "metric": metric,
                "expr": fmt(t.get("expr")),
                "value": "no data" if t.get("no_data") else shown,
                "passed": "pass" if t.get("passed") else "fail",
                "abort": "yes" if t.get("abort_on_fail") else "",
            }
        )
    return rows


def operations(results: dict[str, Any]) -> list[list[str]]:
    """Per-operation rows, then the ``all`` row."""
    rows = []

    def row(name: str, op: dict[str, Any], lat: Any) -> list[str]:
        lat = as_dict(lat)
        return [
            name,
            fmt(op.get("calls")),
            pct(op.get("success_rate")),
            fmt(op.get("calls_per_s")),
            ms(lat.get("p50")),
            ms(lat.get("p95")),
            ms(lat.get("p99")),
            ms(lat.get("max")),
            fmt(op.get("retries")),
            errors_text(op.get("errors")),
        ]

    for name, op in sorted(as_dict(results.get("operations")).items()):
        op = as_dict(op)
        rows.append(row(name, op, op.get("latency_ms")))
    totals = as_dict(results.get("totals"))
    if totals:
        rows.append(row("all", {**totals, "errors": results.get("errors")}, results.get("latency_ms")))
    return rows


def top_errors(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for err in as_list(results.get("top_errors")):
        err = as_dict(err)
        rows.append([fmt(err.get("count")), fmt(err.get("kind")), fmt(err.get("operation")), str(err.get("message"))])
    return rows


def slowest_traces(results: dict[str, Any]) -> list[list[str]]:
    """``--trace-context``: the slowest traced calls per operation, to look up in the server's traces."""
    rows = []
    for op, calls in sorted(as_dict(results.get("slowest_traces")).items()):
        for call in as_list(calls)[:5]:
            call = as_dict(call)
            rows.append([str(op), str(call.get("trace_id")), ms(call.get("latency_ms")), fmt(call.get("outcome"))])
    return rows[:200]


def sessions(results: dict[str, Any]) -> list[tuple[str, str]]:
    s = as_dict(results.get("sessions"))
    setup = as_dict(s.get("setup_ms"))
    rows = [
        ("sessions started", fmt(s.get("started"))),
        ("sessions failed to open", fmt(s.get("failed"))),
        ("session success", pct(s.get("success_rate"))),
        ("session setup p50 / p95 / max", " / ".join(ms(setup.get(k)) for k in ("p50", "p95", "max"))),
    ]
    if as_dict(results.get("totals")).get("retries"):
        rows.append(("retried calls", fmt(results["totals"]["retries"])))
    return rows


def conversations(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Conversation outcomes and the model tokens (and money) they wasted."""
    c = as_dict(results.get("conversations"))
    rows = [
        ("conversations finished", fmt(c.get("completed"))),
        ("conversations ok / failed", f"{fmt(c.get('ok'))} / {fmt(c.get('failed'))}"),
        ("conversation success", pct(c.get("success_rate"))),
        ("model tokens spent", fmt(c.get("tokens"))),
        ("tokens wasted on failed conversations", fmt(c.get("wasted_tokens"))),
    ]
    if c.get("wasted_cost") is not None:
        rows.append(("cost of the wasted tokens", f"≈ ${fmt(c['wasted_cost'])}"))
    return rows


def arrivals(results: dict[str, Any]) -> list[tuple[str, str]]:
    """Open profiles: arrivals and the latency measured from each call's intended start."""
    a = as_dict(results.get("arrivals"))
    if not a:
        return []
    rows = [
        ("arrivals scheduled", fmt(a.get("scheduled"))),
        ("started", fmt(a.get("started"))),
        ("dropped (no agent free)", fmt(a.get("dropped"))),
        ("late start p99", ms(a.get("late_p99_ms"))),
    ]
    lat, corrected = as_dict(results.get("latency_ms")), as_dict(results.get("latency_corrected_ms"))
    if corrected:
        for key in ("p50", "p95", "p99", "max"):
            both = f"{ms(lat.get(key))} / {ms(corrected.get(key))}"
            rows.append((f"latency {key}: from send / from intended start", both))
    return rows


def notes(results: dict[str, Any]) -> list[str]:
    """Things a reader must know before trusting the numbers."""
    out = []
    if results.get(REBUILT):
        out.append(
            "This report was rebuilt from an interval log (the run wrote no results file): totals are sums of "
            "the intervals; whole-run latency percentiles, error messages and thresholds are not available."
        )
    if results.get("stopped_by_user"):
        out.append("The run was interrupted (Ctrl-C) before its planned end.")
    if results.get("aborted_by"):
        out.append(f"The run was aborted by a threshold: {results['aborted_by']}.")
    execution = as_dict(results.get("execution"))
    for lost in as_list(execution.get("lost")):
        lost = as_dict(lost)
        out.append(
            f"{fmt(lost.get('name'))} (segment {fmt(lost.get('segment'))}, {pct(lost.get('share'))} of the load) was "
            f"lost at {fmt(lost.get('at_s'))} s: {fmt(lost.get('reason'))}. Its load is missing from then on."
        )
    if as_list(execution.get("missing")):
        out.append(
            "The merged files do not cover the whole run; missing segments: "
            + ", ".join(str(s) for s in as_list(execution.get("missing")))
            + "."
        )
    if _num(results.get("interrupted_calls")):
        out.append(f"{fmt(results['interrupted_calls'])} calls were cut by the end of the run (not counted).")
    if _num(as_dict(results.get("totals")).get("out_of_range")):
        out.append(f"{fmt(results['totals']['out_of_range'])} timed values fell outside 1 µs … 1 h and were clamped.")
    for key, what in (("template_errors", "argument template errors"), ("scripted_errors", "scripted agent errors")):
        errors = as_dict(results.get(key))
        if errors:
            out.append(f"{what}: " + "; ".join(f"{k} ({fmt(v)})" for k, v in errors.items()))
    return out


def facts(section: Any, skip: tuple[str, ...] = (), prefix: str = "") -> list[tuple[str, str]]:
    """The fields of an optional section (resources, capacity) as (dotted label, value) rows, nested
    dicts and lists (the first ten items) included."""
    rows: list[tuple[str, str]] = []
    for key, value in as_dict(section).items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += facts(value, (), f"{name}.")
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for i, item in enumerate(value[:10]):
                rows += facts(item, (), f"{name}[{i}].") if isinstance(item, dict) else [(f"{name}[{i}]", fmt(item))]
        elif isinstance(value, list):
            rows.append((name, "; ".join(fmt(v) for v in value) or DASH))
        else:
            rows.append((name, fmt(value)))
    return rows


def matrix(section: Any) -> dict[str, list[Any]]:
    """A dict of dicts of scalars (``{"cpu": {"peak": 4, "mean": 2}}``) as ``{"columns", "rows"}``:
    one row per outer key; empty when the section has another shape."""
    outer = as_dict(section)
    if not outer or not all(isinstance(v, dict) for v in outer.values()):
        return {"columns": [], "rows": []}
    columns: list[str] = []
    for inner in outer.values():
        columns += [str(k) for k in inner if str(k) not in columns]
    rows = [[str(name), *(fmt(inner.get(c)) for c in columns)] for name, inner in outer.items()]
    return {"columns": ["", *columns], "rows": rows}


def table(rows_in: Any) -> dict[str, list[Any]]:
    """A list of records as ``{"columns", "rows"}`` (union of the flattened keys, in first-seen order)."""
    flat = [flatten(r) for r in as_list(rows_in) if isinstance(r, dict)]
    columns: list[str] = []
    for r in flat:
        columns += [k for k in r if k not in columns]
    return {"columns": columns, "rows": [[fmt(r.get(c)) for c in columns] for r in flat]}
