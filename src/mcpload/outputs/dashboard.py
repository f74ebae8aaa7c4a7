"""The live web dashboard (``--dashboard 127.0.0.1:5665``, as k6's): a page served during the run
with the report's charts updated once a second over server-sent events, the findings as they are
drawn, and a button that stops the run gracefully (as Ctrl-C does).

A small HTTP/1.1 server on the run's own event loop (asyncio streams, no dependency); the page
embeds plotly.js from the plotly package (the ``report`` extra) and the layouts of the report's own
charts (``html_charts``), so it works offline. Nothing happens per call: ``interval()`` sends one
small JSON event a second to each connected browser.

Safety: loopback by default (another address prints one warning line); on loopback a request
whose ``Host`` is not this server's is refused (DNS rebinding); the stop button sends a random
token in a custom header, which a page of another origin cannot send (CORS), so no other web page
can stop the run. At most ``MAX_CLIENTS`` browsers, requests bounded in size and time, and a
browser that does not read its events is dropped, never buffered without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

import orjson

from mcpload.host_guard import is_loopback
from mcpload.outputs.base import LiveOutput, OptionError

if TYPE_CHECKING:
    from mcpload.metrics.recorder import Recorder

DEFAULT_ADDRESS = "127.0.0.1:5665"
MAX_CLIENTS = 8
MAX_HEAD_BYTES = 8192
HEAD_TIMEOUT_S = 5.0
MAX_BUFFERED = 4 * 1024 * 1024  # bytes waiting for a browser that does not read: it is dropped
MAX_INTERVALS = 3600  # intervals kept for browsers that connect late (an hour of a run)
FINDINGS_EVERY = 5  # intervals between two (threaded) findings passes, while a browser watches
TOKEN_HEADER = "x-mcpload-token"


def _send_sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class DashboardOutput(LiveOutput):
    """Serves the live dashboard while the run goes.

    Args:
        address: ``HOST:PORT`` (``127.0.0.1:5665``).
        on_stop: what the stop button does; default: SIGINT to this process, which a CLI run handles
            as Ctrl-C (stop the profiles, in-flight work gets the grace period).

    Raises:
        ValueError: ``address`` is not ``HOST:PORT``.
    """

    name = "dashboard"

    @classmethod
    def for_run(cls, value: str, notice: Callable[[str], None]) -> Self:
        """``--dashboard HOST:PORT``: listening already (a bad or busy address exits 2 before any load)."""
        from mcpload.outputs.html import HtmlReportError, require_plotly

        try:
            require_plotly()
            output = cls(value)
            output.listen()
        except HtmlReportError as exc:
            raise OptionError(f"--dashboard: {exc}") from None
        except ValueError as exc:
            raise OptionError(f"--dashboard {exc}") from None
        except OSError as exc:
            raise OptionError(f"--dashboard {value!r}: cannot listen ({exc.strerror or exc})") from None
        if not output.loopback:
            notice(
                f"mcpload: warning: the dashboard listens on {output.host}, beyond this machine: anyone who can "
                "reach it sees the run (its stop button needs the page's token)"
            )
        notice(f"dashboard: {output.url}")
        return output

    def __init__(self, address: str = DEFAULT_ADDRESS, on_stop: Callable[[], None] | None = None) -> None:
        from mcpload.outputs.prometheus import parse_address

        self.host, self.port = parse_address(address)
        self.on_stop = on_stop or _send_sigint
        self.token = secrets.token_urlsafe(24)
        self.stop_requests = 0
        self._sock: socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._intervals: list[bytes] = []  # each an encoded event, for browsers that connect late
        self._meta: dict[str, Any] = {}
        self._findings: list[dict[str, Any]] = []
        self._findings_task: asyncio.Future[list[dict[str, Any]]] | None = None
        self._page: bytes = b""
        self._csp = ""
        self._starting: asyncio.Task[None] | None = None
        self._done: bytes | None = None
        self._n = 0

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._sock.getsockname()[1] if self._sock else self.port}/"

    def listen(self) -> None:
        """Bind now (before the load), so that a busy address fails the command at once (``OSError``)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(16)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock

    # Output
    def start(self, meta: dict[str, Any], recorder: Recorder) -> None:
        from mcpload.outputs.dashboard_page import render_page

        if self._sock is None:
            self.listen()
        self._meta = dict(meta)  # the run header: findings read the profiles from it
        page, self._csp = render_page(self.token, self._meta)
        self._page = page.encode()
        loop = asyncio.get_running_loop()
        self._starting = loop.create_task(self._serve())

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, sock=self._sock, limit=MAX_HEAD_BYTES)

    def interval(self, interval: dict[str, Any], snapshot: dict[str, Any]) -> None:
        self._n += 1
        iv = {k: v for k, v in interval.items() if k != "state"}
        event = _event("interval", iv)
        self._intervals.append(orjson.dumps(iv))
        if len(self._intervals) > MAX_INTERVALS:
            del self._intervals[0]
        self._broadcast(event + _event("totals", _totals(snapshot)))
        if self._clients and self._n % FINDINGS_EVERY == 0:
            self._draw_findings(snapshot)

    def stop(self, results: dict[str, Any]) -> None:
        """Send the final figures and findings, then close every stream and the server."""
        findings = results.get("findings") if isinstance(results.get("findings"), list) else []
        thresholds = [t for t in results.get("thresholds") or [] if isinstance(t, dict)]
        final = {
            "totals": _totals(results),
            "findings": findings,
            "passed": all(t.get("passed") for t in thresholds),
            "stopped_by_user": bool(results.get("stopped_by_user")),
        }
        self._done = _event("done", final)
        self._broadcast(self._done)
        for writer in list(self._clients):
            _close(writer)
        self._clients.clear()
        if self._findings_task is not None:
            self._findings_task.cancel()
        if self._server is not None:
            self._server.close()
        elif self._sock is not None:
            self._sock.close()

    # findings, drawn in a thread (the detectors take tens of ms over a long run)
    def _draw_findings(self, snapshot: dict[str, Any]) -> None:
        if self._findings_task is not None and not self._findings_task.done():
            return
        doc = {**self._meta, **snapshot, "intervals": [orjson.loads(raw) for raw in self._intervals]}
        loop = asyncio.get_running_loop()
        self._findings_task = loop.run_in_executor(None, _analyze, doc)
        self._findings_task.add_done_callback(self._findings_drawn)

    def _findings_drawn(self, task: asyncio.Future[list[dict[str, Any]]]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        found = task.result()
        if found != self._findings:
            self._findings = found
            self._broadcast(_event("findings", found))

    # HTTP
    def _broadcast(self, data: bytes) -> None:
        for writer in list(self._clients):
            if writer.transport.get_write_buffer_size() > MAX_BUFFERED or writer.is_closing():
                self._clients.discard(writer)
                _close(writer)
                continue
            writer.write(data)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_one(reader, writer)
        except asyncio.CancelledError:
            # the loop is closing at the end of the run; ended here, so that asyncio's stream callback
            # (3.11) does not log the cancellation of this leaf task as an error
            _close(writer)

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
            method, path, headers = _parse_head(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, ConnectionError):
            _close(writer)
            return
        if self.loopback and not self._host_ok(headers.get("host", "")):
            await _respond(writer, 403, b"forbidden: unknown Host\n")
            return
        route = path.split("?", 1)[0]
        if method == "GET" and route == "/":
            csp = f"Content-Security-Policy: {self._csp}\r\n"
            await _respond(writer, 200, self._page, "text/html; charset=utf-8", csp)
        elif method == "GET" and route == "/events":
            await self._events(reader, writer)
        elif method == "POST" and route == "/stop":
            if not secrets.compare_digest(headers.get(TOKEN_HEADER, ""), self.token):
                await _respond(writer, 403, b"forbidden: missing or wrong token\n")
                return
            self.stop_requests += 1
            if self.stop_requests == 1 and self._done is None:
                asyncio.get_running_loop().call_soon(self.on_stop)
            await _respond(writer, 202, b"stopping\n")
        else:
            await _respond(writer, 404, b"not found\n")

    def _host_ok(self, host: str) -> bool:
        port = self._sock.getsockname()[1] if self._sock else self.port
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"{self.host}:{port}"}

    async def _events(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._clients) >= MAX_CLIENTS:
            await _respond(writer, 503, b"too many dashboards open\n")
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
            b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        )
        backlog = b"[" + b",".join(self._intervals) + b"]"
        writer.write(b"event: backlog\ndata: " + backlog + b"\n\n")
        if self._findings:
            writer.write(_event("findings", self._findings))
        if self._done is not None:
            writer.write(self._done)
            _close(writer)
            return
        self._clients.add(writer)
        try:
            while await reader.read(1024):  # a browser sends nothing more: this ends when it goes away
                pass
        except ConnectionError:
            pass
        finally:
            self._clients.discard(writer)
            _close(writer)


def _analyze(doc: dict[str, Any]) -> list[dict[str, Any]]:
    from mcpload.findings import analyze

    try:
        return analyze(doc)
    except Exception:  # a detector meeting a half-built run must not end the live view
        return []


def _totals(summary: dict[str, Any]) -> dict[str, Any]:
    totals = totals if isinstance(totals := summary.get("totals"), dict) else {}
    latency = latency if isinstance(latency := summary.get("latency_ms"), dict) else {}
    return {
        "calls": totals.get("calls"),
        "calls_per_s": totals.get("calls_per_s"),
        "success_rate": totals.get("success_rate"),
        "p95_ms": latency.get("p95"),
        "p99_ms": latency.get("p99"),
        "errors": summary.get("errors") if isinstance(summary.get("errors"), dict) else {},
    }


def _event(name: str, data: Any) -> bytes:
    # orjson never writes a raw newline, so one data line holds the whole event
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS) + b"\n\n"


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


async def _respond(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "text/plain", extra: str = ""
) -> None:
    reason = {200: "OK", 202: "Accepted", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
        f"{extra}Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    _close(writer)


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
