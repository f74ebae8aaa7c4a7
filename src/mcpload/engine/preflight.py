"""Preflight: before any load, connect once, settle transport and protocol, and check that every
tool the scenario names exists and that its literal arguments match the tool's ``inputSchema``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mcpload import exit_codes
from mcpload.mcp.connect import Target, connect
from mcpload.scenario.steps import Call, GetPrompt, ReadResource
from mcpload.suggest import did_you_mean

if TYPE_CHECKING:
    from mcpload.mcp.session import Session
    from mcpload.scenario.steps import Request


class PreflightError(Exception):
    """``code`` 3: target unreachable or not MCP; 2: the scenario does not fit the server."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


#: the server capability each kind of request needs (by the first part of its method)
CAPABILITY_OF = {"tools": "tools", "resources": "resources", "prompts": "prompts"}


@dataclass
class Preflight:
    transport: str
    protocol: str
    era: str
    protocol_version: str
    server_info: dict[str, Any]
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    setup_ms: float = 0.0
    capabilities: dict[str, Any] | None = None
    #: what will probably fail every call (not refused: the server may know better than its lists)
    warnings: list[str] = field(default_factory=list)


async def preflight(
    target: Target,
    tool_names: dict[str, str],
    literal_calls: list[tuple[str, str, Any]],
    source: str,
    steps: Sequence[Request] = (),
) -> Preflight:
    """Args:
    target: where the server is.
    tool_names: tool name → scenario path of a step naming it (for error messages).
    literal_calls: (scenario path, tool, literal arguments) to validate against the schemas.
    source: the scenario file, for error messages.
    steps: the scenario's request steps (``Scenario.request_steps()``): a step on a capability the
        server does not declare is refused, a prompt it does not list too; a literal resource URI it
        neither lists nor matches a template of is warned about.
    """
    session, opened = await connect(target)
    if not opened.ok:
        hint = path_hint(target.url, opened.http_status)
        raise PreflightError(
            f"{target.describe()}: not reachable as an MCP server ({opened.describe()}){hint}", exit_codes.UNREACHABLE
        )
    caps = session.server_capabilities if isinstance(session.server_capabilities, dict) else None
    try:
        _check_capabilities(caps, steps, tool_names, source)
        tools: dict[str, dict[str, Any]] = {}
        if caps is None or "tools" in caps:  # a server without tools (resources or prompts only) is fine
            listed = await session.list_tools()
            if not listed.ok or listed.result is None:  # (an ok outcome always has its result object)
                raise PreflightError(
                    f"{target.describe()}: tools/list failed ({listed.describe()})", exit_codes.UNREACHABLE
                )
            tools = {t["name"]: t for t in listed.result.get("tools", []) if isinstance(t, dict) and "name" in t}
        version, era = session.protocol_version, session.era
        if version is None or era is None:  # (an opened session always has both)
            raise PreflightError(f"{target.describe()}: no protocol version agreed", exit_codes.UNREACHABLE)
        info = Preflight(
            transport=session.transport.name,
            protocol=version,
            era=era,
            protocol_version=version,
            server_info=session.server_info,
            tools=tools,
            setup_ms=round(opened.latency * 1000, 3),
            capabilities=caps,
        )
        await _check_prompts_and_resources(session, caps, steps, source, info.warnings)
        _check_task_modes(tools, steps, source, info.warnings)
    finally:
        await session.close()
    for name, path in tool_names.items():
        if name not in tools:
            hint = did_you_mean(name, tools) or f" (it offers: {', '.join(sorted(tools)) or 'none'})"
            raise PreflightError(
                f"{source}: {path}: tool {name!r} is not offered by the server{hint}", exit_codes.USAGE
            )
    for path, tool, args in literal_calls:
        problem = schema_problem(tools[tool].get("inputSchema"), args)
        if problem:
            raise PreflightError(
                f"{source}: {path}: arguments do not match {tool}'s inputSchema: {problem}", exit_codes.USAGE
            )
    return info


def path_hint(url: str | None, status: int | None) -> str:
    """For a 404 on the URL itself: where MCP servers usually listen."""
    if url is None or status != 404:
        return ""
    path = urlsplit(url).path or "/"
    return f"; nothing answers at {path}: MCP servers usually listen at /mcp (Streamable HTTP) or /sse (legacy SSE)"


def _check_capabilities(
    caps: dict[str, Any] | None, steps: Sequence[Request], tool_names: dict[str, str], source: str
) -> None:
    """Refuse (code 2) a step whose method the server did not declare a capability for."""
    if caps is None:
        return  # capabilities of a shape we cannot read: let the calls tell
    needs = [(step.path, step.method) for step in steps]
    needs += [(path, "tools/call") for path in tool_names.values()]
    for path, method in needs:
        capability = CAPABILITY_OF.get(method.partition("/")[0])
        if capability is not None and capability not in caps:
            declared = ", ".join(sorted(caps)) or "none"
            raise PreflightError(
                f"{source}: {path}: {method} needs the {capability!r} capability, which the server does not declare "
                f"(it declares: {declared})",
                exit_codes.USAGE,
            )
        if method == "resources/subscribe":
            resources = caps.get("resources")
            if not (isinstance(resources, dict) and resources.get("subscribe") is True):
                raise PreflightError(
                    f"{source}: {path}: the server does not declare resources.subscribe", exit_codes.USAGE
                )


