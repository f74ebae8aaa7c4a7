"""`mcpload` as a user runs it: exit codes, one-line errors, diagnose against real servers."""

import functools
import json

import pytest

from mcpload.demo.launch import free_port
from tests.helpers import mcpload

run = functools.partial(mcpload, timeout=90)


def test_help_and_version():
    assert run("--help").returncode == 0
    out = run("version")
    assert out.returncode == 0 and out.stdout.strip()


def test_diagnose_demo_json(demo_url):
    res = run("diagnose", demo_url, "--json")
    assert res.returncode == 0, res.stderr
    diag = json.loads(res.stdout)
    assert diag["era"] == "modern" and diag["transport"] == "http"
    names = {c["name"]: c["status"] for c in diag["checks"]}
    assert names["server/discover"] == "PASS"
    assert names["tools/call search_docs"] == "PASS"
    assert names["ping"] == "SKIP"


def test_diagnose_table_output(demo_sse_url):
    res = run("diagnose", demo_sse_url)
    assert res.returncode == 0, res.stderr
    assert "transport sse" in res.stdout and "PASS" in res.stdout


def test_diagnose_stdio(demo_stdio_cmd):
    res = run("diagnose", "--stdio-cmd", " ".join(demo_stdio_cmd), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["transport"] == "stdio"


@pytest.mark.node
def test_diagnose_everything(everything_url):
    res = run(
        "diagnose",
        everything_url,
        "--json",
        "--skip-tool",
        "gzip-file-as-resource",
        "--skip-tool",
        "trigger-long-running-operation",
    )
    diag = json.loads(res.stdout)
    assert diag["era"] == "handshake"
    statuses = {c["name"]: c["status"] for c in diag["checks"]}
    assert statuses["tools/call echo"] == "PASS" and statuses["ping"] == "PASS"
    assert statuses["tools/call gzip-file-as-resource"] == "SKIP"
    assert res.returncode == (1 if "FAIL" in statuses.values() else 0)


def test_unreachable_is_exit_3_one_line():
    res = run("diagnose", f"http://127.0.0.1:{free_port()}/mcp", "--connect-timeout", "2")
    assert res.returncode == 3
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "not reachable" in err[0] and "Traceback" not in res.stderr


def test_non_mcp_endpoint_is_exit_3():
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def _page(self):
            body = b"<html><body>hello</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        res = run("diagnose", f"http://127.0.0.1:{srv.server_port}/", "--connect-timeout", "3")
    finally:
        srv.shutdown()
    assert res.returncode == 3, res.stdout + res.stderr
    assert "not reachable as an MCP server" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["diagnose"], "needs a URL"),
        (["diagnose", "ftp://x/"], "not an http(s) URL"),
        (["diagnose", "http://127.0.0.1:1/mcp", "--protocol", "1999-01-01"], "unknown protocol"),
        (["diagnose", "http://127.0.0.1:1/mcp", "--transport", "carrier-pigeon"], "unknown transport"),
        (["diagnose", "http://127.0.0.1:1/mcp", "-H", "no-colon"], "Name: value"),
        (["diagnose", "http://127.0.0.1:1/mcp", "--bearer-env", "MCPLOAD_SURELY_UNSET"], "is not set"),
        (["serve-demo", "--latency", "fast"], "not a number"),
        (["serve-demo", "--transport", "grpc"], "use http, sse or stdio"),
    ],
)
def test_bad_input_is_exit_2_one_line(args, needle):
    res = run(*args)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_bearer_token_is_sent_but_never_printed(demo_url, monkeypatch):
    secret = "s3cr3t-token-value"
    res = run(
        "diagnose", demo_url, "--bearer-env", "MCPLOAD_TEST_TOKEN", "--no-calls", env={"MCPLOAD_TEST_TOKEN": secret}
    )
    assert res.returncode == 0, res.stderr
    assert secret not in res.stdout + res.stderr


@pytest.mark.slow
def test_demo_command_runs(tmp_path):
    out = tmp_path / "demo.json"
    html = tmp_path / "demo.html"
    res = run("demo", "--duration", "8s", "--out", str(out), "--quiet", "--html", str(html), timeout=120)
    assert res.returncode in (0, 99), res.stderr
    assert html.read_text().startswith("<!DOCTYPE html>") and f"report: {html}" in res.stderr
    results = json.loads(out.read_text())
    assert results["schema"] == "mcpload.results/1"
    assert {"tools/call search_docs", "tools/call get_doc", "tools/call send_message"} <= set(results["operations"])
    assert results["sessions"]["started"] > 0 and results["conversations"]["completed"] > 0
    assert (tmp_path / "demo.ndjson").read_text().count('"type":"interval"') >= 7
    assert "calls by operation" in res.stdout
    # the demo monitors the server it started and ends with its three answers
    procs = results["resources"]["processes"]
    assert len(procs) == 1 and "serve-demo" in procs[0]["cmdline"]
    assert results["resources"]["summary"]["cpu_percent"]["peak"] > 0
    for answer in ("behaviour under load:", "resources: the demo server peaked at", "baseline: run `mcpload demo"):
        assert answer in res.stdout
    assert "findings:" in res.stdout and isinstance(results["findings"], list)
