"""`mcpload diagnose`: connect, detect transport and era, exercise every method once and call the tools
the call policy allows (by default only those annotated read-only and closed-world: see
``mcp/tool_safety.py``).

Produces a list of checks (PASS/WARN/FAIL/SKIP with timings, and the arguments sent) that the CLI
renders; no printing here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from mcpload.mcp import eras
from mcpload.mcp.connect import Target, connect
from mcpload.mcp.progress import Progress
from mcpload.mcp.samples import sample_arguments
from mcpload.mcp.session import Session
from mcpload.mcp.tool_safety import CallPolicy
from mcpload.outcome import OK, TOOL_ERROR, Outcome

MAX_CALL_S = 300.0  # a sample call reporting progress may take this long in all

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"


@dataclass
class Check:
    name: str
    status: str
    ms: float | None = None
    detail: str = ""
    #: the arguments sent (tools/call checks that called the tool); None when nothing was sent
    arguments: dict[str, Any] | None = None


@dataclass
class Diagnosis:
    target: str
    connected: bool = False
    transport: str | None = None
    era: str | None = None
    protocol_version: str | None = None
    server_info: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    #: the ``--call-tools`` policy in force (``read-only``, ``all``, ``none`` or names)
    call_policy: str = "read-only"
    #: tools listed but not called because their annotations allow side effects
    not_called: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)  # from the probes (mcpload.probes)

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(name: str, out: Outcome, detail: str = "", warn_kinds: tuple[str, ...] = ()) -> Check:
    status = PASS if out.kind == OK else WARN if out.kind in warn_kinds else FAIL
    return Check(name, status, round(out.latency * 1000, 2), detail if out.ok else out.describe())


def _tool_name(tool: Any) -> str | None:
    name = tool.get("name") if isinstance(tool, dict) else None
    return name if isinstance(name, str) else None


async def diagnose(
    target: Target,
    call_tools: bool = True,
    call_timeout: float = 30.0,
    skip_tools: tuple[str, ...] = (),
    policy: CallPolicy | None = None,
    confirm: Callable[[list[str]], bool] | None = None,
) -> Diagnosis:
    """Diagnose ``target``.

    Args:
        call_tools: False: list tools, call none (``--no-calls``).
        policy: which listed tools to call (default: read-only and closed-world per their annotations).
        confirm: asked with the names of the tools about to be called although their annotations
            allow side effects (``--call-tools all``); False: none of those is called.
    """
    policy = policy or CallPolicy()
    diag = Diagnosis(target.describe(), call_policy=policy.describe() if call_tools else "none")
    session, out = await connect(target)
    diag.transport = session.transport.name
    if not out.ok:
        diag.error = out.describe()
        diag.checks.append(_check(out.method, out))
        return diag
    try:
        diag.connected = True
        diag.era, diag.protocol_version, diag.server_info = session.era, session.protocol_version, session.server_info
        how = "server/discover (stateless)" if session.era == eras.MODERN else "initialize handshake"
        diag.checks.append(_check(out.method, out, f"{how}, protocol {session.protocol_version}"))
        if session.era == eras.MODERN:
            diag.checks.append(Check("ping", SKIP, detail="not part of protocol 2026-07-28"))
        else:
            diag.checks.append(_check("ping", await session.ping()))
        tools_out = await session.list_tools()
        tools = [t for t in ((tools_out.result or {}).get("tools", []) if tools_out.ok else []) if _tool_name(t)]
        diag.checks.append(_check("tools/list", tools_out, f"{len(tools)} tools"))
        caps = session.server_capabilities
        for method, key, cap in (("resources/list", "resources", "resources"), ("prompts/list", "prompts", "prompts")):
            if cap not in caps:
                diag.checks.append(Check(method, SKIP, detail=f"server declares no {cap} capability"))
                continue
            lister = session.list_resources if key == "resources" else session.list_prompts
            res = await lister()
            n = len((res.result or {}).get(key, [])) if res.ok else 0
            diag.checks.append(_check(method, res, f"{n} {key}"))
        if call_tools:
            await _call_tools(session, diag, tools, policy, call_timeout, skip_tools, confirm)
    finally:
        await session.close()
    if target.url is not None and diag.transport == "http":
        await _probe(target, diag)
    return diag


async def _call_tools(
    session: Session,
    diag: Diagnosis,
    tools: list[Any],
    policy: CallPolicy,
    call_timeout: float,
    skip_tools: tuple[str, ...],
    confirm: Callable[[list[str]], bool] | None,
) -> None:
    listed = {_tool_name(t) for t in tools}
    for missing in sorted(policy.names - listed):
        diag.checks.append(Check(f"tools/call {missing}", WARN, detail="named in --call-tools but not listed"))
    risky = [n for n in policy.unsafe_to_call(tools) if n not in skip_tools]
    confirmed = bool(risky) and confirm is not None and confirm(risky)
    for tool in tools:
        name = _tool_name(tool)
        if name is None:
            continue  # (the caller keeps only named tools)
        check = f"tools/call {name}"
        if name in skip_tools:
            diag.checks.append(Check(check, SKIP, detail="skipped (--skip-tool)"))
            continue
        reason = policy.skip_reason(tool)
        if reason is None and name in risky and not confirmed:
            reason = "listed, not called: side effects possible and the call was not confirmed"
        if reason is not None:
            diag.not_called.append(name)
            diag.checks.append(Check(check, SKIP, detail=reason))
            continue
        args = sample_arguments(tool)
        # a long tool reporting progress is not timed out: its timeout runs from its latest progress
        watch = Progress(reset_timeout=True, max_total=max(call_timeout, MAX_CALL_S))
        res = await session.call_tool(name, args, timeout=call_timeout, progress=watch)
        structured = res.ok and res.result is not None and "structuredContent" in res.result
        detail = "ok" + (" (structuredContent)" if structured else "")
        result = _check(check, res, detail, warn_kinds=(TOOL_ERROR,))
        result.arguments = args
        diag.checks.append(result)


async def _probe(target: Target, diag: Diagnosis) -> None:
    """The probes that need no load: unknown session, DELETE, GET stream, Origin (``mcpload.probes``)."""
    from mcpload.probes import probe

    headers = dict(target.headers)
    if target.bearer_env:
        headers["Authorization"] = f"Bearer {os.environ.get(target.bearer_env, '')}"
    report = await probe(target.url or "", headers, timeout=min(target.timeout, 10.0), verify_tls=target.verify_tls)
    diag.checks += [Check(name, status, detail=detail) for name, status, detail in report.checks]
    diag.findings = [f.to_dict() for f in report.findings]
