"""The structure of recorded traffic: sessions → conversations → batches → calls.

A *batch* is the calls an agent sends before any of them is answered (a ``parallel`` step); a
*gap* runs from the end of one batch to the start of the next; gaps longer than the idle
threshold split a session into *conversations* (think inside, idle between).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mcpload.traffic.trace import Trace

START, END = "<start>", "<end>"


@dataclass
class Batch:
    calls: list[dict[str, Any]]

    @property
    def start(self) -> float:
        start: float = self.calls[0]["t"]
        return start

    @property
    def end(self) -> float:
        end: float = max(c["t"] + c["latency"] for c in self.calls)
        return end

    @property
    def state(self) -> str:
        """The batch as a workflow state: its tool, or ``a+b`` for a batch of several tools."""
        return "+".join(sorted({c["tool"] for c in self.calls}))


@dataclass
class Conversation:
    batches: list[Batch]

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [c for b in self.batches for c in b.calls]

    def states(self) -> list[str]:
        return [b.state for b in self.batches]


@dataclass
class Session:
    id: str
    start: float
    end: float
    batches: list[Batch] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [c for b in self.batches for c in b.calls]

    def gaps(self) -> list[float]:
        """Seconds from the end of each batch to the start of the next (never negative)."""
        return [max(0.0, b.start - a.end) for a, b in zip(self.batches, self.batches[1:], strict=False)]


def batches(calls: list[dict[str, Any]]) -> list[Batch]:
    """Group one session's calls (by start time) into batches: a call that starts before every call of
    the current batch has been answered joins it."""
    out: list[Batch] = []
    first_end = 0.0
    for call in calls:
        if out and call["t"] < first_end:
            out[-1].calls.append(call)
            first_end = min(first_end, call["t"] + call["latency"])
        else:
            out.append(Batch([call]))
            first_end = call["t"] + call["latency"]
    return out


def build_sessions(trace: Trace) -> list[Session]:
    """The sessions that made tool calls, each with its batches (conversations not yet split)."""
    by_session: dict[str, list[dict[str, Any]]] = {}
    for call in trace.tool_calls():
        if isinstance(call.get("tool"), str):
            by_session.setdefault(call["session"], []).append(call)
    sessions = []
    for sid, calls in by_session.items():
        info = trace.sessions.get(sid, {})
        last = max(c["t"] + c["latency"] for c in calls)
        start = min(info.get("start", calls[0]["t"]), calls[0]["t"])
        end = info.get("end") or last
        sessions.append(Session(sid, start, max(end, last), batches(calls)))
    return sorted(sessions, key=lambda s: s.start)


def split_conversations(sessions: Iterable[Session], threshold: float | None) -> None:
    """Split each session at gaps longer than ``threshold`` (None: one conversation per session)."""
    for session in sessions:
        current: list[Batch] = []
        session.conversations = []
        for i, batch in enumerate(session.batches):
            if current and threshold is not None and batch.start - session.batches[i - 1].end > threshold:
                session.conversations.append(Conversation(current))
                current = []
            current.append(batch)
        if current:
            session.conversations.append(Conversation(current))


def gaps_by_kind(sessions: Iterable[Session], threshold: float | None) -> tuple[list[float], list[float]]:
    """(think gaps, idle gaps) of the sessions for ``threshold``."""
    think: list[float] = []
    idle: list[float] = []
    for session in sessions:
        for gap in session.gaps():
            (idle if threshold is not None and gap > threshold else think).append(gap)
    return think, idle
