"""``mcpload replay``: each recorded session's requests, with its recorded timing, as a scenario the
ordinary engine runs (so every output, threshold, monitor and ``--workers`` works unchanged).

Each session becomes an agent type whose workflow is its batches of requests (``parallel`` where
they were sent together) with ``think`` set to the recorded gap from the end of one batch to the
start of the next (an agent waits for its answers, as the recorded one did), divided by ``speed``.
Each session gets its own ``agent-arrival-rate`` profile that starts at its recorded offset; with
``scale`` N, N clones arrive spread evenly over ``jitter`` seconds. Arguments are sent as recorded
(hashed values stay hashes: the trace never held the secret).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from mcpload.traffic import stats
from mcpload.traffic.fit import _block
from mcpload.traffic.sessions import batches
from mcpload.traffic.trace import Trace

REPLAYED = ("tools/call", "resources/read", "prompts/get", "tools/list", "resources/list", "prompts/list", "ping")
_BARE = {"tools/list": "list_tools", "resources/list": "list_resources", "prompts/list": "list_prompts", "ping": "ping"}


def _literal(value: Any) -> Any:
    """A recorded value as a scenario literal: strings that look like templates are sent verbatim."""
    if isinstance(value, dict):
        return {str(k): _literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value):
        return "{% raw %}" + value.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"
    return value


def _step(call: dict[str, Any], varied: dict[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    method = call["method"]
    args = call.get("arguments") if isinstance(call.get("arguments"), dict) else {}
    if varied is not None and method == "tools/call" and call.get("tool") in varied:
        return {"call": call["tool"], "args": varied[call["tool"]]} if varied[call["tool"]] else {"call": call["tool"]}
    if method == "tools/call" and isinstance(call.get("tool"), str):
        return {"call": call["tool"], "args": _literal(args)} if args else {"call": call["tool"]}
    if method == "prompts/get" and isinstance(call.get("prompt"), str):
        return {"get_prompt": {"name": call["prompt"], "args": _literal(args)}}
    if method == "resources/read" and isinstance(call.get("resource"), str):
        return {"read_resource": _literal(call["resource"])}
    return {_BARE[method]: {}} if method in _BARE else None


def replay_scenario(
    trace: Trace, *, speed: float = 1.0, scale: int = 1, jitter: float = 1.0, data_file: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The replay scenario's YAML text, and the rows of its data file (empty unless ``data_file``).

    Args:
        data_file: None: every call sends its recorded arguments. A file name: each call draws each
            argument from the values recorded for its tool (``fit``'s data file), so clones vary.

    Raises:
        ValueError: ``speed`` or ``jitter`` not positive, ``scale`` < 1, or no request to replay.
    """
    if not speed > 0:
        raise ValueError(f"--speed must be greater than 0, got {speed}")
    if scale < 1:
        raise ValueError(f"--scale must be at least 1, got {scale}")
    if not jitter > 0:
        raise ValueError(f"--jitter must be longer than 0s, got {jitter}")
    by_session: dict[str, list[dict[str, Any]]] = {}
    for call in trace.calls:
        if call.get("direction", "client") == "client" and call["method"] in REPLAYED:
            by_session.setdefault(call["session"], []).append(call)
    if not by_session:
        raise ValueError(f"{trace.path}: no request to replay (tools/call, resources/read, prompts/get, lists, ping)")
    origin = min(c["t"] for calls in by_session.values() for c in calls)
    varied, rows, notes = _varied(trace) if data_file is not None else (None, {}, [])
    agents: dict[str, Any] = {}
    profiles = []
    last_end = 0.0
    for n, (_sid, calls) in enumerate(sorted(by_session.items(), key=lambda kv: kv[1][0]["t"]), 1):
        name = f"session-{n:05d}"
        workflow: list[Any] = []
        previous = None
        for batch in batches(sorted(calls, key=lambda c: c["t"])):
            if previous is not None:
                gap = max(0.0, batch.start - previous.end) / speed
                if gap >= 0.001:
                    workflow.append({"think": f"{gap * 1000:.0f}ms"})
            steps = [s for s in (_step(c, varied) for c in batch.calls) if s is not None]
            if steps:
                workflow.append(steps[0] if len(steps) == 1 else {"parallel": steps})
            previous = batch
        if not any("think" not in s for s in workflow):
            continue
        start = (calls[0]["t"] - origin) / speed
        length = (previous.end - calls[0]["t"]) / speed if previous else 0.0
        last_end = max(last_end, length)
        agents[name] = {"conversations_per_session": 1, "workflow": workflow}
        profiles.append({
            "type": "agent-arrival-rate", "agent_types": [name], "start": f"{start * 1000:.0f}ms",
            "rate": scale, "time_unit": f"{jitter * 1000:.0f}ms", "duration": f"{jitter * 1000:.0f}ms",
            "distribution": "even", "max_agents": scale,
            "graceful_stop": f"{length + 30:.0f}s",  # the session's own length, and time for its answers
        })  # fmt: skip
    lines = [
        f"# Replay of {trace.path} by `mcpload replay`: {len(agents)} recorded sessions, speed ×{speed:g},"
        f" each cloned {scale}× (arrivals spread over {jitter:g}s).",
        "# Each agent type is one recorded session; think steps are its recorded gaps (÷ speed).",
        f"name: replay of {trace.path}",
        "target:",
        "  url: http://127.0.0.1:9/mcp   # replaced by --url or --stdio-cmd",
        *(
            ["data:", f"  recorded: {{file: {data_file}, mode: sequential}}   # the values recorded per tool"]
            if data_file is not None
            else []
        ),
        *(f"# {note}" for note in notes),
        "options:",
        f"  grace_period: {last_end + 30:.0f}s   # the longest replayed session can finish",
        "agents:",
        *_block(agents, 2),
        "profiles:",
        *_block(profiles, 2),
    ]
    return "\n".join(lines) + "\n", [rows] if rows else []


