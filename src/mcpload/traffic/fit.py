"""``mcpload fit``: a scenario that behaves like a trace.

One agent type per persona (weighted by its share of sessions), each a ``markov`` workflow over
the measured batch states with the measured transitions, think and idle drawn from the fitted
distributions, parallel batches as measured, and arguments drawn from the recorded values (a data
file beside the scenario; the recorder already redacted them). The profile is open (sessions
arrive at the fitted rate and burstiness) or closed (the measured concurrency); ``scale``
multiplies the population. The YAML says in comments where each number came from.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from mcpload.profiles.durations import format_duration
from mcpload.traffic.sessions import END, START

MAX_VALUES = 200  # recorded values kept per argument (sampled evenly, duplicates kept: frequency is data)
MAX_PARALLEL = 16


def _flow(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
        .strip()
        .removesuffix("...")
        .strip()
    )


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: each call is written out in full
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists indented under their key, as people write them


def _block(value: Any, indent: int) -> list[str]:
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120, allow_unicode=True)
    return [" " * indent + line for line in text.rstrip().splitlines()]


def _state_name(state: str) -> str:
    return state.replace("+", "_and_")


def data_name(tool: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in tool)


def recorded_arguments(
    tool: str, info: dict[str, Any], data_source: str
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """(args for the call step, notes, the data-row part for this tool)."""
    sets = [s for s in info["argument_sets"] if isinstance(s, dict)]
    if not info["argument_variety"]["recorded"] or not sets:
        return {}, [f"{tool}: the trace kept only argument shapes (--no-args): fill in args"], {}
    common = [k for k in sets[0] if all(k in s for s in sets)]
    optional = sorted({k for s in sets for k in s} - set(common))
    values: dict[str, list[Any]] = {k: [s[k] for s in sets] for k in common}
    row = {}
    args: dict[str, Any] = {}
    notes = []
    for key, vals in values.items():
        if len(vals) > MAX_VALUES:
            step = len(vals) / MAX_VALUES
            vals = [vals[int(i * step)] for i in range(MAX_VALUES)]
        if len({orjson.dumps(v) for v in vals}) == 1:
            args[key] = (
                vals[0] if not _templated(vals[0]) else f"{{{{ data('{data_source}').{data_name(tool)}.{key}[0] }}}}"
            )
            row[key] = vals[:1]
        else:
            args[key] = f"{{{{ random_choice(data('{data_source}').{data_name(tool)}.{key}) }}}}"
            row[key] = vals
        if any(isinstance(v, str) and v.startswith("redacted:") for v in vals):
            notes.append(f"{tool}.{key}: values were redacted when recorded (sent as their hash): replace them")
    if optional:
        notes.append(f"{tool}: optional arguments left out (not in every recorded call): {', '.join(optional)}")
    return args, notes, row


def _templated(value: Any) -> bool:
    return "{{" in orjson.dumps(value).decode() or "{%" in orjson.dumps(value).decode()


def _state_steps(state: str, sizes: dict[str, int], calls: dict[str, dict[str, Any]]) -> list[Any]:
    tools = state.split("+")
    if len(tools) > 1:  # a batch of several tools: one call of each, in parallel
        return [{"parallel": [calls[t] for t in tools]}]
    call = calls[tools[0]]
    options = [(min(int(size), MAX_PARALLEL), n) for size, n in sizes.items()]
    merged: Counter[int] = Counter()
    for size, n in options:
        merged[size] += n

    def batch(size: int) -> Any:
        return dict(call) if size == 1 else {"parallel": [dict(call) for _ in range(size)]}

    if len(merged) == 1:
        return [batch(next(iter(merged)))]
    return [{"choice": [{"weight": n, "steps": [batch(size)]} for size, n in sorted(merged.items())]}]


def _markov(p: dict[str, Any], data_source: str, notes: list[str], rows: dict[str, Any]) -> dict[str, Any]:
    calls = {}
    for tool, info in p["tools"].items():
        args, tool_notes, row = recorded_arguments(tool, info, data_source)
        notes.extend(n for n in tool_notes if n not in notes)
        if row:
            rows[data_name(tool)] = row
        calls[tool] = {"call": tool, "args": args} if args else {"call": tool}
    transitions = p["transitions"]
    states = {}
    for state, sizes in p["batches"]["by_state"].items():
        nxt = {(_state_name(b) if b != END else "end"): n for b, n in transitions.get(state, {}).items()}
        spec: dict[str, Any] = {"steps": _state_steps(state, sizes, calls)}
        if nxt and set(nxt) != {"end"}:
            spec["next"] = nxt
        states[_state_name(state)] = spec
    body: dict[str, Any] = {}
    if p["gaps"]["think"]["n"]:
        body["think"] = p["gaps"]["think"]["scenario"]
    longest = p["conversations"]["chain_length"].get("max", 1)
    body["max_steps"] = max(1, math.ceil(longest * 2))
    body["start"] = {_state_name(b): n for b, n in transitions.get(START, {}).items()}
    body["states"] = states
    return {"markov": body}


def fit_scenario(a: dict[str, Any], trace_name: str, data_file: str, *, scale: float = 1.0,
                 duration: float | None = None, profile: str = "auto",
                 persona: str | None = None) -> tuple[str, list[dict[str, Any]]]:  # fmt: skip
    """The scenario YAML text and the data file's rows for an analysis (``analysis.analyze``).

    Args:
        a: The analysis.
        trace_name: Shown in comments.
        data_file: The data file's name, relative to the scenario.
        scale: Multiplies the population (agents, or the arrival rate).
        duration: The profile's length in seconds (default: the trace's).
        profile: ``open``, ``closed`` or ``auto`` (closed when sessions last most of the trace).
        persona: None: markov workflows fitted to the trace; ``closest`` or a built-in persona's name:
            each agent type takes that persona's shape (docs/personas.md) with the trace's calls.

    Raises:
        ValueError: ``scale`` or ``duration`` is not positive, or ``profile`` or ``persona`` is unknown.
    """
    from mcpload.scenario.personas import PERSONAS

    if persona is not None and persona != "closest" and persona not in PERSONAS:
        raise ValueError(f"--persona {persona!r}: use closest or one of {', '.join(PERSONAS)}")
    if not scale > 0:
        raise ValueError(f"--scale must be greater than 0, got {scale}")
    if duration is not None and not duration > 0:
        raise ValueError(f"--duration must be longer than 0s, got {duration}")
    if profile not in ("auto", "open", "closed"):
        raise ValueError(f"--profile {profile!r}: use auto, open or closed")
    s, t = a["sessions"], a["trace"]
    span = duration or max(1.0, t["duration_s"])
    if profile == "auto":
        long_sessions = s["duration_s"].get("p50", 0) > 0.5 * t["duration_s"]
        profile = "closed" if long_sessions or s["count"] < 5 else "open"
    notes: list[str] = []
    rows: dict[str, Any] = {}
    data_source = "recorded"
    out = [
        f"# Fitted by `mcpload fit` from {trace_name}: {s['count']} sessions, {t['calls']} tool calls over "
        f"{t['duration_s']:.1f} s.",
        "# Every number below says where it came from; edit freely. The workflows call every tool the trace",
        "# called, side effects included: run it against a server you may load.",
        f"name: fitted from {trace_name}",
        *_target(a),
        "data:",
        f"  {data_source}: {{file: {data_file}, mode: sequential}}   # argument values as recorded (and redacted)",
        "agents:",
    ]
    for p in a["personas"]:
        out += _agent(p, profile, persona, data_source, notes, rows)
    if profile == "open":
        rate = s["arrival_rate_per_s"] * scale
        cv = s["arrival_gap_cv"]
        bursty = cv > 1.05
        distribution = f"bursty\n    cv: {cv:.2f}" if bursty else "poisson"
        max_agents = max(10, math.ceil(s["concurrency"]["max"] * scale * 2))
        out += [
            "profiles:",
            "  - type: agent-arrival-rate   # open: sessions arrive whatever the server's speed",
            f"    rate: {rate:.6g}   # sessions per second: {s['arrival_rate_per_s']} measured × scale {scale:g}",
            f"    duration: {format_duration(span)}",
            f"    distribution: {distribution}   # session arrival gaps: CV {cv} measured (Poisson is 1)",
            f"    max_agents: {max_agents}   # twice the measured peak concurrency ({s['concurrency']['max']}) × scale",
        ]
    else:
        active = sorted(n for n in s["concurrency"]["series"] if n > 0)
        steady = active[len(active) // 2] if active else 1  # the median while any session is open
        agents = max(1, round(steady * scale), len(a["personas"]))  # every persona gets an agent
        out += [
            "profiles:",
            "  - type: constant-agents   # closed: the measured concurrency of sessions",
            f"    agents: {agents}   # median concurrent sessions while any is open: {steady} × scale {scale:g}"
            f" (at least one per persona)",
            f"    duration: {format_duration(span)}",
        ]
    if notes:
        out.append("# Notes:")
        out += [f"#   {n}" for n in notes]
    return "\n".join(out) + "\n", [rows] if rows else [{"_": []}]


def closest_persona(p: dict[str, Any]) -> tuple[str, str]:
    """The built-in persona nearest a fitted one (log distance of think median and calls per conversation)."""
    from mcpload.profiles.durations import parse_duration
    from mcpload.scenario.personas import PERSONAS

    think = p["gaps"]["think"]["summary"].get("p50") or 0.0
    calls = p["conversations"]["calls"].get("mean") or 1.0
    best, why, distance = "", "", math.inf
    for name, persona in PERSONAS.items():
        their_think = parse_duration(persona.think["lognormal"]["median"])
        their_calls = max(0.3, (1 - persona.no_call_share) * persona.median_steps())
        d = abs(math.log(max(think, 1e-3) / their_think)) + abs(math.log(max(calls, 0.3) / their_calls))
        if d < distance:
            best, distance = name, d
            why = (f"think p50 {think:.3g}s vs {their_think:g}s, calls/conversation {calls:.3g} vs "
                   f"{their_calls:.3g}")  # fmt: skip
    return best, why


def _agent(p: dict[str, Any], profile: str, persona: str | None, data_source: str, notes: list[str],
           rows: dict[str, Any]) -> list[str]:  # fmt: skip
    """The lines of one agent type: a fitted markov workflow, or a built-in persona with the trace's calls."""
    c = p["conversations"]
    near, why = closest_persona(p)
    out = [f"  {p['name']}:   # persona: {p['share'] * 100:.1f} % of sessions ({p['sessions']}); tools "
           f"{', '.join(p['tools'])}",
           f"    weight: {max(1, p['sessions'])}   # sessions of this persona in the trace"]  # fmt: skip
    if persona is not None:
        chosen = near if persona == "closest" else persona
        out.append(f"    persona: {chosen}   # its shape: docs/personas.md; closest measured: {near} ({why})")
        out.append("    calls:   # the trace's calls, weighted by their count")
        calls = []
        for tool, info in p["tools"].items():
            args, tool_notes, row = recorded_arguments(tool, info, data_source)
            notes.extend(n for n in tool_notes if n not in notes)
            if row:
                rows[data_name(tool)] = row
            call = {"call": tool, "args": args} if args else {"call": tool}
            calls.append({"weight": info["calls"], "steps": [call]})
        return out + _block(calls, 6)
    if profile == "open":
        out.append(f"    conversations_per_session: {max(1, round(c['per_session'].get('mean', 1)))}   # mean "
                   f"conversations per session: {c['per_session'].get('mean', 1):.2f}")  # fmt: skip
    idle = p["gaps"]["idle"]
    if idle["n"]:
        out.append(f"    idle: {_flow(idle['scenario'])}   # {idle['best']['kind']} fit of {idle['n']} idle gaps, "
                   f"KS {idle['best']['ks']} (5 % critical {idle['ks_critical_5pct']})")  # fmt: skip
    think = p["gaps"]["think"]
    if think["n"]:
        source = f"{think['best']['kind']} fit of {think['n']} gaps, KS {think['best']['ks']}"
    else:
        source = "no gaps inside conversations"
    measured = sum(sum(r.values()) for r in p["transitions"].values())
    out.append(f"    # think: {source}; next/start weights: {measured} measured transitions; "
               f"batch sizes {p['batches']['sizes']}")  # fmt: skip
    out.append(f"    # closest built-in persona: {near} ({why}); docs/personas.md")
    out.append("    workflow:")
    return out + _block([_markov(p, data_source, notes, rows)], 6)


def _target(a: dict[str, Any]) -> list[str]:
    upstream = a["trace"].get("upstream")
    if isinstance(upstream, str) and upstream.startswith(("http://", "https://")):
        return ["target:", f"  url: {_flow(upstream)}   # the recorded upstream; --url or --stdio-cmd override it"]
    return ["# target: none recorded (stdio): give --stdio-cmd or --url to mcpload run"]


def write_fit(a: dict[str, Any], trace_path: Path, out: Path, **options: Any) -> tuple[Path, Path]:
    """Write the scenario and its data file (``<scenario stem>-args.jsonl``) beside it."""
    data = out.with_name(f"{out.stem}-args.jsonl")
    text, rows = fit_scenario(a, trace_path.name, data.name, **options)
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    out.write_text(text)
    return out, data
