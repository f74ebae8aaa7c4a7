"""W3C trace context on a sampled share of requests (``--trace-context RATE``), so that a server
instrumented with OpenTelemetry links its spans to the load run; the trace ids of the slowest
traced calls per operation are kept for the results (``slowest_traces``) and the report.

The MCP conventions carry ``traceparent`` unprefixed in ``params._meta`` (semantic-conventions-genai,
``docs/gen-ai/mcp.md``, SEP-414); over Streamable HTTP it also goes in the request's ``traceparent``
header. Off (the default), sessions are plain ``Session``s: nothing is paid per call. On, agents
make ``TracedSession``s, which draw one random number per request and build the ``_meta`` only for
the sampled ones.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any

from mcpload.mcp.session import Session
from mcpload.outcome import Outcome

KEEP = 5  # slowest traced calls kept per operation
MAX_OPERATIONS = 200  # operations with a list; later ones are not kept (bounded memory)


class Tracer:
    """Sampling, ids, and the slowest traced calls of one event loop's agents.

    Args:
        rate: share of requests traced, 0 < rate <= 1.
        rng: where ids and sampling draws come from (its own, so the load's seeded draws are untouched).
    """

    def __init__(self, rate: float, rng: random.Random | None = None) -> None:
        if not 0 < rate <= 1:
            raise ValueError(f"--trace-context {rate:g}: the sampled share must be in (0, 1]")
        self.rate = rate
        rng = rng or random.Random()  # seeded from os.urandom: ids differ from run to run
        self._random = rng.random
        self._bits = rng.getrandbits
        self.traced = 0
        self._slowest: dict[str, list[tuple[float, str, str]]] = {}

    def sample(self) -> tuple[str, str] | None:
        """``(trace_id, traceparent)`` for a request to trace, else None."""
        if self.rate < 1 and self._random() >= self.rate:
            return None
        trace_id = f"{self._bits(128) or 1:032x}"  # all-zero ids are invalid
        span_id = f"{self._bits(64) or 1:016x}"
        self.traced += 1
        return trace_id, f"00-{trace_id}-{span_id}-01"

    def offer(self, operation: str, latency_s: float, trace_id: str, kind: str) -> None:
        """Keep this call if it is among the ``KEEP`` slowest traced ones of its operation."""
        heap = self._slowest.get(operation)
        if heap is None:
            if len(self._slowest) >= MAX_OPERATIONS:
                return
            heap = self._slowest[operation] = []
        item = (latency_s, trace_id, kind)
        if len(heap) < KEEP:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)

    def summary(self) -> dict[str, list[dict[str, Any]]]:
        """``{operation: [{"trace_id", "latency_ms", "outcome"}, …]}``, slowest first."""
        return {
            op: [
                {"trace_id": t, "latency_ms": round(s * 1000, 3), "outcome": k}
                for s, t, k in sorted(heap, reverse=True)
            ]
            for op, heap in sorted(self._slowest.items())
        }

    def session_class(self) -> type[Session]:
        tracer = self

        class Traced(TracedSession):
            pass

        Traced.tracer = tracer
        return Traced


def merge_slowest(
    a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The slowest ``KEEP`` per operation of two ``Tracer.summary()``s (split runs)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for op in sorted(a.keys() | b.keys()):
        calls = [*a.get(op, []), *b.get(op, [])]
        calls.sort(key=lambda c: c.get("latency_ms") or 0, reverse=True)
        out[op] = calls[:KEEP]
    return out


class TracedSession(Session):
    """A session whose sampled requests carry ``traceparent`` (``params._meta`` and, over Streamable
    HTTP, the header). The era's own ``_meta`` (stateless protocol) is merged, never replaced."""

    tracer: Tracer

    def __init__(self, transport: Any, *args: Any, **kwargs: Any) -> None:
        self._era_meta: dict[str, Any] | None = None
        self._trace_line = b""
        super().__init__(transport, *args, **kwargs)
        post: Callable[[bytes, str | None, str | None], bytes] | None = getattr(transport, "_post", None)
        if post is not None:  # Streamable HTTP: the header on the sampled requests

            def traced_post(body: bytes, method: str | None, name: str | None) -> bytes:
                data = post(body, method, name)
                line, self._trace_line = self._trace_line, b""
                if not line:
                    return data
                end = data.index(b"\r\n\r\n") + 2  # the head's end: a JSON body holds no raw CR or LF
                return data[:end] + line + data[end:]

            transport._post = traced_post

    # the base class reads and writes ``_meta`` (the era's); this subclass merges it itself
    @property
    def _meta(self) -> None:
        return None

    @_meta.setter
    def _meta(self, value: dict[str, Any] | None) -> None:
        self._era_meta = value

    async def _send(
        self, method: str, params: dict[str, Any] | None, name: str | None, timeout: float, emit: bool = True
    ) -> Outcome:
        meta = self._era_meta
        sampled = self.tracer.sample()
        if sampled is not None:
            traceparent = sampled[1]
            meta = {**meta, "traceparent": traceparent} if meta else {"traceparent": traceparent}
            # Read by traced_post before this task can be suspended: no other request interleaves.
            self._trace_line = b"traceparent: " + traceparent.encode() + b"\r\n"
        if meta is not None:
            params = {**params, "_meta": meta} if params else {"_meta": meta}
        if sampled is None:
            return await super()._send(method, params, name, timeout, emit)
        try:
            out = await super()._send(method, params, name, timeout, emit)
        finally:
            self._trace_line = b""
        self.tracer.offer(out.operation, out.latency, sampled[0], out.kind)
        return out
