"""The ``target:`` section: where the server is and how to reach it; becomes an ``mcp.connect.Target``."""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mcpload.inputs import header_problem, url_problem
from mcpload.mcp import eras
from mcpload.redaction import safe_url
from mcpload.scenario.checks import (
    check_keys,
    expect_bool,
    expect_duration,
    expect_int,
    expect_list,
    expect_mapping,
    expect_str,
    join,
    type_name,
)
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean
from mcpload.transports import registry

if TYPE_CHECKING:
    from mcpload.mcp.connect import Target

TRANSPORTS = registry.NAMES  # the one table: mcpload.transports.registry
KEYS = (
    "url",
    "command",
    "transport",
    "protocol",
    "headers",
    "timeout",
    "connect_timeout",
    "insecure",
    "ca_file",
    "listen",
    "oauth",
    "env",
    "inherit_env",
    "max_response_bytes",
    "connections",
)
DEFAULT_MAX_RESPONSE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The target as the scenario describes it (``${ENV}`` already resolved).

    Attributes:
        url: The MCP endpoint (Streamable HTTP, or legacy SSE ending in /sse); or None.
        command: The stdio server command as argv; or None.
        transport: auto | http | sse | stdio.
        protocol: auto or a protocol version (see ``mcpload.mcp.eras``).
        headers: Extra HTTP headers.
        timeout: Per-request timeout, seconds.
        connect_timeout: Connect timeout, seconds.
        insecure: Do not verify TLS certificates.
        ca_file: A PEM file of CA certificates to trust (a private CA, a self-signed server).
        listen: Each session opens the standalone GET stream (Streamable HTTP, handshake era), as real
            clients do: its cost on the server is part of the load, and server requests not tied to a
            call (``roots/list`` after initialize) reach the client.
        env: Environment variables for a stdio server process, over the few it inherits (``PATH``,
            ``HOME``, … see ``mcpload.transports.stdio.INHERITED_ENV_VARS``).
        inherit_env: Pass mcpload's whole environment to a stdio server (default: only those few).
        max_response_bytes: The largest response accepted; a bigger one is a ``protocol`` error.
        connections: ``own`` (each session its own keep-alive connection), ``shared`` or
            ``shared:N`` (HTTP: a process's sessions share a pool of N connections, default 64).
    """

    url: str | None = None
    command: tuple[str, ...] | None = None
    transport: str = "auto"
    protocol: str = "auto"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    connect_timeout: float = 10.0
    insecure: bool = False
    ca_file: str | None = None
    listen: bool = False
    oauth: Any = None  # mcpload.mcp.oauth.OAuthConfig
    env: Mapping[str, str] | None = None
    inherit_env: bool = False
    max_response_bytes: int = DEFAULT_MAX_RESPONSE
    connections: str = "own"

    def to_target(
        self,
        overrides: TargetOverrides | Mapping[str, Any] | None = None,
        *,
        server_answers: Mapping[str, Any] | None = None,
    ) -> Target:
        """The ``mcpload.mcp.connect.Target`` to connect to, with ``overrides`` applied by the one rule set
        the command line and the Python API share (``TargetOverrides``).

        Args:
            overrides: a ``TargetOverrides``, or a mapping of its field names (``command`` is accepted for
                ``stdio_cmd``; None values are ignored).
            server_answers: canned results for server requests (the scenario's ``answers:``).

        Raises:
            ScenarioError: no URL or command anywhere, an unknown override, or an invalid combination
                (path ``target``).
        """
        try:
            return TargetOverrides.of(overrides).resolve(self, server_answers)
        except ScenarioError:
            raise
        except ValueError as exc:
            raise ScenarioError(str(exc), "target") from None

    def base_target(self, server_answers: Mapping[str, Any] | None = None) -> Target:
        """The ``Target`` this section describes, before any override.

        Raises:
            ScenarioError: no URL or command, or a combination the ``Target`` refuses (path ``target``).
        """
        # Imported here: the scenario model stays importable without the transports stack.
        from mcpload.mcp.connect import Target

        if self.url is None and self.command is None:
            raise ScenarioError(
                "no target: set target.url or target.command, or give one on the command line", "target"
            )
        try:
            return Target(
                url=self.url,
                command=list(self.command) if self.command is not None else None,
                transport="stdio" if self.command is not None and self.transport == "auto" else self.transport,
                protocol=self.protocol,
                headers=dict(self.headers),
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                verify_tls=not self.insecure,
                ca_file=self.ca_file,
                listen=self.listen,
                oauth=self.oauth,
                env=dict(self.env) if self.env else None,
                inherit_env=self.inherit_env,
                max_response_bytes=self.max_response_bytes,
                connections=self.connections,
                server_answers=dict(server_answers) if server_answers else None,
            )
        except (TypeError, ValueError) as exc:
            raise ScenarioError(str(exc), "target") from None


def parse_target(value: Any, path: str = "target") -> TargetSpec:
    """The ``target:`` mapping.

    Raises:
        ScenarioError: with the path of the offending value.
    """
    check_keys(expect_mapping(value, path), KEYS, path)
    url = command = None
    if "url" in value and "command" in value:
        raise ScenarioError("give either url or command, not both", path)
    if "url" in value:
        url = expect_str(value["url"], join(path, "url"))
        problem = url_problem(url)
        if problem:
            shown = repr(safe_url(url)[:200])  # never a password or api_key in a message
            message = f"{problem}: {shown}" if problem.startswith("not an") else f"{shown}: {problem}"
            raise ScenarioError(message, join(path, "url"))
    elif "command" in value:
        command = _command(value["command"], join(path, "command"))
    transport = expect_str(value.get("transport", "auto"), join(path, "transport"))
    if transport not in TRANSPORTS:
        hint = did_you_mean(transport, TRANSPORTS) or f" (use one of {', '.join(TRANSPORTS)})"
        raise ScenarioError(f"unknown transport '{transport}'{hint}", join(path, "transport"))
    mismatch = registry.needs_problem(transport, has_url=url is not None, url_word="url")
    if mismatch and (url is not None or command is not None):
        raise ScenarioError(mismatch, join(path, "transport"))
    protocol = value.get("protocol", "auto")
    if isinstance(protocol, datetime.date):  # yaml.safe_load reads 2025-06-18 as a date
        protocol = protocol.isoformat()
    try:
        eras.check_protocol(protocol)
    except ValueError as exc:
        raise ScenarioError(str(exc), join(path, "protocol")) from None
    spec = TargetSpec(
        url=url,
        command=command,
        transport=transport,
        protocol=protocol,
        headers=_strings(value.get("headers", {}), join(path, "headers"), header=True),
        timeout=_positive(value.get("timeout", 30.0), join(path, "timeout")),
        connect_timeout=_positive(value.get("connect_timeout", 10.0), join(path, "connect_timeout")),
        insecure=expect_bool(value.get("insecure", False), join(path, "insecure")),
        ca_file=expect_str(value["ca_file"], join(path, "ca_file")) if value.get("ca_file") is not None else None,
        listen=expect_bool(value.get("listen", False), join(path, "listen")),
        oauth=_oauth(value["oauth"], join(path, "oauth")) if value.get("oauth") is not None else None,
        env=_strings(value["env"], join(path, "env")) if "env" in value else None,
        inherit_env=expect_bool(value.get("inherit_env", False), join(path, "inherit_env")),
        max_response_bytes=expect_int(
            value.get("max_response_bytes", DEFAULT_MAX_RESPONSE), join(path, "max_response_bytes"), minimum=1024
        ),
        connections=_connections(value.get("connections", "own"), join(path, "connections")),
    )
    return spec


def _oauth(value: Any, path: str) -> Any:
    """``oauth: {client_id, client_secret_env, token_url?, scope?, shared?}`` (client credentials)."""
    from mcpload.mcp.oauth import OAuthConfig

    body = expect_mapping(value, path, "a mapping {client_id, client_secret_env, token_url, scope, shared}")
    keys = ("client_id", "client_secret_env", "token_url", "scope", "shared")
    check_keys(body, keys, path, required=("client_id", "client_secret_env"))
    secret_env = expect_str(body["client_secret_env"], join(path, "client_secret_env"))
    if not secret_env.replace("_", "").isalnum():
        raise ScenarioError("the name of an environment variable (the secret stays out of files)", path)
    token_url = body.get("token_url")
    if token_url is not None:
        token_url = expect_str(token_url, join(path, "token_url"))
        if not token_url.startswith(("https://", "http://")):
            raise ScenarioError(f"an http(s) URL, got {token_url!r}", join(path, "token_url"))
    scope = body.get("scope")
    return OAuthConfig(
        client_id=expect_str(body["client_id"], join(path, "client_id")),
        client_secret_env=secret_env,
        token_url=token_url,
        scope=None if scope is None else expect_str(scope, join(path, "scope")),
        shared=expect_bool(body.get("shared", False), join(path, "shared")),
    )


def _connections(value: Any, path: str) -> str:
    """``own``, ``shared`` or ``shared:N`` (as ``mcpload.mcp.connect.parse_connections``)."""
    mode, sep, size = value.partition(":") if isinstance(value, str) else ("", "", "")
    pool = size.isdigit() and len(size) <= 6 and 1 <= int(size) <= 100_000
    if isinstance(value, str) and ((mode == "own" and not sep) or (mode == "shared" and (not sep or pool))):
        return value
    shown = repr(value)[:40]
    raise ScenarioError(f"expected own, shared or shared:N (1 ≤ N ≤ 100,000 connections), got {shown}", path)


def _command(value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ScenarioError(f"cannot split the command: {exc}", path) from None
    else:
        argv = [expect_str(item, join(path, i)) for i, item in enumerate(expect_list(value, path))]
    if not argv:
        raise ScenarioError("the command is empty", path)
    return tuple(argv)


def _strings(value: Any, path: str, *, header: bool = False) -> dict[str, str]:
    result = {}
    for key, item in expect_mapping(value, path).items():
        at = join(path, key)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ScenarioError(f"expected a string, got {type_name(item)}", at)
        text = str(item)
        problem = header_problem(key, text) if header else None
        if problem:
            raise ScenarioError(problem, at)
        result[key] = text
    return result


def _positive(value: Any, path: str) -> float:
    return expect_duration(value, path, positive=True)


@dataclass(frozen=True, slots=True)
class TargetOverrides:
    """Changes to a scenario's target: the one rule set of the command line (``run``, ``capacity``,
    ``replay``, a Ray actor rebuilding the run) and of the Python API (``Scenario.to_target``,
    ``run_load``, the ``mcpload_run`` fixture). None (or False, or no headers) leaves the scenario's value.

    The rules (docs/scenario-format.md, "Target"):

    - ``url`` replaces the scenario's ``command``; a transport pinned to ``stdio`` goes back to ``auto``,
      one pinned to ``http`` or ``sse`` is kept.
    - ``stdio_cmd`` (a shell-quoted string or an argv list) replaces the scenario's ``url``; the
      transport becomes ``stdio``. A scenario without a place (no ``target:``, or one without ``url``
      and ``command``) takes it from ``url`` or ``stdio_cmd``.
    - ``transport``, ``protocol``, ``bearer_env``, ``connections`` replace the scenario's (after the two
      rules above: an explicit transport wins).
    - ``headers`` (``'Name: value'`` strings as ``-H`` gives them, or a mapping) are added to the
      scenario's, a name given again replaced.
    - ``insecure`` turns TLS verification off and drops the scenario's ``ca_file``; ``ca_file`` turns it
      back on over the scenario's ``insecure``; both together are refused.
    - ``url`` and ``stdio_cmd`` together are refused (two servers).
    """

    url: str | None = None
    stdio_cmd: str | Sequence[str] | None = None
    transport: str | None = None
    protocol: str | None = None
    headers: Sequence[str] | Mapping[str, str] = ()
    bearer_env: str | None = None
    connections: str | None = None
    insecure: bool = False
    ca_file: str | None = None

    @classmethod
    def of(cls, overrides: TargetOverrides | Mapping[str, Any] | None) -> TargetOverrides:
        """``overrides`` as a ``TargetOverrides``: a mapping names its fields (``command`` for
        ``stdio_cmd``, as the Python API calls it); None values are ignored.

        Raises:
            ScenarioError: a name that is not an override (path ``target``).
        """
        if isinstance(overrides, TargetOverrides):
            return overrides
        given = {key: value for key, value in (overrides or {}).items() if value is not None}
        if "command" in given:
            given["stdio_cmd"] = given.pop("command")
        unknown = sorted(set(given) - set(OVERRIDES))
        if unknown:
            raise ScenarioError(f"{unknown[0]!r} is not a target override (use {', '.join(OVERRIDES)})", "target")
        return cls(**given)

    def resolve(self, spec: TargetSpec | None, server_answers: Mapping[str, Any] | None = None) -> Target:
        """The ``Target`` of ``spec`` (the scenario's ``target:``, or None) with these changes.

        Raises:
            ScenarioError: the scenario's own target (none anywhere, or one the ``Target`` refuses).
            ValueError: the changes (options that exclude each other, a bad header, URL or field).
        """
        self.check()
        if spec is None or (spec.url is None and spec.command is None):
            spec = self._place(spec or TargetSpec())
        return self.apply(spec.base_target(server_answers))

    def _place(self, spec: TargetSpec) -> TargetSpec:
        """``spec`` (which names no server) placed by ``url``, else ``stdio_cmd``; ``apply`` then sets the
        transport by the rules above."""
        if self.url is not None:
            return replace(spec, url=self.url, transport="auto" if spec.transport == "stdio" else spec.transport)
        if self.stdio_cmd is not None:
            return replace(spec, command=tuple(self._argv(self.stdio_cmd)), transport="auto")
        return spec

    def apply(self, target: Target) -> Target:
        """``target`` with these changes.

        Raises:
            ValueError: ``insecure`` with ``ca_file``, a bad header, or a field the ``Target`` refuses.
        """
        changes: dict[str, Any] = {}
        if self.insecure:
            changes.update(verify_tls=False, ca_file=None)
        if self.ca_file is not None:
            changes.update(ca_file=self.ca_file, verify_tls=True)
        if self.url is not None:
            changes.update(url=self.url, command=None)
        if self.stdio_cmd is not None:
            changes.update(command=self._argv(self.stdio_cmd), url=None, transport="stdio")
        if self.transport is not None:
            changes["transport"] = self.transport
        if self.protocol is not None:
            changes["protocol"] = self.protocol
        if self.headers:
            changes["headers"] = {**target.headers, **self._header_map()}
        if self.bearer_env is not None:
            changes["bearer_env"] = self.bearer_env
        if self.connections is not None:
            changes["connections"] = self.connections
        if self.url is not None and target.transport == "stdio" and self.transport is None:
            changes["transport"] = "auto"
        return replace(target, **changes) if changes else target

    def check(self) -> None:
        """Raises ValueError on changes that exclude each other (before the scenario's target is made)."""
        if self.insecure and self.ca_file is not None:
            raise ValueError("--insecure and --ca-file exclude each other")
        if self.url is not None and self.stdio_cmd is not None:  # two servers: neither may win silently
            raise ValueError("--url and --stdio-cmd exclude each other: give the server one way")

    def _header_map(self) -> dict[str, str]:
        from mcpload.inputs import parse_headers

        if isinstance(self.headers, Mapping):
            return dict(self.headers)  # each checked by the Target, as the scenario's own headers are
        return parse_headers(self.headers)

    @staticmethod
    def _argv(command: str | Sequence[str]) -> list[str]:
        return shlex.split(command) if isinstance(command, str) else list(command)


#: the fields of ``TargetOverrides``, in order (the names a mapping of overrides may use)
OVERRIDES = tuple(TargetOverrides.__dataclass_fields__)
