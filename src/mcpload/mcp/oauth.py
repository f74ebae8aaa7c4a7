"""OAuth 2.1 client credentials for remote MCP servers (the MCP authorization spec's machine-to-machine
extension): discover the token endpoint (RFC 9728 protected resource metadata, then RFC 8414
authorization server metadata), get a token with the ``client_credentials`` grant, refresh it before
it expires, and again when the server answers 401.

Token requests are rare (one per token lifetime per agent, or per run when shared), so they go through
the standard library in a thread rather than the hot-path HTTP client. The client secret comes from
an environment variable and never appears in a message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

_RESOURCE_METADATA = re.compile(r'resource_metadata\s*=\s*(?:"([^"]{1,2000})"|([^\s,]{1,2000}))', re.IGNORECASE)
REFRESH_MARGIN = 0.2  # refresh when less than this share of the token's life is left
MAX_DOCUMENT = 256 * 1024


class OAuthError(Exception):
    """Getting a token failed; the message says at which step (never with the secret)."""


@dataclass(frozen=True)
class OAuthConfig:
    """``target.oauth``: ``client_id``, ``client_secret_env`` (the environment variable holding the
    secret), ``token_url`` (default: discovered), ``scope``, ``shared`` (one token for every agent)."""

    client_id: str
    client_secret_env: str
    token_url: str | None = None
    scope: str | None = None
    shared: bool = False


class ClientCredentials:
    """Tokens for one agent (or for all, when shared)."""

    def __init__(
        self,
        config: OAuthConfig,
        resource_url: str,
        tls: ssl.SSLContext | None = None,
        discovered: dict[str, str] | None = None,
    ) -> None:
        """``discovered``: shared by the token sources of one target, so that discovery runs once."""
        self.config = config
        self.resource_url = resource_url
        self.tls = tls
        self.discovered = discovered if discovered is not None else {}
        self.token_url = config.token_url or self.discovered.get("token_url")
        self.access_token: str | None = None
        self.expires_at = 0.0
        self.refresh_at = 0.0
        self.fetched = 0  # tokens obtained
        self._lock: asyncio.Lock | None = None

    def fresh(self) -> bool:
        return self.access_token is not None and time.monotonic() < self.refresh_at

    async def token(self, force: bool = False, stale: str | None = None) -> str:
        """A valid access token; a new one when the current is near its expiry or ``force``. ``stale``:
        the token a caller saw refused: when another caller has replaced it meanwhile, that one is used."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            replaced = stale is not None and self.access_token not in (None, stale)
            if not replaced and (force or not self.fresh()):
                await asyncio.to_thread(self._fetch)
            assert self.access_token is not None
            return self.access_token

    # blocking, in a thread
    def _fetch(self) -> None:
        import os

        secret = os.environ.get(self.config.client_secret_env)
        if not secret:
            raise OAuthError(f"environment variable {self.config.client_secret_env} (client secret) is not set")
        if self.token_url is None:
            self.token_url = self.discovered.get("token_url") or self._discover()
            self.discovered["token_url"] = self.token_url
        form = {"grant_type": "client_credentials", "resource": self.resource_url}
        if self.config.scope:
            form["scope"] = self.config.scope
        basic = base64.b64encode(
            f"{urllib.parse.quote(self.config.client_id, safe='')}:{urllib.parse.quote(secret, safe='')}".encode()
        ).decode()
        request = urllib.request.Request(
            self.token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        doc = self._json(request, "token request")
        token = doc.get("access_token")
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise OAuthError(f"token request to {self.token_url}: no usable access_token in the answer")
        lifetime = doc.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 3600.0
        now = time.monotonic()
        self.access_token = token
        self.expires_at = now + lifetime
        self.refresh_at = now + lifetime * (1 - REFRESH_MARGIN)
        self.fetched += 1

    def _discover(self) -> str:
        """The token endpoint: protected resource metadata (RFC 9728: where the 401's ``WWW-Authenticate``
        says, else at its well-known place) → authorization server metadata (RFC 8414)."""
        parts = urllib.parse.urlsplit(self.resource_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        where = self._challenge() or f"{origin}/.well-known/oauth-protected-resource{parts.path.rstrip('/')}"
        prm = self._json(where, "discovery")
        servers = prm.get("authorization_servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
            raise OAuthError(f"{origin}: protected resource metadata names no authorization server")
        issuer = urllib.parse.urlsplit(servers[0])
        path = issuer.path.rstrip("/")
        meta = self._json(
            f"{issuer.scheme}://{issuer.netloc}/.well-known/oauth-authorization-server{path}", "discovery"
        )
        endpoint = meta.get("token_endpoint")
        if not isinstance(endpoint, str) or urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
            raise OAuthError(f"{servers[0]}: authorization server metadata has no token_endpoint")
        return endpoint

    def _challenge(self) -> str | None:
        """``resource_metadata`` of the ``WWW-Authenticate`` header of an unauthenticated request's 401."""
        probe = urllib.request.Request(
            self.resource_url,
            data=b'{"jsonrpc": "2.0", "id": 0, "method": "ping"}',
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(probe, timeout=10, context=self.tls):
                return None
        except urllib.error.HTTPError as exc:
            header = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
        except (urllib.error.URLError, OSError):
            return None
        match = _RESOURCE_METADATA.search(header[:4096])
        if match is None:
            return None
        url = match.group(1) or match.group(2)
        return url if urllib.parse.urlsplit(url).scheme in ("http", "https") else None

    def _json(self, request: str | urllib.request.Request, what: str) -> dict[str, Any]:
        url = request if isinstance(request, str) else request.full_url
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.tls) as answer:
                body = answer.read(MAX_DOCUMENT + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            try:
                detail = str(json.loads(detail).get("error_description") or json.loads(detail).get("error"))
            except (ValueError, AttributeError):
                detail = " ".join(detail.split())[:200]
            raise OAuthError(f"{what} to {url}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise OAuthError(f"{what} to {url}: {getattr(exc, 'reason', exc)}") from None
        if len(body) > MAX_DOCUMENT:
            raise OAuthError(f"{what} to {url}: the answer is over {MAX_DOCUMENT} bytes")
        try:
            doc = json.loads(body)
        except ValueError:
            raise OAuthError(f"{what} to {url}: the answer is not JSON") from None
        if not isinstance(doc, dict):
            raise OAuthError(f"{what} to {url}: the answer is not a JSON object")
        return doc
