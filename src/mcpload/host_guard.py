"""A guard against pointing a big test at production by mistake.

A run whose target is not on this machine (loopback) starts with a one-line notice: the host, the
agents and the peak rate. Allow lists — ``--allow-host`` on the command line, ``allow_hosts`` in the
scenario, ``MCPLOAD_ALLOW_HOSTS`` (comma-separated) in the environment — make any other host an
error. Without a list everything is allowed (the default stays permissive); loopback always is.
Names are not resolved: ``localhost`` and loopback addresses count as loopback, any other name as
remote.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

ENV = "MCPLOAD_ALLOW_HOSTS"


class HostNotAllowed(ValueError):
    """The target's host is on no allow list."""


def target_host(url: str | None) -> str | None:
    """The host of an HTTP target (lower case, no brackets); None for a stdio target."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name, an address, an IPv6 address in brackets) is this machine: ``localhost``
    and names under it (RFC 6761), 127.0.0.0/8, ::1. The one test for targets and for mcpload's own
    listeners (Prometheus, the dashboard, the recording proxy, the demo server)."""
    name = host.strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allow_list(
    cli: Iterable[str] | None, scenario: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> list[str]:
    """The union of the three allow lists, lower case; [] when none is given."""
    env = os.environ if env is None else env
    hosts = [*(cli or ()), *scenario, *env.get(ENV, "").split(",")]
    return sorted({h.strip().lower().rstrip(".") for h in hosts if h.strip()})


def matches(host: str, pattern: str) -> bool:
    """``pattern`` is a host name or address, or ``*.example.com`` for every name under example.com."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern.strip("[]")


def check(host: str | None, allowed: list[str]) -> None:
    """Raises HostNotAllowed when an allow list is given and ``host`` (not loopback) is not on it."""
    if host is None or not allowed or is_loopback(host) or any(matches(host, p) for p in allowed):
        return
    raise HostNotAllowed(
        f"target host {host} is not allowed (allowed: {', '.join(allowed)}; from --allow-host, the scenario's "
        f"allow_hosts and ${ENV})"
    )


def notice(host: str | None, load: str) -> str | None:
    """The one-line notice for a target that is not loopback; None for loopback or stdio."""
    if host is None or is_loopback(host):
        return None
    return f"mcpload: target {host} is not this machine: {load}"
