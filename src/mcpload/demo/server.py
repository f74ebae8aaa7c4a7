"""Demo MCP server on the official SDK: tools shaped like a real agent workload.

A research-and-notify agent: ``search_docs`` → ``get_doc`` → ``send_message`` →
``get_delivery_report``, each with a configurable latency distribution and failure probability,
plus a resource and a prompt. Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from mcpload.demo.behaviour import Behaviour

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp.types import ToolAnnotations

from mcpload.demo.flaws import Flaws
from mcpload.demo.limits import Busy, ConcurrencyLimit

Transport = Literal["http", "sse", "stdio"]

_TOPICS = ["latency", "retries", "sessions", "streaming", "auth", "caching", "quotas", "tracing"]


class SearchHit(BaseModel):
    id: str
    title: str
    score: float


class SearchResults(BaseModel):
    query: str
    results: list[SearchHit]


class DeliveryReport(BaseModel):
    message_id: str
    status: Literal["delivered", "pending"]
    attempts: int = Field(ge=1)


def _doc_id(query: str, i: int) -> str:
    return "doc-" + hashlib.sha1(f"{query}:{i}".encode()).hexdigest()[:10]


def build_server(
    behaviour: Behaviour | None = None,
    name: str = "mcpload-demo",
    concurrency: ConcurrencyLimit | None = None,
    flaws: Flaws | None = None,
) -> MCPServer:
    """Build the demo ``MCPServer`` (imported lazily: the SDK is heavy and never on the hot path).

    Args:
        behaviour: latency and failure draws of the tools.
        name: the server name it reports.
        concurrency: caps concurrent tool executions (calls beyond queue); None: no cap.
        flaws: deliberate flaws (``demo.flaws``); only ``blocking_tool`` acts here, the others wrap the app.
    """
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    # annotated as a well-behaved server should be: `diagnose` and `init` call only read-only, closed-world tools
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    sends = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)

    beh = behaviour or Behaviour()
    blocking = flaws.blocking_tool if flaws else None
    server = MCPServer(name, version="1.0.0", instructions="Demo server for mcpload load tests.")

    async def execute(tool: str) -> None:
        delay = beh.delay_s(tool)
        if delay and tool == blocking:
            time.sleep(delay)  # the flaw: a synchronous wait that stalls every other request
        elif delay:
            await asyncio.sleep(delay)
        if beh.fails(tool):
            raise ToolError(f"{tool}: simulated backend failure")

    async def work(tool: str) -> None:
        if concurrency is None:
            await execute(tool)
            return
        try:
            async with concurrency.slot():
                await execute(tool)
        except Busy as exc:
            raise ToolError(f"{tool}: {exc}") from None

    @server.tool(description="Search the documentation; returns ranked document ids.", annotations=reads)
    async def search_docs(query: str, limit: int = 5) -> SearchResults:
        await work("search_docs")
        limit = max(1, min(limit, 20))
        hits = [
            SearchHit(id=_doc_id(query, i), title=f"{query} — {_TOPICS[i % len(_TOPICS)]}", score=1 / (i + 1))
            for i in range(limit)
        ]
        return SearchResults(query=query, results=hits)

    @server.tool(description="Fetch one document by id.", annotations=reads)
    async def get_doc(doc_id: str) -> str:
        await work("get_doc")
        return f"# {doc_id}\n\n" + ("Lorem ipsum dolor sit amet. " * 20)

    @server.tool(description="Send a message to a recipient; returns the message id.", annotations=sends)
    async def send_message(to: str, text: str) -> dict[str, str]:
        await work("send_message")
        return {"message_id": str(uuid.uuid4()), "to": to, "chars": str(len(text))}

    @server.tool(description="Delivery status of a message sent earlier.", annotations=reads)
    async def get_delivery_report(message_id: str) -> DeliveryReport:
        await work("get_delivery_report")
        return DeliveryReport(message_id=message_id, status="delivered", attempts=1)

    if os.environ.get(ECHO_TRACE_ENV) == "1":
        _add_trace_echo(server, reads)

    @server.resource("docs://index", description="Index of the documentation topics.", mime_type="text/plain")
    def docs_index() -> str:
        return "\n".join(_TOPICS)

    @server.prompt(description="Ask the model to summarise a document.")
    def summarize(doc_id: str) -> str:
        return f"Summarise document {doc_id} in three bullet points."

    return server


#: ``MCPLOAD_DEMO_ECHO_TRACE=1`` adds the ``trace_echo`` tool (the tests of ``--trace-context``)
ECHO_TRACE_ENV = "MCPLOAD_DEMO_ECHO_TRACE"


def _add_trace_echo(server: MCPServer, annotations: ToolAnnotations) -> None:
    """``trace_echo``: the ``traceparent`` the SDK handed the tool from ``params._meta``, and the HTTP header's."""
    from mcp.server.mcpserver import Context

    async def trace_echo(ctx: Context) -> dict[str, str | None]:
        meta = ctx.request_context.meta or {}
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        sent = meta.get("traceparent")  # (the output schema is str | None: anything else would not validate)
        return {
            "meta": sent if isinstance(sent, str) else None,
            "header": headers.get("traceparent") if headers else None,
        }

    # real objects, not the strings of ``from __future__ import annotations``: the SDK resolves them
    trace_echo.__annotations__ = {"ctx": Context, "return": dict[str, str | None]}
    server.tool(description="The trace context this request carried (_meta and HTTP header).", annotations=annotations)(
        trace_echo
    )


def serve(
    transport: Transport = "http",
    host: str = "127.0.0.1",
    port: int = 8000,
    stateless: bool = False,
    json_response: bool = False,
    behaviour: Behaviour | None = None,
    concurrency: ConcurrencyLimit | None = None,
    flaws: Flaws | None = None,
) -> None:
    """Run the demo server until interrupted (``concurrency``, ``flaws``: see ``build_server``)."""
    import logging

    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = build_server(behaviour, concurrency=concurrency, flaws=flaws)
    if flaws is not None and flaws.needs_wrapping:
        if transport != "http":
            raise ValueError("these --flaw options need --transport http")
        _serve_flawed(server, host, port, stateless, json_response, flaws)
    elif transport == "stdio":
        server.run("stdio")
    elif transport == "sse":
        server.run("sse", host=host, port=port)
    else:
        server.run(
            "streamable-http",
            host=host,
            port=port,
            stateless_http=stateless,
            json_response=json_response,
        )


def _serve_flawed(server: MCPServer, host: str, port: int, stateless: bool, json_response: bool, flaws: Flaws) -> None:
    """Streamable HTTP with the HTTP-level flaws: the SDK's app wrapped, uvicorn run here."""
    import uvicorn

    from mcpload.demo.flaws import FlawedApp, limited_protocol

    security = None
    if flaws.no_origin_check:  # the flaw: no DNS-rebinding protection, any Origin (and Host) is served
        from mcp.server.transport_security import TransportSecuritySettings

        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = server.streamable_http_app(
        stateless_http=stateless, json_response=json_response, host=host, transport_security=security
    )
    http: Any = limited_protocol(flaws.max_connections) if flaws.max_connections else "h11"
    config = uvicorn.Config(FlawedApp(app, flaws), host=host, port=port, log_level="warning", http=http)
    uvicorn.Server(config).run()
