"""Turns the JSON-RPC messages a recorder sees pass by into trace lines, for any transport.

Requests wait (by session and id) for their response; the pair becomes one ``call`` line with its
latency and outcome kind (the taxonomy of ``mcpload.outcome``). Requests the server sends to
the client (sampling, elicitation, roots) are paired with the client's answer the same way, as
``direction: server`` calls. Everything read here came from the network: shapes are checked and a
message that is not JSON-RPC is skipped, never trusted.
"""

from __future__ import annotations

from typing import Any

from mcpload.outcome import HTTP_ERROR, INTERRUPTED, OK, RPC_ERROR, SESSION_EXPIRED, TOOL_ERROR
from mcpload.traffic.redact import Redactor, shape
from mcpload.traffic.trace import TraceWriter

MAX_PENDING = 100_000  # requests never answered are dropped beyond this (counted in the footer)


def _key(msg_id: Any) -> Any:
    return msg_id if isinstance(msg_id, str | int) and not isinstance(msg_id, bool) else None


class Observer:
    """Pairs requests with responses and writes the trace lines."""

    def __init__(self, writer: TraceWriter, redactor: Redactor) -> None:
        self.writer = writer
        self.redactor = redactor
        self._pending: dict[tuple[str, str, Any], dict[str, Any]] = {}  # (session, direction, id) → line
        self._sessions: dict[str, bool] = {}  # session → ended
        self.dropped = 0

    # sessions

    def session(self, session: str, **extra: Any) -> None:
        """Note a session; its first sight writes ``session_start``."""
        if session not in self._sessions:
            self._sessions[session] = False
            self.writer.write({"type": "session_start", "session": session, **extra})

    def end_session(self, session: str, reason: str) -> None:
        """Write ``session_end`` once; the session's unanswered requests end as interrupted."""
        if self._sessions.get(session) is False:
            self._sessions[session] = True
            for key in [k for k in self._pending if k[0] == session]:
                self._finish(self._pending.pop(key), INTERRUPTED, None)
            self.writer.write({"type": "session_end", "session": session, "reason": reason})

    def close(self, reason: str = "recording_stopped") -> None:
        """End every open session (at the end of the recording)."""
        for session, ended in list(self._sessions.items()):
            if not ended:
                self.end_session(session, reason)
        for key in list(self._pending):
            self._finish(self._pending.pop(key), INTERRUPTED, None)

    # messages

    def client(self, session: str, payload: Any, t: float, size: int = 0) -> list[Any]:
        """Messages the client sent (one, or a batch list) at ``t``, ``size`` bytes; returns its requests' ids."""
        return self._messages(session, payload, t, "client", None, size)

    def server(self, session: str, payload: Any, t: float, status: int | None = None, size: int = 0) -> list[Any]:
        """Messages the server sent at ``t`` (``size`` bytes); returns the ids of requests it made."""
        return self._messages(session, payload, t, "server", status, size)

    def failed(self, session: str, ids: list[Any], kind: str, t: float, status: int | None = None) -> None:
        """The client's requests ``ids`` got no JSON-RPC answer: an HTTP error, a broken upstream…"""
        if kind == HTTP_ERROR and status == 404 and session in self._sessions:
            kind = SESSION_EXPIRED
        for msg_id in ids:
            line = self._pending.pop((session, "client", _key(msg_id)), None)
            if line is not None:
                self._finish(line, kind, status, t)

    def _messages(
        self, session: str, payload: Any, t: float, direction: str, status: int | None, size: int
    ) -> list[Any]:
        ids = []
        for msg in payload if isinstance(payload, list) else [payload]:
            if not isinstance(msg, dict):
                continue
            method = msg.get("method")
            if isinstance(method, str):
                if "id" in msg and _key(msg["id"]) is not None:
                    self._request(session, msg, method, t, direction, size)
                    ids.append(msg["id"])
                else:
                    self.writer.write({"type": "notification", "t": round(t, 6), "session": session,
                                       "direction": direction, "method": method[:200]})  # fmt: skip
            elif "result" in msg or "error" in msg:
                other = "server" if direction == "client" else "client"
                line = self._pending.pop((session, other, _key(msg.get("id"))), None)
                if line is not None:
                    line["bytes_out"] = size
                    self._answer(line, msg, t, status)
        return ids

    def _request(self, session: str, msg: dict[str, Any], method: str, t: float, direction: str, size: int) -> None:
        self.session(session)
        line: dict[str, Any] = {"type": "call", "t": round(t, 6), "session": session, "direction": direction,
                                "method": method[:200], "bytes_in": size}  # fmt: skip
        params = msg.get("params")
        params = params if isinstance(params, dict) else {}
        if direction == "client":
            name = params.get("name")
            if method == "tools/call" and isinstance(name, str):
                line["tool"] = name[:200]
            elif method == "prompts/get" and isinstance(name, str):
                line["prompt"] = name[:200]
            elif method == "resources/read" and isinstance(params.get("uri"), str):
                line["resource"] = self.redactor.text(params["uri"][:2000])
            if method in ("tools/call", "prompts/get"):
                arguments = params.get("arguments")
                arguments = arguments if isinstance(arguments, dict) else {}
                kept = self.redactor.arguments(arguments)
                if kept is not None:
                    line["arguments"] = kept
                line["shape"] = shape(arguments)
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending[(session, direction, _key(msg["id"]))] = line

    def _answer(self, line: dict[str, Any], msg: dict[str, Any], t: float, status: int | None) -> None:
        error = msg.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            line["error_code"] = code if isinstance(code, int) and not isinstance(code, bool) else None
            self._finish(line, RPC_ERROR, status, t)
            return
        result = msg.get("result")
        is_error = isinstance(result, dict) and result.get("isError") is True
        self._finish(line, TOOL_ERROR if is_error else OK, status, t)

    def _finish(self, line: dict[str, Any], kind: str, status: int | None, t: float | None = None) -> None:
        end = self.writer.now() if t is None else t
        line["latency"] = round(max(0.0, end - line["t"]), 6)
        line["status"] = status
        line["outcome"] = kind
        line.setdefault("bytes_out", 0)
        self.writer.write(line)
