"""Probes that need no load (``mcpload diagnose``): how a Streamable HTTP server treats an unknown
session, a DELETE, a foreign ``Origin`` and the GET stream. Each sends a handful of requests that
have no side effects (``initialize``, ``tools/list``) and becomes a check; a failed one also becomes
a finding (``unknown-session-status``, ``delete-ignored``, ``origin-not-validated``) and a WARN
check: the server works, but not as clients and the spec expect.

Only the handshake era has sessions; against a stateless server the session probes are skipped.
Everything read from the server is bounded (head 64 KiB, body 64 KiB) and every request times out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from mcpload.findings.base import Finding
from mcpload.transports.http1 import Origin
from mcpload.version import __version__

PROBE_PROTOCOL = "2025-11-25"
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024
FOREIGN_ORIGIN = "http://mcpload-probe.invalid"
PASS, WARN, SKIP = "PASS", "WARN", "SKIP"  # the statuses of diagnose checks


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class ProbeReport:
    """The checks (``(name, status, detail)``) and findings of the probes."""

    checks: list[tuple[str, str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


async def request(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes = b"",
    timeout: float = 5.0,
    verify_tls: bool | str = True,
    read_body: bool = True,
) -> Answer:
    """One HTTP/1.1 request on its own connection (``Connection: close``), read within bounds.

    Raises:
        OSError, asyncio.TimeoutError, ValueError: no connection, no answer in time, not HTTP.
    """
    origin = Origin(url, verify_tls)
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(
            origin.host, origin.port, ssl=origin.ssl, server_hostname=origin.server_hostname, limit=MAX_HEAD
        )
        try:
            lines = [f"{method} {Origin.target(url)} HTTP/1.1", f"Host: {origin.host_header}", "Connection: close"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
            found = {}
            for line in header_lines:
                name, sep, value = line.partition(":")
                if sep:
                    found[name.strip().lower()] = value.strip()
            data = b""
            if read_body:
                with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError):
                    async with asyncio.timeout(min(timeout, 2.0)):
                        while len(data) < MAX_BODY and (chunk := await reader.read(MAX_BODY - len(data))):
                            data += chunk
                            if b"\n\n" in data and "event-stream" in found.get("content-type", ""):
                                break  # one SSE event is enough to know what it is
            return Answer(int(parts[1]), found, data)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _rpc(method: str, id_: int | None = 1, params: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        message["id"] = id_
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


INITIALIZE = _rpc(
    "initialize",
    params={
        "protocolVersion": PROBE_PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "mcpload", "version": __version__},
    },
)


class Prober:
    """Runs the probes against one URL with the target's headers (authorization included)."""

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, timeout: float = 5.0, verify_tls: bool | str = True
    ) -> None:
        self.url = url
        self.base = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.report = ProbeReport()

    async def _post(self, body: bytes, session: str | None = None, extra: dict[str, str] | None = None) -> Answer:
        headers = dict(self.base)
        if session is not None:
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = PROBE_PROTOCOL
        headers.update(extra or {})
        return await request(self.url, "POST", headers, body, self.timeout, self.verify_tls)

    async def _open(self, extra: dict[str, str] | None = None) -> tuple[Answer, str | None]:
        answer = await self._post(INITIALIZE, extra=extra)
        session = answer.headers.get("mcp-session-id")
        if session is not None and 200 <= answer.status < 300:
            await self._post(_rpc("notifications/initialized", None), session)
        return answer, session

    async def _end(self, session: str) -> Answer:
        headers = {**self.base, "Mcp-Session-Id": session, "MCP-Protocol-Version": PROBE_PROTOCOL}
        return await request(self.url, "DELETE", headers, b"", self.timeout, self.verify_tls)

    def check(self, name: str, status: str, detail: str, finding: Finding | None = None) -> None:
        self.report.checks.append((name, status, detail))
        if finding is not None:
            self.report.findings.append(finding)

    async def run(self) -> ProbeReport:
        try:
            answer, session = await self._open()
        except (OSError, TimeoutError, ValueError) as exc:
            self.check("probe: session", SKIP, f"initialize failed ({exc})")
            return self.report
        if session is None:
            for name in ("unknown session", "DELETE", "GET stream"):
                self.check(f"probe: {name}", SKIP, f"no session (HTTP {answer.status}, stateless server)")
        else:
            for probe in (self.unknown_session, self.get_stream, self.delete):
                try:
                    await probe(session)
                except (OSError, TimeoutError, ValueError) as exc:
                    self.check(f"probe: {probe.__name__.replace('_', ' ')}", WARN, f"no answer ({exc})")
        try:
            await self.origin()
        except (OSError, TimeoutError, ValueError) as exc:
            self.check("probe: Origin", WARN, f"no answer ({exc})")
        return self.report

    async def unknown_session(self, _session: str) -> None:
        bogus = "mcpload-probe-" + secrets.token_hex(8)
        answer = await self._post(_rpc("tools/list", 2), bogus)
        if answer.status == 404:
            self.check("probe: unknown session", PASS, "HTTP 404: clients re-initialize")
            return
        self.check(
            "probe: unknown session",
            WARN,
            f"HTTP {answer.status}, not 404",
            Finding(
                "unknown-session-status",
                "warning",
                f"an unknown or expired Mcp-Session-Id gets HTTP {answer.status}, not the 404 the spec requires",
                "Answer 404 to a request whose session the server does not know (expired, restarted, another "
                "replica): it is the client's signal to initialize again. With another status, real clients "
                "fail instead of recovering.",
                evidence={"status": answer.status, "expected": 404},
            ),
        )

    async def get_stream(self, session: str) -> None:
        headers = {
            **{k: v for k, v in self.base.items() if k != "Content-Type"},
            "Accept": "text/event-stream",
            "Mcp-Session-Id": session,
            "MCP-Protocol-Version": PROBE_PROTOCOL,
        }
        answer = await request(self.url, "GET", headers, b"", self.timeout, self.verify_tls, read_body=False)
        kind = answer.headers.get("content-type", "")
        if answer.status == 200 and "text/event-stream" in kind:
            self.check("probe: GET stream", PASS, "server→client stream offered (holds a connection per session)")
        elif answer.status == 405:
            self.check("probe: GET stream", PASS, "HTTP 405: no server→client stream")
        else:
            self.check("probe: GET stream", WARN, f"HTTP {answer.status} {kind or ''}: expected an SSE stream or 405")

    async def delete(self, session: str) -> None:
        answer = await self._end(session)
        if answer.status == 405:
            self.check("probe: DELETE", PASS, "HTTP 405: the server does not let clients end sessions")
            return
        after = await self._post(_rpc("tools/list", 3), session)
        if 200 <= answer.status < 300 and not 200 <= after.status < 300:
            self.check("probe: DELETE", PASS, f"HTTP {answer.status}; the session is gone afterwards ({after.status})")
            return
        self.check(
            "probe: DELETE",
            WARN,
            f"HTTP {answer.status}, then the session answered HTTP {after.status}",
            Finding(
                "delete-ignored",
                "warning",
                f"DELETE of a session answered HTTP {answer.status} but the session still answers "
                f"(HTTP {after.status}): ended sessions are kept",
                "Free the session on DELETE (or answer 405 if clients may not end sessions): sessions kept "
                "after their end are memory a long-running server never gets back.",
                evidence={"delete_status": answer.status, "after_status": after.status},
            ),
        )

    async def origin(self) -> None:
        answer, session = await self._open({"Origin": FOREIGN_ORIGIN})
        if session is not None:
            with contextlib.suppress(OSError, TimeoutError, ValueError):
                await self._end(session)
        if 400 <= answer.status < 500:
            self.check("probe: Origin", PASS, f"HTTP {answer.status} for Origin {FOREIGN_ORIGIN}")
            return
        self.check(
            "probe: Origin",
            WARN,
            f"HTTP {answer.status} for Origin {FOREIGN_ORIGIN}: accepted",
            Finding(
                "origin-not-validated",
                "warning",
                f"a request from a foreign Origin ({FOREIGN_ORIGIN}) is served (HTTP {answer.status})",
                "Validate the Origin header and refuse foreign ones with 403 (DNS-rebinding protection, required "
                "by the spec); bind to 127.0.0.1 when running locally.",
                evidence={"status": answer.status, "origin": FOREIGN_ORIGIN},
            ),
        )


async def probe(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5.0, verify_tls: bool | str = True
) -> ProbeReport:
    """Run every probe against a Streamable HTTP endpoint."""
    return await Prober(url, headers, timeout, verify_tls).run()
