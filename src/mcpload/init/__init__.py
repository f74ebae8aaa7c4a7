"""``mcpload init``: connect to a server and write a commented, runnable scenario for it.

Steps: list the tools (and resources, prompts); choose each tool's arguments — recorded ones from a
trace, else generated from its ``inputSchema`` (``mcp/samples.py``) and checked with jsonschema; call
each read-only, closed-world tool once with them (the same rule as ``diagnose``); group the tools into
agent types (``groups.py``); write the file (``writer.py``) with the persona's think and idle times
(``personas.py``), a ramp-hold-spike profile and the recommended thresholds. Tools with side effects,
arguments that do not validate and calls that failed are written commented out with the reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcpload.init.discovery import TRIAL_BUDGET_S, Discovery, DiscoveryError, discover
from mcpload.init.groups import group_tools
from mcpload.init.personas import DEFAULT, PERSONAS, Persona
from mcpload.init.trace import RecordedArguments, TraceError, read_trace
from mcpload.init.writer import MAX_BRANCHES, Draft, ToolCall, Unwritable, comment, literal, render
from mcpload.mcp import eras
from mcpload.mcp.connect import Target
from mcpload.mcp.samples import problem, valid_arguments
from mcpload.mcp.tool_safety import side_effect_reason

__all__ = ["DiscoveryError", "InitOptions", "Result", "TraceError", "build_scenario", "schema_reference"]

_SENSITIVE = ("authorization", "cookie", "token", "secret", "key", "password", "auth")


def schema_reference() -> str:
    """Where editors find the scenario JSON Schema: the copy installed with mcpload."""
    from mcpload.scenario.schema import PACKAGED

    return PACKAGED.resolve().as_uri()


@dataclass
class InitOptions:
    persona: str = DEFAULT
    agents: int = 30  # the spike's peak; the hold is a third of it
    trace: Path | None = None
    try_calls: bool = True
    call_timeout: float = 10.0
    origin: str = "mcpload init"
    bearer_env: str | None = None
    schema_ref: str | None = None


@dataclass
class Result:
    text: str
    called: list[str]  # tools with an active step
    disabled: dict[str, str]  # tool → why it is commented out


#: the argument sets of one tool, each with its weight
ArgumentSets = list[tuple[dict[str, Any], int]]


def _arguments(tool: dict[str, Any], recorded: RecordedArguments | None) -> tuple[ArgumentSets, list[str]]:
    """The argument sets for ``tool`` (with weights) and notes; [] when none is usable."""
    schema = tool.get("inputSchema")
    notes: list[str] = []
    if recorded is not None:
        sets = recorded.top(tool["name"], MAX_BRANCHES * 10)
        if sets:
            good = [(args, n) for args, n in sets if problem(schema, args) is None][:MAX_BRANCHES]
            if len(good) < len(sets):
                notes.append(f"{len(sets) - len(good)} recorded argument sets left out: not valid for its inputSchema")
            if good:
                return good, [*notes, f"arguments recorded in the trace ({sum(n for _, n in good)} calls)"]
    args, why = valid_arguments(tool)
    if why is not None:
        return [(args, 1)], [f"generated arguments do not validate: {why}"]
    return [(args, 1)], notes


def _target_lines(target: Target, found: Discovery, bearer_env: str | None) -> list[str]:
    from mcpload.init.writer import flow

    if target.url:
        lines = [f"url: {flow(literal(target.url))}"]
    else:
        lines = [f"command: {flow([literal(word) for word in target.command or []])}"]
    lines.append(f"transport: {found.transport}    # detected")
    if found.protocol_version in eras.KNOWN_VERSIONS:
        version = flow(found.protocol_version)
        lines.append(f"protocol: {version}   # detected ({found.era} era); auto: negotiate at each run")
    else:  # a version mcpload does not know cannot be pinned
        lines.append(f"protocol: auto   # the server answered {comment(found.protocol_version, 40)}")
    lines.append(f"timeout: {target.timeout:g}s")
    headers: dict[str, str] = {}
    notes: list[str] = []
    for name, value in target.headers.items():
        if any(s in name.lower() for s in _SENSITIVE):
            var = "MCPLOAD_HEADER_" + "".join(c if c.isalnum() else "_" for c in name.upper())
            headers[name] = "${" + var + "}"
            notes.append(f"header {name}: its value is read from ${var}, never written here")
        else:
            headers[name] = literal(value)
    if bearer_env:
        headers["Authorization"] = "Bearer ${" + bearer_env + "}"
    if headers:
        lines.append(f"headers: {flow(headers)}")
    lines += [f"# {n}" for n in notes]
    return lines


def _server(found: Discovery, target: Target) -> str:
    info = found.server_info
    name = " ".join(str(info.get(k, "")) for k in ("name", "version")).strip() or "MCP server"
    return f"{name} · {target.describe()} · transport {found.transport} · protocol {found.protocol_version}"


async def build_scenario(target: Target, options: InitOptions) -> Result:
    """Discover ``target`` and write the scenario text.

    Raises:
        TraceError: the trace cannot be read.
        DiscoveryError: the target is unreachable or not MCP.
        ValueError: an unknown persona or a bad count of agents.
    """
    persona: Persona | None = PERSONAS.get(options.persona)
    if persona is None:
        raise ValueError(f"--persona {options.persona!r}: expected one of {', '.join(PERSONAS)}")
    if options.agents < 1:
        raise ValueError(f"--agents {options.agents}: must be at least 1")
    recorded = read_trace(options.trace) if options.trace is not None else None
    chosen: dict[str, tuple[ArgumentSets, list[str]]] = {}

    def arguments_for(tool: dict[str, Any]) -> dict[str, Any] | None:
        chosen[tool["name"]] = _arguments(tool, recorded)
        sets, notes = chosen[tool["name"]]
        return None if any(n.startswith("generated arguments do not validate") for n in notes) else sets[0][0]

    found = await discover(target, arguments_for, options.try_calls, options.call_timeout)
    return compose(found, target, options, persona, recorded, chosen)


def compose(
    found: Discovery,
    target: Target,
    options: InitOptions,
    persona: Persona,
    recorded: RecordedArguments | None = None,
    chosen: dict[str, tuple[ArgumentSets, list[str]]] | None = None,
) -> Result:
    """The scenario text for what ``discover`` found (no I/O: property-tested with generated tools)."""
    chosen = chosen or {}
    calls: dict[str, ToolCall] = {}
    for tool in found.tools:
        name = tool["name"]
        sets, notes = chosen.get(name) or _arguments(tool, recorded)
        call = ToolCall(name, sets, None, list(notes))
        reason = side_effect_reason(tool)
        if "{{" in name or "{%" in name or not name.strip():
            call.disabled = "commented out: a blank tool name, or one that looks like a template, cannot be a call step"
        elif reason is not None:
            call.disabled = f"side effects possible — {reason}: commented out; uncomment if the server may take it"
        elif any(n.startswith("generated arguments do not validate") for n in notes):
            call.disabled = "commented out: write arguments that match its inputSchema"
        elif name in found.trials and found.trials[name] is not None:
            call.disabled = f"commented out: with these arguments the server answered {found.trials[name]}"
        try:
            call.arguments = [(literal(args), n) for args, n in call.arguments]
        except Unwritable:
            call.arguments, call.disabled = [({}, 1)], "commented out: its arguments hold a template end marker"
        calls[name] = call
    groups = group_tools(list(calls))
    notes = []
    if found.truncated:
        notes.append("the server listed more tools than init reads (500): the rest are left out")
    if recorded is not None:
        unknown = [t for t in recorded.tools() if t not in calls]
        notes.append(f"arguments from {options.trace} ({recorded.calls} recorded calls)")
        if recorded.without_values:
            notes.append(
                f"{recorded.without_values} recorded calls hold no argument values (a trace recorded with "
                "--no-args): their arguments come from the tools' schemas"
            )
        if unknown:
            notes.append(f"recorded but not listed by the server: {', '.join(comment(t, 40) for t in unknown[:10])}")
        if recorded.truncated:
            notes.append("the trace is longer than init reads: only its first lines were used")
    if not options.try_calls:
        notes.append("--no-calls: the arguments were not tried against the server")
    if found.untried:
        names = ", ".join(comment(t, 40) for t in found.untried[:10])
        notes.append(f"not tried (the {TRIAL_BUDGET_S:g} s budget of trial calls was spent): {names}")
    draft = Draft(
        schema_ref=options.schema_ref or schema_reference(),
        origin=f"`{options.origin}` on {datetime.now(UTC):%Y-%m-%d}",
        server=_server(found, target),
        target_lines=_target_lines(target, found, options.bearer_env),
        persona=persona,
        agents={group: [calls[name] for name in names] for group, names in groups.items()},
        peak_agents=options.agents,
        resources=[r["uri"] for r in found.resources],
        prompts=[p["name"] for p in found.prompts],
        header_notes=notes,
    )
    return Result(
        text=render(draft),
        called=[n for n, c in calls.items() if c.disabled is None],
        disabled={n: c.disabled for n, c in calls.items() if c.disabled is not None},
    )


def origin(url: str | None, stdio_cmd: str | None) -> str:
    """The command line to name in the file's header."""
    return "mcpload init " + (shlex.quote(url) if url else f"--stdio-cmd {shlex.quote(stdio_cmd or '')}")
