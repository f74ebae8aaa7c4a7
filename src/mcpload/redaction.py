"""Secrets the user gave us, kept out of every output; and server text made safe for a terminal.

What counts as a secret (collected by ``target_secrets``, redacted as ``***`` by ``redact``):

* values that ``${VAR}`` took from the environment (the scenario loader collects those);
* every header value given with ``-H`` or ``target.headers`` (bar a few harmless ones such as
  ``Accept``), also without its scheme (``Bearer abc`` → ``abc`` too);
* the bearer token read from ``--bearer-env``;
* the user name and password of a URL (``https://user:pass@host``), also as HTTP Basic
  credentials (base64 of ``user:pass``), and the decoded ``user:pass`` of a ``Basic`` header;
* the values of URL query parameters whose name hints at a credential (``api_key``, ``token``,
  ``key``, ``secret``, ``password``, ``sig``, ``auth``…), raw, decoded and re-encoded, since a
  server may echo any of those forms.

Values shorter than ``MIN_SECRET`` characters are not redacted (replacing ``1`` in every string
would destroy the outputs and protect nothing).

``neutralise`` turns terminal control sequences (ESC, CSI, OSC 8 links, other C0/C1 controls) in
text that came from the server into visible escapes before the console shows it.

A leaf: it imports nothing of ours.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit, urlunsplit

MIN_SECRET = 4
MASK = "***"
_SENSITIVE = re.compile(r"key|token|secret|pass|pwd|auth|sig|credential|session|cookie|code|jwt|bearer", re.I)
#: header values that are never secrets (redacting "application/json" everywhere would only hurt)
PLAIN_HEADERS = frozenset({"accept", "accept-encoding", "accept-language", "content-type", "user-agent"})
# Every C0 control but tab and newline, DEL, and the C1 controls (U+0080–U+009F: 8-bit CSI, OSC…).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _forms(value: str) -> set[str]:
    """A secret as a server may echo it: as given, percent-decoded, and percent-encoded."""
    forms = {value, unquote(value), quote(value, safe=""), quote_plus(value, safe="")}
    return {f for f in forms if len(f) >= MIN_SECRET}


def url_secrets(url: str | None) -> set[str]:
    """The user name, password and credential-like query values of ``url``."""
    if not url:
        return set()
    try:
        parts = urlsplit(url)
        found: set[str] = set()
        for value in (parts.username, parts.password):
            if value:
                found |= _forms(value)
        if parts.username and parts.password:  # as HTTP Basic credentials would carry them
            found |= _forms(base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password)}".encode()).decode())
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if _SENSITIVE.search(name) and value:
                found |= _forms(value)
        # parse_qsl decodes; the raw forms as written in the URL
        for pair in parts.query.split("&"):
            name, _, value = pair.partition("=")
            if value and _SENSITIVE.search(unquote(name)):
                found |= _forms(value)
    except ValueError:
        return set()
    return found


def header_secrets(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> set[str]:
    """Every header value (bar ``PLAIN_HEADERS``), also without its scheme word (``Bearer``)."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    found: set[str] = set()
    for name, value in pairs:
        if str(name).strip().lower() in PLAIN_HEADERS:
            continue
        text = str(value).strip()
        found |= _forms(text)
        scheme, _, rest = text.partition(" ")
        if rest.strip() and scheme.isalpha():
            found |= _forms(rest.strip())
            if scheme.lower() == "basic":  # the decoded user:password, and the password alone
                try:
                    decoded = base64.b64decode(rest.strip(), validate=True).decode()
                except ValueError:
                    decoded = ""
                found |= _forms(decoded) | _forms(decoded.partition(":")[2])
    return found


def target_secrets(target: Any) -> frozenset[str]:
    """The secrets of a ``mcpload.mcp.connect.Target`` (or a ``TargetSpec``): its URL, headers and bearer token."""
    import os

    found = url_secrets(getattr(target, "url", None)) | header_secrets(getattr(target, "headers", None))
    bearer_env = getattr(target, "bearer_env", None)
    if bearer_env and os.environ.get(bearer_env):
        found |= _forms(os.environ[bearer_env].strip())
    for word in getattr(target, "command", None) or ():  # a stdio command's URL-like or key=value words
        found |= url_secrets(word) if "://" in word else set()
    return frozenset(found)


