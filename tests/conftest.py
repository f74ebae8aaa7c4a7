"""Fixtures: real servers on free loopback ports (the SDK demo server, the npm reference server)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpload.demo.launch import demo_server, free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
NPM_BIN = ROOT / ".npm-ref" / "node_modules" / ".bin"
EVERYTHING = ROOT / ".npm-ref" / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
REQUIRE_SYSTEM = os.environ.get("MCPLOAD_REQUIRE_SYSTEM_TESTS") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip when a system prerequisite is missing — or fail when CI says it must be there."""
    if condition:
        return
    if REQUIRE_SYSTEM:
        pytest.fail(f"required for this run (MCPLOAD_REQUIRE_SYSTEM_TESTS=1): {reason}")
    pytest.skip(reason)


def node_binary() -> str | None:
    local = NPM_BIN / "node"
    return str(local) if local.exists() else shutil.which("node")


def everything_cmd(mode: str) -> list[str]:
    node = node_binary()
    need(node is not None and EVERYTHING.exists(), "server-everything not installed (run `make npm-ref`)")
    return [node, str(EVERYTHING), mode]


@pytest.fixture(scope="session")
def demo_url() -> Iterator[str]:
    """Stateful Streamable HTTP demo server (SSE responses)."""
    with demo_server(extra_args=("--latency", "1")) as url:
        yield url


@pytest.fixture(scope="session")
def demo_stateless_url() -> Iterator[str]:
    with demo_server(extra_args=("--stateless", "--latency", "1")) as url:
        yield url


@pytest.fixture(scope="session")
def demo_json_url() -> Iterator[str]:
    with demo_server(extra_args=("--json-response", "--latency", "1")) as url:
        yield url


@pytest.fixture(scope="session")
def demo_sse_url() -> Iterator[str]:
    with demo_server(transport="sse", extra_args=("--latency", "1")) as url:
        yield url


@pytest.fixture(scope="session")
def demo_stdio_cmd() -> list[str]:
    return [sys.executable, "-m", "mcpload.cli", "serve-demo", "--transport", "stdio", "--latency", "1"]


def _run_everything(mode: str) -> Iterator[str]:
    cmd = everything_cmd(mode)
    port = free_port()
    # GZIP_ALLOWED_DOMAINS keeps the server from fetching anything off this machine
    env = {**os.environ, "PORT": str(port), "GZIP_ALLOWED_DOMAINS": "127.0.0.1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        yield f"http://127.0.0.1:{port}" + ("/sse" if mode == "sse" else "/mcp")
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def everything_url() -> Iterator[str]:
    yield from _run_everything("streamableHttp")


@pytest.fixture(scope="session")
def everything_sse_url() -> Iterator[str]:
    yield from _run_everything("sse")


@pytest.fixture
def everything_stdio_cmd() -> list[str]:
    return everything_cmd("stdio")
