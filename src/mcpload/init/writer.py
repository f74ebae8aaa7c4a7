"""The commented scenario file ``mcpload init`` writes, as text (comments are the point: PyYAML drops them).

Everything the server sent (names, descriptions, error messages) is untrusted: values go through
``yaml.safe_dump`` (quoted as needed) after ``${`` and Jinja markers are escaped so the loader reads them
literally, and comments are cut to one line of printable text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from mcpload.init.groups import MAX_TOOLS_PER_AGENT
from mcpload.init.personas import Persona

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")
MAX_THRESHOLDS = 20
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
MAX_BRANCHES = 10


class Unwritable(ValueError):
    """A value that cannot be written literally (it holds ``{% endraw %}``)."""


def comment(text: Any, limit: int = 160) -> str:
    """One line of printable text for a ``#`` comment."""
    line = _UNPRINTABLE.sub(" ", str(text)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def literal(value: Any) -> Any:
    """``value`` with ``${`` and template markers escaped, so the scenario loader sends it as is."""
    if isinstance(value, str):
        text = value.replace("${", "$${")
        if "{{" in text or "{%" in text:
            if "endraw" in text:
                raise Unwritable("holds a template end marker")
            text = "{% raw %}" + text + "{% endraw %}"
        return text
    if isinstance(value, dict):  # keys are never interpolated nor rendered: they stay as they are
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal(v) for v in value]
    return value


