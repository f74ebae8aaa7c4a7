"""An OAuth 2.1 protected MCP server for the client-credentials tests: the demo MCP server behind a
bearer-token check, with an authorization server built on ``authlib`` (its RFC 6749 server and
client-credentials grant; only the HTTP glue is here), and the discovery documents (RFC 9728
protected resource metadata, RFC 8414 authorization server metadata).

``python tests/oauth_demo.py PORT`` serves until killed (with ``AUTHLIB_INSECURE_TRANSPORT=1``: plain
HTTP on loopback). Client ``mcpload`` / secret ``s3cret``. Tokens
live ``TOKEN_TTL`` seconds; ``POST /admin/revoke`` forgets every token (a 401 mid-run);
``GET /admin/stats`` says how many tokens were issued and requests refused.
"""

from __future__ import annotations

import secrets
import sys
import time
from urllib.parse import parse_qsl

TOKEN_TTL = 3
CLIENT_ID, CLIENT_SECRET = "mcpload", "s3cret"


def build_app(port: int):
    from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
    from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
    from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Mount, Route

    from mcpload.demo.server import build_server

    base = f"http://127.0.0.1:{port}"
    tokens: dict[str, float] = {}
    stats = {"issued": 0, "refused": 0, "metadata_via_challenge": 0}

    class Client(ClientMixin):
        def get_client_id(self):
            return CLIENT_ID

        def get_allowed_scope(self, scope):
            return scope or "mcp"

        def check_client_secret(self, client_secret):
            return secrets.compare_digest(client_secret, CLIENT_SECRET)

        def check_endpoint_auth_method(self, method, endpoint):
            return method in ("client_secret_basic", "client_secret_post")

        def check_grant_type(self, grant_type):
            return grant_type == "client_credentials"

    class Server(AuthorizationServer):
        def query_client(self, client_id):
            return Client() if client_id == CLIENT_ID else None

        def save_token(self, token, request):
            tokens[token["access_token"]] = time.monotonic() + token["expires_in"]
            stats["issued"] += 1

        def send_signal(self, name, *args, **kwargs):
            pass

        def create_oauth2_request(self, request):
            method, uri, headers, form = request
            req = OAuth2Request(method, uri, headers=headers)
            req.payload = BasicOAuth2Payload(form)
            return req

        def handle_response(self, status, body, headers):
            return JSONResponse(body, status_code=status, headers=dict(headers))

    def bearer(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        return {"token_type": "Bearer", "access_token": secrets.token_urlsafe(24), "expires_in": TOKEN_TTL}

    server = Server()
    server.register_grant(ClientCredentialsGrant)
    server.register_token_generator("default", bearer)

    async def token(request):
        form = dict(parse_qsl((await request.body()).decode()))
        headers = {k.title(): v for k, v in request.headers.items()}
        return server.create_token_response((request.method, str(request.url), headers, form))

    async def resource_metadata(request):
        if request.url.path == "/meta/mcp":  # where only the 401's WWW-Authenticate points
            stats["metadata_via_challenge"] += 1
        return JSONResponse({"resource": f"{base}/mcp", "authorization_servers": [base]})

    async def as_metadata(request):
        return JSONResponse(
            {
                "issuer": base,
                "token_endpoint": f"{base}/token",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def revoke(request):
        tokens.clear()
        return JSONResponse({"revoked": True})

    async def show_stats(request):
        return JSONResponse(stats)

    mcp = build_server().streamable_http_app(stateless_http=True, json_response=True, host="127.0.0.1")

    class Protected:
        """The MCP app, for requests with a live bearer token only (else 401, pointing at the metadata)."""

        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http":
                auth = dict(scope["headers"]).get(b"authorization", b"").decode()
                live = tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
                if live is None or live < time.monotonic():
                    stats["refused"] += 1
                    challenge = f'Bearer resource_metadata="{base}/meta/mcp"'
                    response = Response("unauthorized", 401, {"WWW-Authenticate": challenge})
                    await response(scope, receive, send)
                    return
            await self.app(scope, receive, send)

    routes = [
        Route("/token", token, methods=["POST"]),
        Route("/.well-known/oauth-protected-resource/mcp", resource_metadata),
        Route("/meta/mcp", resource_metadata),
        Route("/.well-known/oauth-authorization-server", as_metadata),
        Route("/admin/revoke", revoke, methods=["POST"]),
        Route("/admin/stats", show_stats),
        Mount("/", Protected(mcp)),
    ]
    app = Starlette(routes=routes, lifespan=lambda _app: mcp.router.lifespan_context(_app))
    return app


def main() -> None:
    import logging

    import uvicorn

    port = int(sys.argv[1])
    logging.getLogger("mcp").setLevel(logging.WARNING)
    uvicorn.run(build_app(port), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
