"""Cheap shape checks and bounds for what a server sends outside the per-call hot path: the results of
``initialize`` / ``server/discover``, list pages, and the names of its notifications and requests.

Everything here is an ``isinstance`` on the few fields mcpload uses; a problem is returned as one line
(the session turns it into a ``protocol`` outcome), never raised. What is kept is bounded, because a
session lives long and a server decides what it sends.
"""

from __future__ import annotations

import reprlib
from collections import Counter
from typing import Any

#: distinct notification (or server request) method names counted per session; the rest share OTHER
MAX_NAMES = 64
OTHER = "(other)"
#: a method name longer than this (or not a string) is counted as INVALID
MAX_NAME_CHARS = 128
INVALID = "(invalid method)"
#: what is kept of ``serverInfo``: this many fields, scalar values only, strings cut to this length
MAX_INFO_FIELDS = 32
MAX_INFO_CHARS = 256
#: ``instructions`` kept up to this many characters
MAX_INSTRUCTIONS_CHARS = 64 * 1024

#: the field every item of a list result must have as a string
_ITEM_KEY = {"tools": "name", "prompts": "name", "resources": "uri", "resourceTemplates": "uriTemplate"}
#: fields of an item that must be objects when present (mcpload and its users read into them)
_ITEM_OBJECTS = {"tools": ("inputSchema", "outputSchema", "annotations")}


def short(value: Any) -> str:
    return reprlib.repr(value)


def open_problem(capabilities: Any, server_info: Any, instructions: Any) -> str | None:
    """Why the parts of an ``initialize`` / ``server/discover`` result a session keeps are unusable."""
    if capabilities is not None and type(capabilities) is not dict:
        return f"capabilities is not an object: {short(capabilities)}"
    if server_info is not None:
        if type(server_info) is not dict:
            return f"serverInfo is not an object: {short(server_info)}"
        for key in ("name", "version", "title"):
            value = server_info.get(key)
            if value is not None and type(value) is not str:
                return f"serverInfo.{key} is not a string: {short(value)}"
    if instructions is not None and type(instructions) is not str:
        return f"instructions is not a string: {short(instructions)}"
    return None


def kept_server_info(server_info: dict[str, Any] | None) -> dict[str, Any]:
    """The bounded copy of ``serverInfo`` a session keeps (it reaches the results and the reports)."""
    kept: dict[str, Any] = {}
    for key, value in (server_info or {}).items():
        if len(kept) >= MAX_INFO_FIELDS:
            break
        if type(value) is str:
            kept[str(key)[:MAX_INFO_CHARS]] = value[:MAX_INFO_CHARS]
        elif type(value) in (int, float, bool):
            kept[str(key)[:MAX_INFO_CHARS]] = value
    return kept


def kept_capabilities(capabilities: dict[str, Any] | None) -> dict[str, Any]:
    """The bounded copy of the server's ``capabilities`` a session keeps: MAX_INFO_FIELDS capabilities,
    each an object of at most MAX_INFO_FIELDS scalar settings (``listChanged``, ``subscribe``, …)."""
    kept: dict[str, Any] = {}
    for key, value in (capabilities or {}).items():
        if len(kept) >= MAX_INFO_FIELDS:
            break
        kept[key[:MAX_INFO_CHARS]] = kept_server_info(value) if type(value) is dict else {}
    return kept


def kept_instructions(instructions: str | None) -> str | None:
    return instructions[:MAX_INSTRUCTIONS_CHARS] if instructions is not None else None


def page_problem(key: str, page: Any) -> str | None:
    """Why one page of a ``tools/list`` (``prompts/list``, …) result cannot be used."""
    if type(page) is not list:
        return f"result has no {key!r} list"
    field = _ITEM_KEY.get(key)
    objects = _ITEM_OBJECTS.get(key, ())
    for i, item in enumerate(page):
        if type(item) is not dict:
            return f"{key}[{i}] is not an object: {short(item)}"
        if field is not None and type(item.get(field)) is not str:
            return f"{key}[{i}].{field} is not a string: {short(item.get(field))}"
        for name in objects:
            value = item.get(name)
            if value is not None and type(value) is not dict:
                return f"{key}[{i}].{name} is not an object: {short(value)}"
    return None


def method_name(method: Any) -> str:
    """The name a server message is counted under."""
    if type(method) is str and len(method) <= MAX_NAME_CHARS:
        return method
    return INVALID


def count_name(counter: Counter[str], name: str) -> None:
    """Count ``name``, or OTHER once MAX_NAMES distinct names are kept."""
    if name in counter or len(counter) < MAX_NAMES - 1:
        counter[name] += 1
    else:
        counter[OTHER] += 1
