"""Personas found in a trace: groups of sessions that behave alike.

Sessions are grouped by the set of tools they use (what they do), small groups merge into the
group whose tool set is closest (Jaccard), and each group is named after its most used tool.
Pace and chain shape are then reported per group (``analysis.behaviour``) rather than used to
split: with the few hundred sessions a recording usually holds, splitting further gives groups
too small to fit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from mcpload.traffic.sessions import Session

MIN_SHARE = 0.1  # a group with fewer sessions than this share joins its nearest group
MAX_PERSONAS = 6


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


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
    out, used = [], set()
    for _tools, members in sorted(merged.items(), key=lambda kv: -len(kv[1])):
        top = Counter(c["tool"] for s in members for c in s.calls).most_common(1)
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", top[0][0] if top else "agent")[:40] or "agent"
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        out.append((name, sorted(members, key=lambda s: s.start)))
    return out
