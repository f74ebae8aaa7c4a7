"""One MCP session: era detection, initialize/discover, requests as outcomes, transparent re-init.

The session never raises for what the server or the network does: every request returns an
``Outcome``. Each outcome (the initialize, an expired attempt, its retry) is also handed to
``on_outcome`` so that metrics see every attempt without the session importing metrics.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from mcpload import __version__
from mcpload.mcp import eras
from mcpload.mcp.jsonrpc import classify, encode_notification, encode_request, error_response, result_response
from mcpload.mcp.outcome import (
    HTTP_ERROR,
    INTERRUPTED,
    PROTOCOL,
    RPC_ERROR,
    SESSION_EXPIRED,
    Outcome,
)
from mcpload.transports.base import CallFailure, Transport

_clock = time.perf_counter
OutcomeObserver = Callable[[Outcome], None]


class Session:
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
        self._opened = False
        transport.on_server_message = self._server_message

    # lifecycle
    @property
    def capabilities(self) -> dict[str, Any]:
        """What this client declares: only what it can answer."""
        caps: dict[str, Any] = {}
        if "roots/list" in self.server_answers:
            caps["roots"] = {}
        if "sampling/createMessage" in self.server_answers:
            caps["sampling"] = {}
        if "elicitation/create" in self.server_answers:
            caps["elicitation"] = {}
        return caps

    async def open(self) -> Outcome:
        """Start the session: detect the era when ``protocol`` is auto. Returns the handshake outcome."""
        try:
            await self.transport.start()
        except CallFailure as exc:
            return self._failure(exc, "initialize", None, _clock())
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
                supported = ((out.result or {}).get("supported")) or []
                mutual = [v for v in eras.MODERN_VERSIONS if v in supported]
                if mutual:
                    version = mutual[-1]
                    continue
            break
        await self.transport.reset()
        return await self._initialize()

    async def _discover(self, version: str, probing: bool = False) -> Outcome:
        """``probing``: an auto-detection probe, whose failure is an era verdict and not reported."""
        self.transport.set_protocol(version, True)
        self._meta = {
            eras.META_PROTOCOL_VERSION: version,
            eras.META_CLIENT_CAPABILITIES: self.capabilities,
            eras.META_CLIENT_INFO: self.client_info,
        }
        out = await self._send("server/discover", {}, None, self.timeout, emit=False)
        if out.ok:
            supported = out.result.get("supportedVersions") or []
            if version not in supported:
                mutual = [v for v in eras.MODERN_VERSIONS if v in supported]
                if not mutual:
                    out.kind = PROTOCOL
                    out.error_message = f"server supports {supported}, no modern version"
                    self._meta = None
                    self.transport.set_protocol(None, False)
                    return out
                return await self._discover(mutual[-1])
            self.era = eras.MODERN
            self.protocol_version = version
            self.server_capabilities = out.result.get("capabilities") or {}
            self.server_info = (out.result.get("_meta") or {}).get(eras.META_SERVER_INFO) or {}
            self.instructions = out.result.get("instructions")
        else:
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
            version = out.result.get("protocolVersion")
            if version not in eras.HANDSHAKE_VERSIONS:
                out.kind, out.error_message = PROTOCOL, f"server chose unsupported protocol version {version!r}"
            else:
                self.era = eras.HANDSHAKE
                self.protocol_version = version
                self.server_capabilities = out.result.get("capabilities") or {}
                self.server_info = out.result.get("serverInfo") or {}
                self.instructions = out.result.get("instructions")
                self.transport.set_protocol(version, False)
                try:
                    await self.transport.notify(encode_notification("notifications/initialized"), "")
                except CallFailure as exc:
                    out = self._failure(exc, "initialize", None, out.started)
                else:
                    opener = getattr(self.transport, "open_listener", None)
                    if opener is not None:
                        opener()
        if self.on_outcome is not None:
            self.on_outcome(out)
        return out

    async def close(self) -> None:
        """End the session (DELETE, stop the process, …). Never raises."""
        try:
            await self.transport.close()
        finally:
            self._opened = False

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

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Outcome:
        return await self.request("tools/call", {"name": name, "arguments": arguments or {}}, name, timeout)

    async def ping(self, timeout: float | None = None) -> Outcome:
        return await self.request("ping", None, None, timeout)

    async def list_tools(self, timeout: float | None = None) -> Outcome:
        return await self._list("tools/list", "tools", timeout)

    async def list_resources(self, timeout: float | None = None) -> Outcome:
        return await self._list("resources/list", "resources", timeout)

    async def list_prompts(self, timeout: float | None = None) -> Outcome:
        return await self._list("prompts/list", "prompts", timeout)

    async def read_resource(self, uri: str, timeout: float | None = None) -> Outcome:
        return await self.request("resources/read", {"uri": uri}, uri, timeout)

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None, timeout: float | None = None
    ) -> Outcome:
        params: dict[str, Any] = {"name": name}
        if arguments:
            params["arguments"] = arguments
        return await self.request("prompts/get", params, name, timeout)

    async def _list(self, method: str, key: str, timeout: float | None) -> Outcome:
        """Follow ``nextCursor``; the outcome spans all pages and its result holds every item."""
        items: list[Any] = []
        cursor = None
        first: Outcome | None = None
        for _ in range(1000):
            out = await self.request(method, {"cursor": cursor} if cursor else None, None, timeout)
            if first is None:
                first = out
            else:
                out.latency = out.started + out.latency - first.started
                out.started = first.started
            if not out.ok:
                return out
            page = out.result.get(key)
            if not isinstance(page, list):
                out.kind, out.error_message = PROTOCOL, f"{method} result has no {key!r} list"
                return out
            items.extend(page)
            cursor = out.result.get("nextCursor")
            if not cursor:
                out.result = {**out.result, key: items}
                return out
        out.kind, out.error_message = PROTOCOL, f"{method}: more than 1000 pages"
        return out

    # the hot path
    async def _send(
        self, method: str, params: dict[str, Any] | None, name: str | None, timeout: float, emit: bool = True
    ) -> Outcome:
        self._next_id += 1
        msg_id = self._next_id
        if self._meta is not None:
            params = {**params, "_meta": self._meta} if params else {"_meta": self._meta}
        body = encode_request(msg_id, method, params)
        started = _clock()
        try:
            reply = await self.transport.request(msg_id, body, method, name, timeout)
        except CallFailure as exc:
            out = self._failure(exc, method, name, started)
        except BaseException:
            out = Outcome(INTERRUPTED, method, name, started, _clock() - started, bytes_sent=len(body))
            if emit and self.on_outcome is not None:
                self.on_outcome(out)
            raise
        else:
            msg = reply.message
            kind, code, message = classify(method, msg)
            out = Outcome(
                kind,
                method,
                name,
                started,
                _clock() - started,
                msg.get("result") if kind != RPC_ERROR else msg["error"].get("data"),
                code,
                message,
                None,
                reply.bytes_sent,
                reply.bytes_received,
            )
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

    # server → client
    async def _server_message(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        method = msg.get("method")
        if "id" not in msg:
            self.server_notifications[str(method)] += 1
            return None
        self.server_requests[str(method)] += 1
        if method == "ping":
            return result_response(msg["id"], {})
        answer = self.server_answers.get(str(method))
        if answer is not None:
            return result_response(msg["id"], answer)
        return error_response(msg["id"], -32601, f"mcpload does not answer {method}")