# YAML's printable characters, less the line breaks a one-line value must not hold raw
_PLAIN_TEXT = re.compile("[\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


class _Dumper(yaml.SafeDumper):
    """Strings holding line breaks or characters YAML cannot carry raw are written double-quoted, where
    every one of them is escaped (``\\n``, ``\\N``, ``\\L``, ``\\x07``…), so a value stays on its line."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if _PLAIN_TEXT.fullmatch(value) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def flow(value: Any) -> str:
    """``value`` as one line of flow YAML (non-ASCII text kept readable)."""
    text = yaml.dump(
        value, Dumper=_Dumper, default_flow_style=True, width=2**31, allow_unicode=True, sort_keys=False
    ).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


@dataclass
class ToolCall:
    """One tool as the file will show it."""

    name: str
    #: argument sets with weights: one plain call, several a weighted choice
    arguments: list[tuple[dict[str, Any], int]]
    #: why it is commented out (None: an active step)
    disabled: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """Everything the file says, decided by ``mcpload.init``; rendered by :func:`render`."""

    schema_ref: str
    origin: str  # the command line that made it
    server: str
    target_lines: list[str]
    persona: Persona
    agents: dict[str, list[ToolCall]]
    peak_agents: int
    resources: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    header_notes: list[str] = field(default_factory=list)


def call_name(name: str) -> str:
    """A tool name as a ``call:`` value: ``${`` escaped (the loader interpolates every string)."""
    return name.replace("${", "$${")


def _call_lines(call: ToolCall, indent: str) -> list[str]:
    prefix = f"{indent}# " if call.disabled else indent
    lines = [f"{indent}# {comment(n)}" for n in call.notes]
    if call.disabled:
        lines.append(f"{indent}# {comment(call.disabled)}")
    if len(call.arguments) <= 1:
        args = call.arguments[0][0] if call.arguments else {}
        lines.append(f"{prefix}- call: {flow(call_name(call.name))}")
        lines.append(f"{prefix}  args: {flow(args)}")
        return lines
    total = sum(w for _, w in call.arguments)
    lines.append(f"{prefix}- choice:  # recorded arguments, weighted by how often each was seen ({total} calls)")
    for args, weight in call.arguments[:MAX_BRANCHES]:
        lines.append(f"{prefix}    - weight: {weight}")
        lines.append(f"{prefix}      steps: [{{call: {flow(call_name(call.name))}, args: {flow(args)}}}]")
    return lines


def _agent_lines(name: str, calls: list[ToolCall], persona: Persona) -> list[str]:
    active = [c for c in calls if c.disabled is None]
    out: list[str] = []
    if not active:
        out.append(f"  # {name}: every tool of this group is commented out, so the agent type is too")
        for call in calls:
            out += _call_lines(call, "      ")
        return out
    out.append(f"  {name}:")
    out.append(f"    idle: {persona.idle}                 # between conversations")
    out.append("    workflow:")
    first = True
    for call in calls:
        if call.disabled is None and not first:
            out.append(f"      - think: {persona.think}")
        out += _call_lines(call, "      ")
        first = first and call.disabled is not None
    return out


def chunks(calls: list[ToolCall]) -> list[list[ToolCall]]:
    """Calls split so that no workflow holds more than MAX_TOOLS_PER_AGENT active calls."""
    parts: list[list[ToolCall]] = [[]]
    active = 0
    for call in calls:
        if call.disabled is None:
            if active == MAX_TOOLS_PER_AGENT:
                parts.append([])
                active = 0
            active += 1
        parts[-1].append(call)
    return parts


def render(draft: Draft) -> str:
    n = max(1, draft.peak_agents // 3)
    lines = [
        f"# yaml-language-server: $schema={draft.schema_ref}",
        f"# Written by {comment(draft.origin, 300)}.",
        f"# Server: {comment(draft.server, 200)}",
        "# Check it, then: `mcpload run THIS_FILE --dry-run` (the plan, no load) and `mcpload run THIS_FILE`.",
        "# Tools run here are the ones whose annotations say readOnlyHint: true and openWorldHint: false;",
        "# the others are commented out with the reason: uncomment one only if the server may take its effects.",
        "# Format: docs/scenario-format.md (the schema above lets editors complete and check this file).",
    ]
    lines += [f"# {comment(note, 300)}" for note in draft.header_notes]
    server_name = comment(draft.server.split(" ·")[0], 80).replace("${", "$${")
    lines.append(f"name: {flow(server_name + ' load test')}")
    lines.append("target:")
    lines += [f"  {line}" for line in draft.target_lines]
    lines.append("agents:")
    lines.append(f"  # Persona {draft.persona.name!r} (mcpload init --persona NAME; docs/personas.md), from the")
    lines.append("  # published agent-traffic figures collected in AGENT-TRAFFIC.md:")
    lines += [f"  #   {part.strip()}" for part in draft.persona.source.split(";")]
    has_active = False
    for name, calls in draft.agents.items():
        parts = chunks(calls)
        for i, part in enumerate(parts):
            label = name if i == 0 else f"{name}_{i + 1}"
            lines += _agent_lines(label, part, draft.persona)
            has_active = has_active or any(c.disabled is None for c in part)
    if not has_active:
        lines += [
            "  # No tool could be called safely as written: this agent only lists the tools, so the file runs;",
            "  # uncomment the calls above that the server may take.",
            "  lister:",
            f"    idle: {draft.persona.idle}",
            "    workflow:",
            "      - list_tools: {}",
            f"      - think: {draft.persona.think}",
        ]
    if draft.resources:
        lines.append(f"  # Resources listed ({len(draft.resources)}); a step reading one: - read_resource: URI")
        lines += [f"  #   {comment(uri, 200)}" for uri in draft.resources[:10]]
    if draft.prompts:
        lines.append(f"  # Prompts listed ({len(draft.prompts)}); a step: - get_prompt: {{name: NAME, args: {{}}}}")
        lines += [f"  #   {comment(p, 200)}" for p in draft.prompts[:10]]
    peak = draft.peak_agents
    lines += [
        "profiles:",
        f"  - type: ramping-agents   # ramp to {n}, hold, spike to {peak}, recover, drain: 3m",
        "    start_agents: 0",
        "    stages:",
        f"      - {{duration: 30s, target: {n}}}",
        f"      - {{duration: 1m, target: {n}}}",
        f"      - {{duration: 10s, target: {peak}}}",
        f"      - {{duration: 30s, target: {peak}}}",
        f"      - {{duration: 10s, target: {n}}}",
        f"      - {{duration: 30s, target: {n}}}",
        "      - {duration: 10s, target: 0}",
        "# Success rate first, then latency: p95 at most 400 ms per tool.",
        "thresholds:",
        '  success_rate: ["rate >= 0.99"]',
    ]
    called = sorted({c.name for calls in draft.agents.values() for c in calls if c.disabled is None})
    for name in [n for n in called if PLAIN_NAME.match(n)][:MAX_THRESHOLDS]:  # others would not parse as tags
        lines.append(f'  {flow(f"latency{{op:tools/call {name}}}")}: ["p(95) <= 400ms"]')
    return "\n".join(lines) + "\n"
