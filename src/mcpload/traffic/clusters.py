"""Personas found in a trace: groups of sessions that behave alike.

Sessions are grouped by the set of tools they use (what they do); small groups merge into the
group whose tool set is closest (Jaccard). A group is then split in two by pace (each session's
median think gap) or by chain shape (its mean calls per conversation) when that feature clearly
has two classes (Otsu's separation ≥ 0.85 on its logarithm) and both halves stay large enough to
fit. Each group is named after its most used tool (``-fast``/``-slow``, ``-short``/``-long`` after
a split).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from mcpload.traffic.sessions import Session
from mcpload.traffic.stats import otsu_threshold

MIN_SHARE = 0.1  # a group with fewer sessions than this share joins its nearest group
MIN_SPLIT = 5  # sessions each half of a pace or shape split keeps at least
SPLIT_SEPARATION = 0.85
MAX_PERSONAS = 6


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _pace(session: Session) -> float | None:
    gaps = sorted(g for c in session.conversations for a, b in zip(c.batches, c.batches[1:], strict=False)
                  if (g := b.start - a.end) > 0)  # fmt: skip
    return gaps[len(gaps) // 2] if gaps else None


def _shape(session: Session) -> float | None:
    convs = session.conversations
    return sum(len(c.calls) for c in convs) / len(convs) if convs else None


def _split(members: list[Session], total: int) -> list[tuple[str, list[Session]]]:
    """Split a group in two by pace, else by chain shape, when the feature has two clear classes."""
    for feature, low, high in ((_pace, "-fast", "-slow"), (_shape, "-short", "-long")):
        values = {id(s): v for s in members if (v := feature(s)) is not None and v > 0}
        threshold, separation = otsu_threshold(list(values.values()))
        if threshold is None or separation < SPLIT_SEPARATION:
            continue
        below = [s for s in members if values.get(id(s), threshold) < threshold]
        taken = {id(s) for s in below}
        above = [s for s in members if id(s) not in taken]
        least = max(MIN_SPLIT, MIN_SHARE * total)
        if len(below) >= least and len(above) >= least:
            return [(low, below), (high, above)]
    return [("", members)]


def personas(sessions: Sequence[Session]) -> list[tuple[str, list[Session]]]:
    """``(name, sessions)`` per persona, largest first; names are unique and metric-label safe."""
    groups: dict[frozenset[str], list[Session]] = {}
    for s in sessions:
        groups.setdefault(frozenset(c["tool"] for c in s.calls), []).append(s)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0])))
    kept = [kv for i, kv in enumerate(ordered) if i < MAX_PERSONAS and len(kv[1]) >= MIN_SHARE * len(sessions)]
    if not kept and ordered:
        kept = [ordered[0]]
    merged = {tools: list(members) for tools, members in kept}
    for tools, members in ordered:
        if tools not in merged:
            nearest = max(merged, key=lambda k: (_jaccard(k, tools), len(merged[k])))
            merged[nearest].extend(members)
    groups_out: list[tuple[str, list[Session]]] = []
    for _tools, members in sorted(merged.items(), key=lambda kv: -len(kv[1])):
        groups_out += _split(members, len(sessions))
    out, used = [], set()
    for suffix, members in sorted(groups_out, key=lambda kv: -len(kv[1])):
        top = Counter(c["tool"] for s in members for c in s.calls).most_common(1)
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", top[0][0] if top else "agent")[:40] or "agent"
        base += suffix
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        out.append((name, sorted(members, key=lambda s: s.start)))
    return out