def safe_url(url: str) -> str:
    """``url`` with its user info and credential-like query values masked (for messages)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:  # a user name may be a token too (https://TOKEN@host)
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{MASK}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
        query = "&".join(
            f"{name}={MASK}" if value and _SENSITIVE.search(unquote(name)) else pair
            for pair in parts.query.split("&")
            for name, _, value in [pair.partition("=")]
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query if parts.query else "", parts.fragment))
    except ValueError:
        return url


def ordered_secrets(secrets: Iterable[str]) -> tuple[str, ...]:
    """The secrets worth masking (``MIN_SECRET`` characters or more: masking a shorter one would mangle
    the text, a JSON document included), longest first so that no part of a longer one survives."""
    return tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True))


def mask(text: str, ordered: tuple[str, ...]) -> str:
    """``text`` with every one of ``ordered`` (``ordered_secrets``) replaced by ``***``."""
    for secret in ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first, so no part of one survives)."""
    return mask(text, ordered_secrets(secrets))


def redact_all(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (a JSON document) with every secret masked in every string, keys included; dicts and lists
    (tuples become lists) are copied."""
    return _mask_all(value, ordered_secrets(secrets))


def _mask_all(value: Any, ordered: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return mask(value, ordered)
    if isinstance(value, dict):
        return {_mask_all(k, ordered): _mask_all(v, ordered) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_all(v, ordered) for v in value]
    return value


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return "^[" if code == 0x1B else f"\\x{code:02x}"


def neutralise(text: Any) -> str:
    """Server text made harmless for a terminal: control characters shown as ``^[`` or ``\\xNN``.

    ESC (and so CSI ``ESC [``, OSC ``ESC ]`` including OSC 8 links), BEL, backspace, carriage
    return, the 8-bit C1 controls and the other C0 controls lose their effect; tab and newline stay.
    """
    text = text if isinstance(text, str) else str(text)
    return _CONTROLS.sub(_visible, text) if _CONTROLS.search(text) else text


def terminal_safe(value: Any, skip: frozenset[str] = frozenset({"intervals"})) -> Any:
    """``value`` with every string (keys too) passed through ``neutralise``; keys in ``skip`` dropped
    from dicts (the per-second intervals: the summary does not show them, and they are many)."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {terminal_safe(k): terminal_safe(v, skip) for k, v in value.items() if k not in skip}
    if isinstance(value, list | tuple):
        return [terminal_safe(v, skip) for v in value]
    return value


#: secrets the console must never show (the CLI adds the options', the scenario's and the target's)
CONSOLE_SECRETS: set[str] = set()


class RedactingStream:
    """A text stream that writes through ``redact(text, CONSOLE_SECRETS)``: the last guard of the console
    (one-line errors, ``--debug`` tracebacks, rich tables), whatever printed it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if CONSOLE_SECRETS and isinstance(text, str):
            text = redact(text, CONSOLE_SECRETS)
        written: int = self._stream.write(text)
        return written

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def option_secrets(argv: list[str]) -> set[str]:
    """Secrets in a command line: ``-H``/``--header`` values, URLs (``--url``, ``--otlp``, arguments),
    and the token behind ``--bearer-env``; read before any command runs, so even a load-time error
    message cannot show them."""
    import os

    found: set[str] = set()
    for i, arg in enumerate(argv):
        name, eq, inline = arg.partition("=")
        value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if name in ("-H", "--header") or (arg.startswith("-H") and len(arg) > 2):
            raw = arg[2:] if arg.startswith("-H") and len(arg) > 2 else value
            header, _, text = raw.partition(":")
            found |= header_secrets([(header, text)])
        elif name == "--bearer-env" and os.environ.get(value):
            found |= _forms(os.environ[value].strip())
        if "://" in arg:
            found |= url_secrets(inline if eq and "://" in inline else arg)
    return found
