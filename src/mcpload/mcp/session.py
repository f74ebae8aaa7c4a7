"""One MCP session: era detection, initialize/discover, requests as outcomes, transparent re-init.

The session never raises for what the server or the network does: every request returns an
``Outcome``. Each outcome (the initialize, an expired attempt, its retry) is also handed to
``on_outcome`` so that metrics see every attempt without the session importing metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from mcpload.mcp import eras, shapes
from mcpload.mcp.jsonrpc import classify, encode_notification, encode_request
from mcpload.mcp.oauth import ClientCredentials, OAuthError
from mcpload.mcp.progress import Progress, send_with_progress
from mcpload.mcp.server_side import MAX_CANCELS, ServerSide
from mcpload.mcp.tasks import DEFAULT_TTL_MS, TaskCall, call_tool_as_task
from mcpload.outcome import (
    HTTP_ERROR,
    INTERRUPTED,
    OK,
    PROTOCOL,
    RPC_ERROR,
    SCHEMA_MISMATCH,
    SESSION_EXPIRED,
    TIMEOUT,
    Outcome,
)
from mcpload.transports.base import CallFailure, Transport
from mcpload.version import __version__

_clock = time.perf_counter
MAX_PAGES = 1000  # of one list request (tools/list, …)
LISTEN_WAIT_S = 5.0  # how long initialize waits for the standalone GET stream to be answered
OutcomeObserver = Callable[[Outcome], None]


class Session(ServerSide):
    """An MCP session over any transport.

    Args:
        transport: where messages go (``StreamableHTTP``, ``LegacySSE``, ``Stdio``).
        protocol: ``"auto"`` (discover, fall back to initialize) or a protocol version.
        timeout: default per-request timeout in seconds.
        on_outcome: called with every outcome, retries and re-initializations included.
        server_answers: canned results for server requests (``{"roots/list": {"roots": []}}``);
            their capabilities are declared. Unanswered server requests are declined.
    """

    def __init__(
        self,
        transport: Transport,
        protocol: str = "auto",
        timeout: float = 30.0,
        on_outcome: OutcomeObserver | None = None,
        server_answers: dict[str, dict[str, Any]] | None = None,
        client_name: str = "mcpload",
    ) -> None:
        self.transport = transport
        self.protocol = eras.check_protocol(protocol)
        self.timeout = timeout
        self.on_outcome = on_outcome
        self.server_answers = dict(server_answers or {})
        self.client_info = {"name": client_name, "version": __version__}
        self.era: str | None = None
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.server_capabilities: dict[str, Any] = {}
        self.instructions: str | None = None
        self.reinitializations = 0
        self.server_notifications: Counter[str] = Counter()
        self.server_requests: Counter[str] = Counter()
        self._meta: dict[str, Any] | None = None
        self._next_id = 0
        self._progress: dict[str, Progress] | None = None  # by token; made on the first progress call
        self._progress_seq = 0
        self._cancels: set[asyncio.Future[Any]] = set()
        self.cancellations_sent = 0
        #: OAuth client credentials (``mcpload.mcp.oauth``), None without OAuth; 401s answered by a new token
        self.auth: ClientCredentials | None = None
        self.auth_retries = 0
        self._bearer: str | None = None  # the token this session's requests carry
        #: checks a tool's result (``mcpload.engine.output_check``): a problem makes it ``schema_mismatch``
        self.output_check: Callable[[str | None, Any], str | None] | None = None
        self._opened = False
        transport.on_server_message = self._server_message

    # lifecycle
    async def open(self) -> Outcome:
        """Start the session: detect the era when ``protocol`` is auto. Returns the handshake outcome."""
        self.transport.on_server_message = self._server_message  # close() let go of it
        try:
            await self.transport.start()
        except CallFailure as exc:
            return self._failure(exc, "initialize", None, _clock())
        if self.auth is not None:
            problem = await self._authorize()
            if problem is not None:
                problem.method = "initialize"
                return problem
        if self.protocol in eras.MODERN_VERSIONS:
            out = await self._discover(self.protocol)
        elif self.protocol in eras.HANDSHAKE_VERSIONS or not getattr(self.transport, "supports_modern", True):
            out = await self._initialize()
        else:
            out = await self._detect()
        self._opened = out.ok
        return out

    async def _detect(self) -> Outcome:
        """The SDKs' auto policy: discover at the newest modern version; anything that is not positive
        evidence of a modern server (an RPC/HTTP error, a non-modern advert) falls back to initialize."""
        version = eras.LATEST_MODERN
        for attempt in range(2):
            out = await self._discover(version, probing=True)
            if out.ok:
                return out
            if out.kind not in (RPC_ERROR, HTTP_ERROR, PROTOCOL):
                return out  # a network failure is not an era verdict
            if out.kind == RPC_ERROR and out.error_code == eras.UNSUPPORTED_PROTOCOL_VERSION and attempt == 0:
                data = out.result  # the error's data: any JSON a server sent
                supported = data.get("supported") if type(data) is dict else None
                mutual = [v for v in eras.MODERN_VERSIONS if v in supported] if type(supported) is list else []
                if mutual:
                    version = mutual[-1]
                    continue
            break
        await self.transport.reset()
        return await self._initialize()

    async def _discover(self, version: str, probing: bool = False, renegotiated: bool = False) -> Outcome:
        """``probing``: an auto-detection probe, whose failure is an era verdict and not reported.
        ``renegotiated``: this is the one retry at a version the server listed (never a second)."""
        self.transport.set_protocol(version, True)
        self._meta = {
            eras.META_PROTOCOL_VERSION: version,
            eras.META_CLIENT_CAPABILITIES: self.capabilities,
            eras.META_CLIENT_INFO: self.client_info,
        }
        out = await self._send("server/discover", {}, None, self.timeout, emit=False)
        if out.ok:
            res = out.result
            assert res is not None  # an ok outcome carries the result object (jsonrpc.classify)
            problem: str | None
            supported = res.get("supportedVersions") or []
            meta = res.get("_meta")
            info = meta.get(eras.META_SERVER_INFO) if type(meta) is dict else None
            if type(supported) is not list:
                problem = f"supportedVersions is not a list: {shapes.short(supported)}"
            elif version not in supported:
                mutual = [v for v in eras.MODERN_VERSIONS if v in supported]
                if mutual and not renegotiated:
                    return await self._discover(mutual[-1], renegotiated=True)
                problem = f"server supports {shapes.short(supported)}, no modern version"
            elif meta is not None and type(meta) is not dict:
                problem = f"_meta is not an object: {shapes.short(meta)}"
            else:
                problem = shapes.open_problem(res.get("capabilities"), info, res.get("instructions"))
            if problem is None:
                self.era = eras.MODERN
                self.protocol_version = version
                self.server_capabilities = shapes.kept_capabilities(res.get("capabilities"))
                self.server_info = shapes.kept_server_info(info)
                self.instructions = shapes.kept_instructions(res.get("instructions"))
            else:
                out.kind, out.error_message = PROTOCOL, f"server/discover: {problem}"
        if not out.ok:
            self._meta = None
            self.transport.set_protocol(None, False)
        if self.on_outcome is not None and (out.ok or not probing):
            self.on_outcome(out)
        return out

    async def _initialize(self) -> Outcome:
        offer = self.protocol if self.protocol in eras.HANDSHAKE_VERSIONS else eras.LATEST_HANDSHAKE
        params = {"protocolVersion": offer, "capabilities": self.capabilities, "clientInfo": self.client_info}
        self._meta = None
        self.transport.set_protocol(None, False)
        out = await self._send("initialize", params, None, self.timeout, emit=False)
        if out.ok:
            res = out.result
            assert res is not None  # an ok outcome carries the result object (jsonrpc.classify)
            problem: str | None
            version = res.get("protocolVersion")
            if type(version) is not str or version not in eras.HANDSHAKE_VERSIONS:
                problem = f"server chose unsupported protocol version {shapes.short(version)}"
            else:
                problem = shapes.open_problem(res.get("capabilities"), res.get("serverInfo"), res.get("instructions"))
            if problem is not None:
                out.kind, out.error_message = PROTOCOL, problem
            else:
                self.era = eras.HANDSHAKE
                self.protocol_version = version
                self.server_capabilities = shapes.kept_capabilities(res.get("capabilities"))
                self.server_info = shapes.kept_server_info(res.get("serverInfo"))
                self.instructions = shapes.kept_instructions(res.get("instructions"))
                self.transport.set_protocol(version, False)
                opener = getattr(self.transport, "open_listener", None)
                ready = opener() if opener is not None else None
                if ready is not None:
                    # the standalone stream open before `initialized`: what the server asks right after it
                    # (roots/list) has a way to the client
                    await asyncio.wait((ready,), timeout=min(self.timeout, LISTEN_WAIT_S))
                try:
                    await self.transport.notify(encode_notification("notifications/initialized"), "")
                except CallFailure as exc:
                    out = self._failure(exc, "initialize", None, out.started)
        if self.on_outcome is not None:
            self.on_outcome(out)
        return out

    async def close(self) -> None:
        """End the session (DELETE, stop the process, …). Never raises.

        The transport lets go of the session (``on_server_message``, a bound method): the two pointed at
        each other, so every closed session waited for a full garbage collection, which comes more
        rarely the more a long run has allocated (the soak's RSS grew by them). A message that arrives
        after the close is ignored, as for a transport that has no session. ``open`` sets it again.
        """
        for task in list(self._cancels):  # cancellations still being sent: the session ends anyway
            task.cancel()
        try:
            await self.transport.close()
        finally:
            self._opened = False
            self.transport.on_server_message = None

    async def abandon(self) -> None:
        """End the session on this side only, as a client that goes away without DELETE: the server
        keeps it until it expires (scenario ``on_end: abandon``). Never raises."""
        if getattr(self.transport, "session_id", None) is not None:
            self.transport.session_id = None  # type: ignore[attr-defined]  # no id: close sends no DELETE
        await self.close()

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # requests
    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """Send one request; a forgotten session is re-initialized and the request retried once."""
        if self.auth is not None:
            return await self._request_authorized(method, params, name, timeout)
        out = await self._send(method, params, name, timeout or self.timeout)
        if out.kind == SESSION_EXPIRED and self.era == eras.HANDSHAKE:
            self.reinitializations += 1
            await self.transport.reset()
            init = await self._initialize()
            if init.ok:
                retry = await self._send(method, params, name, timeout or self.timeout)
                retry.retry_of = out
                return retry
        return out

    async def _request_authorized(
        self, method: str, params: dict[str, Any] | None, name: str | None, timeout: float | None
    ) -> Outcome:
        """OAuth: a token refreshed before it expires; a 401 gets a new token and one retry (counted in
        ``auth_retries``; the refused attempt is an outcome of its own, as a retry's first attempt is)."""
        auth = self.auth
        assert auth is not None  # only called when the session has OAuth (``request``)
        if not auth.fresh() or auth.access_token != self._bearer:  # (a shared token another session renewed)
            problem = await self._authorize()
            if problem is not None:
                return problem
        seen = self._bearer
        out = await self._send(method, params, name, timeout or self.timeout)
        if out.http_status == 401:
            self.auth_retries += 1
            problem = await self._authorize(force=True, stale=seen)
            if problem is not None:
                return problem
            retry = await self._send(method, params, name, timeout or self.timeout)
            retry.retry_of = out
            return retry
        return out

    async def _authorize(self, force: bool = False, stale: str | None = None) -> Outcome | None:
        """Put a (new) bearer token on the transport; an outcome when none could be had."""
        assert self.auth is not None  # only called when the session has OAuth
        setter = getattr(self.transport, "set_header", None)
        started = _clock()
        try:
            if setter is None:
                raise OAuthError(f"OAuth needs Streamable HTTP, not the {self.transport.name} transport")
            token = await self.auth.token(force, stale)
        except OAuthError as exc:
            out = Outcome(HTTP_ERROR, "oauth/token", None, started, _clock() - started)
            out.error_message = f"OAuth: {exc}"
            if self.on_outcome is not None:
                self.on_outcome(out)
            return out
        setter("Authorization", f"Bearer {token}")
        self._bearer = token
        return None

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        timeout: float | None = None,
        progress: Progress | None = None,
    ) -> Outcome:
        """Call a tool. ``progress``: ask for progress notifications (a ``progressToken``) and count them
        there; with its ``reset_timeout``, the timeout runs from the latest progress."""
        if progress is None:
            return await self.request("tools/call", {"name": name, "arguments": arguments or {}}, name, timeout)
        params = {"name": name, "arguments": arguments or {}, "_meta": self._progress_meta(progress)}
        try:
            return await send_with_progress(self, "tools/call", params, name, timeout or self.timeout, progress)
        finally:
            if self._progress is not None:  # (always: _progress_meta made it)
                del self._progress[progress.token]

    async def call_tool_as_task(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        timeout: float | None = None,
        cost: TaskCall | None = None,
        ttl_ms: int = DEFAULT_TTL_MS,
    ) -> Outcome:
        """Call a tool as a task (2025-11-25): one outcome from the call to its result; ``cost.polls``
        counts the ``tasks/get`` polls. See ``mcpload.mcp.tasks``."""
        return await call_tool_as_task(self, name, arguments or {}, timeout or self.timeout, ttl_ms, cost)

    def _cancel_task(self, task_id: str) -> None:
        """``tasks/cancel`` a task the client gave up on, in the background (best effort)."""
        if len(self._cancels) >= MAX_CANCELS:
            return
        task = asyncio.ensure_future(self._send("tasks/cancel", {"taskId": task_id}, None, self.timeout, emit=False))
        self._cancels.add(task)
        task.add_done_callback(self._cancels.discard)
        self.cancellations_sent += 1

    async def ping(self, timeout: float | None = None) -> Outcome:
        return await self.request("ping", None, None, timeout)

    async def list_tools(self, timeout: float | None = None) -> Outcome:
        return await self._list("tools/list", "tools", timeout)

    async def list_resources(self, timeout: float | None = None) -> Outcome:
        return await self._list("resources/list", "resources", timeout)

    async def list_prompts(self, timeout: float | None = None) -> Outcome:
        return await self._list("prompts/list", "prompts", timeout)

    async def list_resource_templates(self, timeout: float | None = None) -> Outcome:
        return await self._list("resources/templates/list", "resourceTemplates", timeout)

    async def read_resource(self, uri: str, timeout: float | None = None, name: str | None = None) -> Outcome:
        """``name``: the operation the metrics count it under (default: the URI itself)."""
        return await self.request("resources/read", {"uri": uri}, name or uri, timeout)

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None, timeout: float | None = None
    ) -> Outcome:
        params: dict[str, Any] = {"name": name}
        if arguments:
            params["arguments"] = arguments
        return await self.request("prompts/get", params, name, timeout)

    async def _list(self, method: str, key: str, timeout: float | None) -> Outcome:
        """Follow ``nextCursor``; the outcome spans all pages and its result holds every item.

        Each page is shape-checked (``shapes.page_problem``); all pages together are bounded as one
        response is (``max_response_bytes``), and a cursor that repeats ends the walk: ``protocol``.
        """
        items: list[Any] = []
        cursor = None
        first: Outcome | None = None
        size = 0
        for _ in range(MAX_PAGES):
            out = await self.request(method, {"cursor": cursor} if cursor else None, None, timeout)
            if first is None:
                first = out
            else:
                out.latency = out.started + out.latency - first.started
                out.started = first.started
            result = out.result
            if not out.ok or result is None:  # (an ok outcome always has its result object)
                return out
            page: Any = result.get(key)  # any JSON until page_problem has checked it
            problem = shapes.page_problem(key, page)
            size += out.bytes_received
            nxt = result.get("nextCursor")
            if problem is None and size > self.transport.max_body:
                problem = f"pages together over {self.transport.max_body} bytes"
            if problem is None and nxt and (type(nxt) is not str or nxt == cursor):
                problem = f"nextCursor {shapes.short(nxt)} is not a new string"
            if problem is not None:
                out.kind, out.error_message, out.result = PROTOCOL, f"{method}: {problem}", None
                return out
            items.extend(page)  # (page_problem: a list)
            if not nxt:
                out.result = {**result, key: items}
                return out
            cursor = nxt
        out.kind, out.error_message, out.result = PROTOCOL, f"{method}: more than {MAX_PAGES} pages", None
        return out

    # the hot path
    async def _send(
        self, method: str, params: dict[str, Any] | None, name: str | None, timeout: float, emit: bool = True
    ) -> Outcome:
        self._next_id += 1
        msg_id = self._next_id
        if self._meta is not None and (not params or "_meta" not in params):  # (a progress call merged its own)
            params = {**params, "_meta": self._meta} if params else {"_meta": self._meta}
        body = encode_request(msg_id, method, params)
        started = _clock()
        try:
            reply = await self.transport.request(msg_id, body, method, name, timeout)
        except CallFailure as exc:
            out = self._failure(exc, method, name, started)
            if exc.kind == TIMEOUT:
                self._cancel_request(msg_id, method, "timed out")
        except BaseException:
            out = Outcome(INTERRUPTED, method, name, started, _clock() - started, bytes_sent=len(body))
            self._cancel_request(msg_id, method, "abandoned by the client")
            if emit and self.on_outcome is not None:
                self.on_outcome(out)
            raise
        else:
            msg = reply.message
            kind, code, message = classify(method, msg)
            result = msg.get("result") if kind != RPC_ERROR else msg["error"].get("data")
            if kind == PROTOCOL and type(result) is not dict:
                result = None  # a list or a number where the result object should be: nothing to keep
            out = Outcome(
                kind,
                method,
                name,
                started,
                _clock() - started,
                result,
                code,
                message,
                None,
                reply.bytes_sent,
                reply.bytes_received,
            )
            if self.output_check is not None and kind == OK and method == "tools/call":
                problem = self.output_check(name, result)
                if problem is not None:
                    out.kind, out.error_message = SCHEMA_MISMATCH, problem
        if emit and self.on_outcome is not None:
            self.on_outcome(out)
        return out

    @staticmethod
    def _failure(exc: CallFailure, method: str, name: str | None, started: float) -> Outcome:
        out = Outcome(
            exc.kind,
            method,
            name,
            started,
            _clock() - started,
            None,
            exc.error_code,
            exc.message,
            exc.http_status,
            exc.bytes_sent,
            exc.bytes_received,
        )
        out.retry_after = exc.retry_after
        return out