def _varied(trace: Trace) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[str]]:
    """Per tool: arguments as templates drawing from the recorded values (as ``fit`` writes them)."""
    from mcpload.traffic.analysis import analyze
    from mcpload.traffic.fit import data_name, recorded_arguments

    tools = analyze(trace)["tools"]
    varied, rows, notes = {}, {}, []
    for tool, info in tools.items():
        args, tool_notes, row = recorded_arguments(tool, info, "recorded")
        varied[tool] = args
        notes += tool_notes
        if row:
            rows[data_name(tool)] = row
    return varied, rows, notes


def recorded_by_operation(trace: Trace) -> dict[str, dict[str, Any]]:
    """Per operation (as results name them, ``tools/call <tool>``): calls, failures, latency p50/p95 ms."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for call in trace.calls:
        if call.get("direction", "client") != "client" or call["method"] not in REPLAYED:
            continue
        name = call.get("tool") or call.get("prompt") or ""
        op = f"{call['method']} {name}" if call["method"] in ("tools/call", "prompts/get") else call["method"]
        grouped.setdefault(op, []).append(call)
    out = {}
    for op, calls in grouped.items():
        latencies = [c["latency"] * 1000 for c in calls]
        outcomes = Counter(c.get("outcome", "ok") for c in calls)
        out[op] = {"calls": len(calls), "failed": len(calls) - outcomes.get("ok", 0),
                   "p50": stats.percentile(latencies, 50), "p95": stats.percentile(latencies, 95)}  # fmt: skip
    return out


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is an object (results JSON read back), else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def divergence(trace: Trace, results: dict[str, Any], scale: int) -> list[dict[str, Any]]:
    """Per operation, recorded vs now: failure rates (what succeeded then and fails now, and the reverse,
    as rates: calls are matched by operation, not one by one) and p50/p95 latency."""
    now = _object(results, "operations")
    rows = []
    for op, rec in sorted(recorded_by_operation(trace).items()):
        cur = _object(now, op)
        lat = _object(cur, "latency_ms")
        calls = cur.get("calls", 0) or 0
        failed = cur.get("failed", 0) or 0
        rows.append({
            "operation": op,
            "recorded_calls": rec["calls"], "expected_calls": rec["calls"] * scale, "calls": calls,
            "recorded_error_rate": round(rec["failed"] / rec["calls"], 4),
            "error_rate": round(failed / calls, 4) if calls else None,
            "recorded_p50_ms": round(rec["p50"], 2), "p50_ms": lat.get("p50"),
            "recorded_p95_ms": round(rec["p95"], 2), "p95_ms": lat.get("p95"),
        })  # fmt: skip
    return rows


def divergence_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The divergence table for the terminal."""
    out = ["divergence (recorded → now, per operation):"]
    for r in rows:
        err = "-" if r["error_rate"] is None else f"{r['error_rate'] * 100:.1f} %"
        flag = ""
        if r["error_rate"] is not None and r["error_rate"] > r["recorded_error_rate"]:
            flag = "  ← fails more now"
        elif r["error_rate"] is not None and r["error_rate"] < r["recorded_error_rate"]:
            flag = "  ← fails less now"
        now50 = "-" if r["p50_ms"] is None else f"{r['p50_ms']:.1f}"
        now95 = "-" if r["p95_ms"] is None else f"{r['p95_ms']:.1f}"
        out.append(f"  {r['operation']:<34} calls {r['expected_calls']:>6} → {r['calls']:<6} errors "
                   f"{r['recorded_error_rate'] * 100:.1f} % → {err}  p50 {r['recorded_p50_ms']:.1f} → {now50} ms  "
                   f"p95 {r['recorded_p95_ms']:.1f} → {now95} ms{flag}")  # fmt: skip
    return out


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def _sequences(trace: Trace) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for call in trace.tool_calls():
        if isinstance(call.get("tool"), str):
            out.setdefault(call["session"], []).append(call)
    return out


