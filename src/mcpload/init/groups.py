"""Tools grouped into agent types: tools about the same thing (``search_docs``, ``get_doc``) go to one
agent, whose workflow calls them in order, as an agent working on that thing would.

The thing is the most shared noun of a tool's name (verbs such as get/list/search and filler words
are not nouns; plurals fold: ``docs`` → ``doc``, ``directories`` → ``directory``). Groups of one tool
are merged into one ``explorer`` agent. At most ``MAX_GROUPS`` agent types; the smallest groups beyond
that join the explorer too.
"""

from __future__ import annotations

import re
from collections import Counter

MAX_GROUPS = 4
MAX_TOOLS_PER_AGENT = 8  # a longer workflow is split into conversations of this many calls
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_NOT_NOUNS_TEXT = (
    "get list read search find fetch query open create update delete remove add set send post put patch "
    "write edit move copy make run do start stop check count describe show view lookup look retrieve "
    "load save store upload download sync with without by for from to of in on at the a an all any info "
    "details multiple many new by id ids tool tools mcp v1 v2 async sync "
)
_NOT_NOUNS = frozenset(_NOT_NOUNS_TEXT.split())
OTHER = "explorer"


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ses") and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def nouns(name: str) -> list[str]:
    """The nouns of a tool name, in order: ``get_delivery_report`` → ``[delivery, report]``."""
    words = [w.lower() for w in _SPLIT.split(name) if w]
    return [_singular(w) for w in words if w not in _NOT_NOUNS and not w.isdigit() and len(w) > 1]


def agent_name(noun: str) -> str:
    """A plain agent-type name (names become metric labels): ``doc`` → ``doc_agent``."""
    clean = re.sub(r"[^a-z0-9_]", "", noun.lower())[:32] or "tool"
    return f"{clean}_agent"


def group_tools(names: list[str]) -> dict[str, list[str]]:
    """Agent-type name → tool names (each tool in exactly one group, order kept)."""
    counts = Counter(n for name in names for n in set(nouns(name)))
    groups: dict[str, list[str]] = {}
    for name in names:
        candidates = nouns(name)
        best = max(candidates, key=lambda n: (counts[n], -candidates.index(n)), default=None)
        key = best if best is not None and counts[best] > 1 else OTHER
        groups.setdefault(key, []).append(name)
    named = sorted((k for k in groups if k != OTHER), key=lambda k: (-len(groups[k]), k))
    for key in named[MAX_GROUPS - 1 if OTHER in groups or len(named) > MAX_GROUPS else MAX_GROUPS :]:
        groups.setdefault(OTHER, []).extend(groups.pop(key))
    result = {agent_name(k): groups[k] for k in named if k in groups}
    if OTHER in groups:
        result[OTHER] = groups[OTHER]
    return result
