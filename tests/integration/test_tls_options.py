"""--insecure and --ca-file (issue 14 §1, TLS) against the demo server over HTTPS on loopback, with a
self-signed certificate made by ``cryptography``: a certificate error says what failed and names the
options; each option makes run, capacity and diagnose connect."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpload.demo.launch import free_port, stop_process, wait_for_port
from tests.helpers import mcpload
from tests.https_demo import make_cert

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def https_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = make_cert(folder)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "https_demo.py"), str(port), str(cert), str(key)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        yield f"https://127.0.0.1:{port}/mcp", cert
    finally:
        stop_process(proc)


AD_HOC = ("--tool", "search_docs", "--args", '{"query": "x"}', "--agents", "1", "--duration", "1s", "-q")


def test_certificate_error_names_the_options(https_server, tmp_path):
    url, _ = https_server
    proc = mcpload("run", "--url", url, *AD_HOC, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "certificate" in lines[0] and "self-signed" in lines[0], lines[0]
    assert "--ca-file" in lines[0] and "--insecure" in lines[0]
    diag = mcpload("diagnose", url, "--no-calls", cwd=tmp_path)
    assert diag.returncode == 3 and "--ca-file" in diag.stdout + diag.stderr


@pytest.mark.parametrize("option", ["--insecure", "--ca-file"])
def test_run_and_diagnose_connect_with_the_option(https_server, tmp_path, option):
    url, cert = https_server
    extra = ["--insecure"] if option == "--insecure" else ["--ca-file", str(cert)]
    proc = mcpload("run", "--url", url, *AD_HOC, "--out", "r.json", *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "tools/call search_docs" in proc.stdout and "100.00%" in proc.stdout
    diag = mcpload("diagnose", url, "--no-calls", *extra, cwd=tmp_path)
    assert diag.returncode == 0, diag.stdout + diag.stderr


def test_capacity_takes_the_options(https_server, tmp_path):
    url, cert = https_server
    args = ("capacity", "--url", url, "--tool", "search_docs", "--args", '{"query": "x"}', "--slo", "p95<2s")
    args += ("--max-load", "1", "--step-duration", "1s", "--warmup", "0s", "-q", "--out", "c.json")
    refused = mcpload(*args, cwd=tmp_path)
    assert refused.returncode == 3 and "--ca-file" in refused.stderr, refused.stderr
    ok = mcpload(*args, "--ca-file", str(cert), cwd=tmp_path)
    assert ok.returncode in (0, 1), ok.stderr  # measured: capacity found (or not) at one agent
    assert (tmp_path / "c.json").exists()


def test_bad_ca_file_is_one_line_exit_2(https_server, tmp_path):
    url, _ = https_server
    (tmp_path / "bad.pem").write_text("not a certificate")
    for path in ("bad.pem", "missing.pem"):
        proc = mcpload("run", "--url", url, *AD_HOC, "--ca-file", path, cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert f"--ca-file {path}" in proc.stderr
    both = mcpload("run", "--url", url, *AD_HOC, "--insecure", "--ca-file", "bad.pem", cwd=tmp_path)
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_replay_takes_the_options(https_server, tmp_path):
    from tests.traffic.test_replay import trace_file

    url, cert = https_server
    trace = trace_file(tmp_path / "t.jsonl", sessions=1, gap=0.1)
    args = ("replay", str(trace), "--url", url, "--speed", "4", "-q", "--out", "r.json", "--workers", "1")
    refused = mcpload(*args, cwd=tmp_path)
    assert refused.returncode == 3 and "--ca-file" in refused.stderr, refused.stderr
    ok = mcpload(*args, "--ca-file", str(cert), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert '"tools/call search_docs"' in (tmp_path / "r.json").read_text()