async def _check_prompts_and_resources(
    session: Session, caps: dict[str, Any] | None, steps: Sequence[Request], source: str, warnings: list[str]
) -> None:
    """Refuse a get_prompt step on a prompt the server does not list; warn about a literal resource URI
    the server neither lists nor matches with a template (resources may exist unlisted)."""
    prompts = [s for s in steps if isinstance(s, GetPrompt)]
    if prompts and (caps is None or "prompts" in caps):
        listed = await session.list_prompts()
        if listed.ok and listed.result is not None:
            names = {p.get("name") for p in listed.result.get("prompts", []) if isinstance(p, dict)}
            for step in prompts:
                if step.name not in names:
                    hint = did_you_mean(step.name, [n for n in names if isinstance(n, str)])
                    raise PreflightError(
                        f"{source}: {step.path}: prompt {step.name!r} is not offered{hint}", exit_codes.USAGE
                    )
    reads = [s for s in steps if isinstance(s, ReadResource) and s.uri.is_literal]
    if not reads or (caps is not None and "resources" not in caps):
        return
    listed = await session.list_resources()
    if not listed.ok or listed.result is None:
        return
    uris = {r.get("uri") for r in listed.result.get("resources", []) if isinstance(r, dict)}
    templates = await session.request("resources/templates/list")
    patterns = []
    if templates.ok and templates.result is not None and isinstance(templates.result.get("resourceTemplates"), list):
        for t in templates.result["resourceTemplates"][:1000]:
            if isinstance(t, dict) and isinstance(t.get("uriTemplate"), str):
                patterns.append(_template_pattern(t["uriTemplate"]))
    for read in reads:
        uri = str(read.uri.literal)
        if uri not in uris and not any(p.fullmatch(uri) for p in patterns):
            warnings.append(
                f"{source}: {read.path}: resource {uri!r} is neither listed by the server nor matches one of "
                "its URI templates: every read may fail"
            )


def _check_task_modes(
    tools: dict[str, dict[str, Any]], steps: Sequence[Request], source: str, warnings: list[str]
) -> None:
    """Warn about call steps whose ``task`` option contradicts the tool's ``execution.taskSupport``:
    every such call is bound to fail."""
    for step in steps:
        if not isinstance(step, Call):
            continue
        tool = tools.get(step.tool)
        mode = step.task
        if tool is None or mode is None:
            continue
        execution = tool.get("execution")
        support = execution.get("taskSupport", "forbidden") if isinstance(execution, dict) else "forbidden"
        if mode is False and support == "required":
            warnings.append(f"{source}: {step.path}: task: false, but {step.tool} requires tasks: every call will fail")
        elif mode is True and support == "forbidden":
            warnings.append(f"{source}: {step.path}: task: true, but {step.tool} forbids tasks: every call will fail")


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression for an RFC 6570 URI template (each ``{…}`` matches one or more characters)."""
    parts = re.split(r"\{[^}]*\}", template[:500])
    return re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL)


def schema_problem(schema: Any, args: Any) -> str | None:
    """The first validation error of ``args`` against ``schema``, or None."""
    if not isinstance(schema, dict):
        return None
    if _plainly_valid(schema, args):
        return None  # most tools' schemas: no need to import jsonschema (~50 ms of start-up CPU)
    import jsonschema

    from mcpload.mcp.samples import schema_too_big

    if schema_too_big(schema):
        return None  # a server's schema too large to check: not the scenario's fault, and not worth the time
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator = validator_cls(schema)
        error = next(iter(sorted(validator.iter_errors(args), key=lambda e: list(e.path))), None)
    except Exception:  # SchemaError, TypeError (minimum: "x"), RecursionError, re.error, an unresolvable $ref…
        return None  # the server's schema is broken: not the scenario's fault, and never our crash
    if error is None:
        return None
    where = "/".join(str(p) for p in error.path)
    return f"{where + ': ' if where else ''}{error.message}"


_ANNOTATIONS = frozenset(("title", "description", "default", "examples", "$schema", "$id", "$comment"))
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


def _type_ok(schema: dict[str, Any], value: Any) -> bool:
    """``value`` certainly has ``schema``'s ``type`` (a bool is never an integer or a number here)."""
    kind = schema.get("type")
    if kind is None:
        return True
    kinds = kind if isinstance(kind, list) else [kind]
    for k in kinds:
        types = _TYPES.get(k) if isinstance(k, str) else None
        if types is not None and type(value) in types:
            return True
    return False


def _plainly_valid(schema: dict[str, Any], args: Any) -> bool:
    """True when ``args`` is certainly valid against a plain object schema (``type``, ``properties`` of
    plain typed values, ``required``, boolean ``additionalProperties``, annotations). False means "not
    sure": jsonschema then decides and words the problem."""
    if not _ANNOTATIONS.issuperset(schema.keys() - {"type", "properties", "required", "additionalProperties"}):
        return False
    if schema.get("type", "object") != "object" or type(args) is not dict:
        return False
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if type(properties) is not dict or type(required) is not list or type(extra) is not bool:
        return False
    if any(name not in args for name in required):
        return False
    for name, value in args.items():
        sub = properties.get(name)
        if sub is None:
            if not extra:
                return False
            continue
        if sub is True:
            continue
        if type(sub) is not dict or not _ANNOTATIONS.issuperset(sub.keys() - {"type"}) or not _type_ok(sub, value):
            return False
    return True
