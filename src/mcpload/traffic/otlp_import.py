"""``mcpload import otlp``: OpenTelemetry spans that follow the MCP semantic conventions → a trace.

Reads an OTLP JSON file export: one ``{"resourceSpans": [...]}`` document, or one per line (the
collector's file exporter). A span counts when it has ``mcp.method.name``; the tool is
``gen_ai.tool.name``, the session ``mcp.session.id`` (written as a keyed hash), the prompt
``gen_ai.prompt.name``, the resource ``mcp.resource.uri``; arguments come from
``gen_ai.tool.call.arguments`` when the instrumentation recorded them (opt-in) and go through the
same redaction as ``record``. When both sides were instrumented, client spans are kept and server
spans dropped, so no request counts twice. Files are untrusted: sizes and counts are bounded and
spans of the wrong shape are skipped (and counted).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import orjson

from mcpload.outcome import KINDS, OK, RPC_ERROR, TOOL_ERROR
from mcpload.traffic.redact import Redactor, shape
from mcpload.traffic.trace import FORMAT
from mcpload.version import __version__

MAX_FILE = 512 * 1024 * 1024
MAX_SPANS = 5_000_000
SERVER_REQUESTS = ("sampling/createMessage", "elicitation/create", "roots/list")
KIND_SERVER, KIND_CLIENT = 2, 3


class OtlpImportError(ValueError):
    """The file cannot be imported; ``str()`` names it."""


def _attrs(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("value"), dict)
        ):
            continue
        value = item["value"]
        for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
            if kind in value:
                raw = value[kind]
                out[item["key"]] = int(raw) if kind == "intValue" and str(raw).lstrip("-").isdigit() else raw
                break
    return out


def _documents(path: Path) -> list[Any]:
    try:
        if path.stat().st_size > MAX_FILE:
            raise OtlpImportError(f"{path}: larger than {MAX_FILE // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise OtlpImportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return [orjson.loads(raw)]
    except orjson.JSONDecodeError:
        pass
    docs = []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                docs.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise OtlpImportError(f"{path}: line {n} is not JSON (expected an OTLP JSON export)") from None
    return docs


def _spans(docs: list[Any]) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:
    spans: list[tuple[dict[str, Any], dict[str, Any]]] = []
    skipped = 0
    for doc in docs:
        for rs in _list(doc, "resourceSpans"):
            for ss in _list(rs, "scopeSpans"):
                for span in _list(ss, "spans"):
                    if len(spans) >= MAX_SPANS:
                        return spans, skipped + 1
                    if not isinstance(span, dict):
                        skipped += 1
                        continue
                    attrs = _attrs(span.get("attributes"))
                    if isinstance(attrs.get("mcp.method.name"), str):
                        spans.append((span, attrs))
    return spans, skipped


def _list(parent: Any, key: str) -> list[Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def _nanos(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**63 else None


def import_otlp(path: Path, out: Path, redactor: Redactor) -> tuple[int, int]:
    """Convert; returns (call lines written, spans skipped).

    Raises:
        OtlpImportError: unreadable, not JSON, or no MCP span in it.
        OSError: the output cannot be written.
    """
    spans, skipped = _spans(_documents(path))
    if any(span.get("kind") == KIND_CLIENT for span, _ in spans):
        spans = [(s, a) for s, a in spans if s.get("kind") != KIND_SERVER]
    rows = []
    for span, attrs in spans:
        start, end = _nanos(span.get("startTimeUnixNano")), _nanos(span.get("endTimeUnixNano"))
        if start is None or end is None or end < start:
            skipped += 1
            continue
        rows.append((start, end, span, attrs))
    if not rows:
        raise OtlpImportError(f"{path}: no span with mcp.method.name (MCP semantic conventions) to import")
    rows.sort(key=lambda r: r[0])
    origin = rows[0][0]
    key = os.urandom(16)
    lines: list[dict[str, Any]] = [{"type": "header", "format": FORMAT, "started": origin / 1e9, "source": "otlp",
                                    "imported_from": path.name, "redaction": redactor.describe(),
                                    "mcpload": __version__}]  # fmt: skip
    seen: dict[str, list[float]] = {}
    for start, end, span, attrs in rows:
        sid = attrs.get("mcp.session.id")
        session = "s-" + hmac.new(key, str(sid).encode(), hashlib.sha256).hexdigest()[:10] if sid else "otlp"
        method = attrs["mcp.method.name"][:200]
        t, latency = (start - origin) / 1e9, (end - start) / 1e9
        direction = "server" if method in SERVER_REQUESTS else "client"
        line: dict[str, Any] = {"type": "call", "t": round(t, 6), "wall": round(start / 1e9, 6), "session": session,
                                "direction": direction, "method": method, "latency": round(latency, 6),
                                "status": None, "outcome": _outcome(span, attrs)}  # fmt: skip
        if isinstance(attrs.get("gen_ai.tool.name"), str):
            line["tool"] = attrs["gen_ai.tool.name"][:200]
        if isinstance(attrs.get("gen_ai.prompt.name"), str):
            line["prompt"] = attrs["gen_ai.prompt.name"][:200]
        if isinstance(attrs.get("mcp.resource.uri"), str):
            line["resource"] = redactor.text(attrs["mcp.resource.uri"][:2000])
        if method == "tools/call":
            arguments = _arguments(attrs.get("gen_ai.tool.call.arguments"))
            if arguments is not None:
                kept = redactor.arguments(arguments)
                if kept is not None:
                    line["arguments"] = kept
                line["shape"] = shape(arguments)
        span_seen = seen.setdefault(session, [t, t])
        span_seen[1] = max(span_seen[1], t + latency)
        lines.append(line)
    for session, (first, last) in seen.items():
        lines.append({"type": "session_start", "t": round(first, 6), "session": session})
        lines.append({"type": "session_end", "t": round(last, 6), "session": session, "reason": "imported"})
    lines[1:] = sorted(lines[1:], key=lambda line: line["t"])
    out.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return len(rows), skipped


def _arguments(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and len(value) <= 1024 * 1024:
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _outcome(span: dict[str, Any], attrs: dict[str, Any]) -> str:
    status = span.get("status")
    if not isinstance(status, dict):
        status = {}
    error_type = attrs.get("error.type")
    if status.get("code") != 2 and error_type is None:
        return OK
    if error_type == "tool_error":
        return TOOL_ERROR
    if error_type in KINDS:  # the outcome kinds, as mcpload's own OTLP output names them
        return str(error_type)
    return RPC_ERROR  # a JSON-RPC error code, or an error the instrumentation did not name
