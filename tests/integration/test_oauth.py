"""OAuth client credentials (issue 14 §1) against ``tests/oauth_demo.py``: the demo MCP server behind
bearer tokens issued by an authorization server built on ``authlib`` (its RFC 6749 server and
client-credentials grant). Tokens live 3 s there, so a run of a few seconds refreshes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpload import Target, connect
from mcpload.demo.launch import free_port, stop_process, wait_for_port
from mcpload.engine.execute import run_scenario
from mcpload.mcp.oauth import OAuthConfig
from mcpload.scenario import Scenario

pytest.importorskip("authlib")
ROOT = Path(__file__).resolve().parents[2]
SECRET_ENV = "MCPLOAD_TEST_OAUTH_SECRET"


@pytest.fixture(scope="module")
def oauth_base() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1", "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "oauth_demo.py"), str(port)], env=env, **quiet)
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture
def secret(monkeypatch) -> str:
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    return "s3cret"


def admin(base: str, path: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


async def test_discovery_token_and_a_401_mid_session(oauth_base, secret):
    target = Target(url=f"{oauth_base}/mcp", oauth=OAuthConfig("mcpload", SECRET_ENV))
    session, opened = await connect(target)
    try:
        assert opened.ok, opened
        assert session.auth.token_url == f"{oauth_base}/token"  # discovered: RFC 9728, then RFC 8414
        assert admin(oauth_base, "/admin/stats")["metadata_via_challenge"] >= 1  # from the 401's WWW-Authenticate
        assert (await session.call_tool("search_docs", {"query": "x"})).ok
        admin(oauth_base, "/admin/revoke", "POST")  # every token forgotten: the next call gets a 401
        out = await session.call_tool("search_docs", {"query": "x"})
        assert out.ok and out.retry_of is not None and out.retry_of.http_status == 401, out
        assert session.auth_retries == 1 and session.auth.fetched == 2
    finally:
        await session.close()


async def test_a_wrong_secret_is_one_clear_failure(oauth_base, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "wrong")
    session, opened = await connect(Target(url=f"{oauth_base}/mcp", oauth=OAuthConfig("mcpload", SECRET_ENV)))
    await session.close()
    assert not opened.ok and "OAuth: token request" in opened.error_message and "HTTP 401" in opened.error_message
    assert "wrong" not in opened.error_message


@pytest.mark.parametrize("shared", [False, True])
async def test_a_run_refreshes_tokens_before_they_expire(oauth_base, secret, shared):
    data = {
        "target": {"url": f"{oauth_base}/mcp", "oauth": {"client_id": "mcpload", "client_secret_env": SECRET_ENV,
                                                         "shared": shared}},
        "agents": {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x"}}, {"think": "50ms"}]}},
        "profiles": {"type": "constant-agents", "agents": 2, "duration": "4s"},
    }  # fmt: skip
    before = admin(oauth_base, "/admin/stats")
    res = (await run_scenario(Scenario.from_dict(data, source="<test>"), seed=1)).results
    after = admin(oauth_base, "/admin/stats")
    op = res["operations"]["tools/call search_docs"]
    assert op["calls"] > 20 and op["ok"] == op["calls"], (op, res["top_errors"])
    issued = after["issued"] - before["issued"]
    # 3 s tokens, refreshed at 80 % of their life: 2 s runs need two per token holder, a few more at most
    assert (2 if shared else 4) <= issued <= (4 if shared else 8), issued
    # refreshed before expiry: no call refused; the only 401 is the discovery probe, made once per run
    probes = after["metadata_via_challenge"] - before["metadata_via_challenge"]
    assert after["refused"] - before["refused"] == probes == 1, (before, after)


async def test_a_401_mid_run_is_retried_and_counted(oauth_base, secret):
    """Tokens revoked while a run goes on (at its first interval): each agent's next call gets a 401, a
    new token, one retry; the refused attempts are http_error outcomes, and the results count them."""
    data = {
        "target": {"url": f"{oauth_base}/mcp", "oauth": {"client_id": "mcpload", "client_secret_env": SECRET_ENV}},
        "agents": {"a": {"workflow": [{"call": "search_docs", "args": {"query": "x"}}, {"think": "50ms"}]}},
        "profiles": {"type": "constant-agents", "agents": 2, "duration": "2.5s"},
    }
    revoked = []

    def on_interval(interval, snapshot) -> None:
        if not revoked:  # (a blocking loopback request of a few ms, once)
            revoked.append(admin(oauth_base, "/admin/revoke", "POST"))

    res = (await run_scenario(Scenario.from_dict(data, source="<test>"), seed=1, on_interval=on_interval)).results
    assert revoked
    op = res["operations"]["tools/call search_docs"]
    retried = res["operation_extras"]["oauth"]["retried_after_401"]
    assert retried == 2 and op["errors"] == {"http_error": 2} and op["ok"] == op["calls"] - 2, (op, retried)