def per_call_divergence(recorded: Trace, now: Trace) -> dict[str, Any]:
    """Calls matched one by one: each session of the replay (recorded through the proxy) is paired with
    the recorded session whose tool sequence starts like it (clones pair with their original), and
    the i-th calls compared.

    Returns:
        ``{"matched": n, "unmatched_sessions": n, "ok_then_fail_now": {tool: n}, "fail_then_ok_now": {tool: n},
        "not_sent": n, "examples": [...]}`` (examples: up to 10 calls that fail now, with both outcomes).
    """
    originals = list(_sequences(recorded).values())
    by_first: dict[str, list[list[dict[str, Any]]]] = {}
    for calls in originals:
        by_first.setdefault(calls[0]["tool"], []).append(calls)
    worse: Counter[str] = Counter()
    better: Counter[str] = Counter()
    matched = unmatched = not_sent = 0
    examples: list[dict[str, Any]] = []
    for calls in _sequences(now).values():
        tools = [c["tool"] for c in calls]
        candidates = [o for o in by_first.get(tools[0], []) if [c["tool"] for c in o[: len(tools)]] == tools]
        if not candidates:
            unmatched += 1
            continue
        original = max(candidates, key=len)
        for then, current in zip(original, calls, strict=False):
            matched += 1
            was_ok, is_ok = then.get("outcome") == "ok", current.get("outcome") == "ok"
            if was_ok and not is_ok:
                worse[then["tool"]] += 1
                if len(examples) < 10:
                    examples.append({"tool": then["tool"], "recorded": then.get("outcome"),
                                     "now": current.get("outcome"), "at_offset_s": round(current["t"], 3)})  # fmt: skip
            elif is_ok and not was_ok:
                better[then["tool"]] += 1
        not_sent += max(0, len(original) - len(calls))
    return {"matched": matched, "unmatched_sessions": unmatched, "ok_then_fail_now": dict(worse),
            "fail_then_ok_now": dict(better), "not_sent": not_sent, "examples": examples}  # fmt: skip


def per_call_lines(d: dict[str, Any]) -> list[str]:
    """The per-call divergence for the terminal."""
    worse, better = sum(d["ok_then_fail_now"].values()), sum(d["fail_then_ok_now"].values())
    lines = [f"per call ({d['matched']} calls matched one by one, {d['unmatched_sessions']} sessions unmatched, "
             f"{d['not_sent']} not sent after an earlier failure): {worse} succeeded when recorded and fail now, "
             f"{better} failed when recorded and succeed now"]  # fmt: skip
    for tool, n in sorted(d["ok_then_fail_now"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  fail now: {tool} × {n}")
    for tool, n in sorted(d["fail_then_ok_now"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  succeed now: {tool} × {n}")
    return lines
