"""What of a call's arguments reaches the trace: values of secret-looking keys and values matching
``--redact`` patterns become a keyed hash (the same value gives the same hash in one trace, so
"the same token again" stays visible); ``--no-args`` keeps only each argument's type.

The hash is HMAC-SHA256 with a key that never leaves the recorder (random per recording, or taken
from an environment variable to make several traces comparable), cut to 12 hex digits: enough to
tell values apart, useless to guess a secret offline without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from typing import Any

#: key names whose values are always hashed (matched anywhere in the key, case-insensitive)
SENSITIVE_KEYS = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|auth|credential|cookie|private[_-]?key|session[_-]?id"
    r"|signature|bearer|jwt|otp|pin$|ssn|card[_-]?number|cvv",
    re.IGNORECASE,
)
HASH_PREFIX = "redacted:"
_MAX_DEPTH = 32
_MAX_ITEMS = 1000  # per container: a huge argument is cut (and marked), never copied whole


class Redactor:
    """Redacts argument objects before they are written.

    Args:
        patterns: Regular expressions; a string value in which one matches is hashed.
        keep_args: False for ``--no-args``: arguments become their shape (types only).
        key: The HMAC key (default: random, or the bytes of ``$MCPLOAD_TRACE_KEY`` when set).

    Raises:
        ValueError: a pattern is not a valid regular expression (the message names it).
    """

    def __init__(self, patterns: Iterable[str] = (), keep_args: bool = True, key: bytes | None = None) -> None:
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise ValueError(f"--redact {pattern!r}: not a regular expression ({exc})") from None
        self.patterns = tuple(compiled)
        self.keep_args = keep_args
        env_key = os.environ.get("MCPLOAD_TRACE_KEY")
        self._key = key if key is not None else env_key.encode() if env_key else os.urandom(32)

    def describe(self) -> dict[str, Any]:
        """The header's ``redaction`` field (never the key or the patterns' text: they may name secrets)."""
        return {
            "args": "redacted" if self.keep_args else "shape",
            "patterns": len(self.patterns),
            "hash": "hmac-sha256/12",
            "keyed_by_env": "MCPLOAD_TRACE_KEY" in os.environ,
        }

    def hash(self, value: Any) -> str:
        """The stable keyed hash of a value, as written in traces: ``redacted:<12 hex>``."""
        data = value.encode() if isinstance(value, str) else repr(value).encode()
        return HASH_PREFIX + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:12]

    def arguments(self, value: Any) -> Any:
        """The arguments as written to the trace (None for ``--no-args``: use ``shape``)."""
        if not self.keep_args:
            return None
        return self._redact(value, 0)

    def text(self, value: str) -> str:
        """A free string (a resource URI): hashed when a pattern matches it."""
        return self.hash(value) if any(p.search(value) for p in self.patterns) else value

    def _redact(self, value: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return "<too deep>"
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= _MAX_ITEMS:
                    out["<cut>"] = len(value) - _MAX_ITEMS
                    break
                key = str(k)
                out[key] = self.hash(v) if SENSITIVE_KEYS.search(key) and v is not None else self._redact(v, depth + 1)
            return out
        if isinstance(value, list):
            return [self._redact(v, depth + 1) for v in value[:_MAX_ITEMS]]
        if isinstance(value, str) and self.patterns and any(p.search(value) for p in self.patterns):
            return self.hash(value)
        return value


def shape(value: Any, depth: int = 0) -> Any:
    """The shape of a JSON value: ``{"query": "str", "limit": "int", "tags": ["str"]}`` (no values)."""
    if depth > _MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {str(k): shape(v, depth + 1) for k, v in list(value.items())[:_MAX_ITEMS]}
    if isinstance(value, list):
        kinds = []
        for item in value[:_MAX_ITEMS]:
            s = shape(item, depth + 1)
            if s not in kinds:
                kinds.append(s)
        return kinds
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "null" if value is None else type(value).__name__
