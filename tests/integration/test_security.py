"""Security (issue 7 §4): listeners bind 127.0.0.1 by default; stdio servers run without a shell and
with an explicit environment. Real processes and sockets only: the demo server, the Prometheus
endpoint and ``tests/stdio_env.py`` (a stdio server that answers with its own environment and argv).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload import connect
from mcpload.demo.launch import free_port, stop_process, wait_for_port
from mcpload.outputs.prometheus import DEFAULT_ADDRESS, PrometheusOutput
from mcpload.scenario import Scenario
from mcpload.transports.stdio import INHERITED_ENV_VARS, server_environment
from tests.helpers import MCPLOAD, mcpload

ROOT = Path(__file__).resolve().parents[2]
ENV_SERVER = str(ROOT / "tests" / "stdio_env.py")
SECRET = "s3cr3t-of-the-load-tester"
# Python itself may add LC_CTYPE to its own environment when it coerces the C locale (PEP 538).
ADDED_BY_PYTHON = {"LC_CTYPE"}


def listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every listening inet socket of the process and its children."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    found = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            found += [c.laddr[:2] for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    return found


# --------------------------------------------------------------------------- listeners


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_demo_server_listens_on_loopback_only_by_default(transport):
    port = free_port()
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), "--transport", transport]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # no --host
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
        sockets = listening(proc.pid)
    finally:
        stop_process(proc)
    assert ("127.0.0.1", port) in sockets, sockets
    assert all(host == "127.0.0.1" for host, _ in sockets), sockets  # never 0.0.0.0 or ::


def test_prometheus_endpoint_listens_on_loopback_by_default():
    assert DEFAULT_ADDRESS.startswith("127.0.0.1:")
    assert PrometheusOutput().host == "127.0.0.1"
    port = free_port()
    out = PrometheusOutput(str(port))  # a bare port, as `--prometheus 9464`
    out.listen()
    try:
        bound = out._server.socket.getsockname()[:2]
        sockets = listening(os.getpid())
    finally:
        out.close()
    assert bound == ("127.0.0.1", port)
    assert [s for s in sockets if s[1] == port] == [("127.0.0.1", port)], sockets


# --------------------------------------------------------------------------- stdio: environment and shell


async def server_view(target: dict[str, Any]) -> dict[str, Any]:
    """Connect to the stdio target of a scenario, call ``env`` once, return what the server saw."""
    scenario = Scenario.from_dict(
        {
            "target": {"protocol": "2025-11-25", "timeout": 10, **target},
            "agents": {"a": {"workflow": [{"call": "env"}]}},
            "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
        },
        source="<test>",
    )
    session, opened = await connect(scenario.to_target())
    assert opened.ok, opened
    try:
        out = await session.call_tool("env", {})
    finally:
        await session.close()
    assert out.ok, out
    return out.result["structuredContent"]


async def test_stdio_server_gets_only_the_safe_variables_and_target_env(monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    monkeypatch.setenv("MCPLOAD_TEST_GIVEN", "from-the-parent")
    seen = await server_view(
        {"command": [sys.executable, ENV_SERVER], "env": {"MCPLOAD_TEST_GIVEN": "given", "OTHER": "x"}}
    )
    env = seen["env"]
    assert "MCPLOAD_TEST_SECRET" not in env and SECRET not in json.dumps(seen)
    assert env["MCPLOAD_TEST_GIVEN"] == "given" and env["OTHER"] == "x"  # target.env reaches it, and wins
    assert env["PATH"] == os.environ["PATH"]
    assert set(env) <= {*INHERITED_ENV_VARS, "MCPLOAD_TEST_GIVEN", "OTHER", *ADDED_BY_PYTHON}, sorted(env)


async def test_stdio_server_inherits_everything_only_when_asked(monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    monkeypatch.setenv("MCPLOAD_TEST_GIVEN", "from-the-parent")
    seen = await server_view(
        {"command": [sys.executable, ENV_SERVER], "inherit_env": True, "env": {"MCPLOAD_TEST_GIVEN": "given"}}
    )
    assert seen["env"]["MCPLOAD_TEST_SECRET"] == SECRET
    assert seen["env"]["MCPLOAD_TEST_GIVEN"] == "given"


async def test_stdio_command_string_is_not_run_through_a_shell(tmp_path, monkeypatch):
    monkeypatch.setenv("MCPLOAD_TEST_SECRET", SECRET)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    command = f"{sys.executable} {ENV_SERVER} ; touch {a} && touch {b} | '$(touch {c})' `id` $MCPLOAD_TEST_SECRET"
    seen = await server_view({"command": command})
    words = [";", "touch", str(a), "&&", "touch", str(b), "|", f"$(touch {c})", "`id`", "$MCPLOAD_TEST_SECRET"]
    assert seen["argv"] == words  # split into words, nothing interpreted
    assert not a.exists() and not b.exists() and not c.exists()


def test_stdio_command_from_the_command_line_is_not_run_through_a_shell(tmp_path):
    marker = tmp_path / "marker"
    cmd = f"{sys.executable} {ENV_SERVER} ; touch {marker}"
    res = subprocess.run(
        [MCPLOAD, "diagnose", "--stdio-cmd", cmd, "--protocol", "2025-11-25", "--json", "--call-tools", "env"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MCPLOAD_TEST_SECRET": SECRET},
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["transport"] == "stdio"
    assert SECRET not in res.stdout  # the env tool's answer (shown in the diagnosis) holds no secret
    assert not marker.exists()


def test_server_environment_follows_the_sdk():
    parent = {"PATH": "/bin", "HOME": "/h", "AWS_SECRET_ACCESS_KEY": "k", "SHELL": "() { :; }; echo pwned"}
    env = server_environment({"X": "1"}, parent=parent)
    assert env == {"PATH": "/bin", "HOME": "/h", "X": "1"}  # exported shell functions are skipped too
    assert server_environment({"PATH": "/mine"}, parent=parent)["PATH"] == "/mine"
    assert server_environment(None, inherit_env=True, parent=parent) == parent
    assert server_environment(None, parent={}) == {}


# --------------------------------------------------------------------------- issue 18 §6: secrets never in an output

ECHO_SERVER = str(ROOT / "tests" / "echo_server.py")
USER_PASSWORD = "pw-USERINFO-9f2c"
QUERY_SECRETS = {"api_key": "QKEY-a81b7", "token": "QTOK/with+plus", "password": "QPASS-77"}
HEADER_SECRET = "HDR-SECRET-55e1"
BEARER = "BEARER-tok-3c9d0"
ALL_SECRETS = [USER_PASSWORD, HEADER_SECRET, BEARER, *QUERY_SECRETS.values()]


def _forms(secret: str) -> set[str]:
    from urllib.parse import quote, quote_plus

    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def _leaks(text: str) -> list[str]:
    return [form for secret in ALL_SECRETS for form in _forms(secret) if form in text]


@pytest.fixture
def echo_server():
    proc = subprocess.Popen([sys.executable, ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(10)


def _secret_url(port: int) -> str:
    from urllib.parse import quote

    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in QUERY_SECRETS.items())
    return f"http://loader:{USER_PASSWORD}@127.0.0.1:{port}/mcp?{query}&plain=1"


def test_no_secret_reaches_any_output_even_when_the_server_echoes_it(tmp_path, echo_server):
    pytest.importorskip("plotly")
    (tmp_path / "s.yaml").write_text(
        "agents: {a: {workflow: [{call: echo}, {call: leak}, {think: 50ms}]}}\n"
        "profiles: {type: constant-agents, agents: 2, duration: 2s}\n"
    )
    port = free_port()
    cmd = [
        MCPLOAD, "--debug", "run", "s.yaml", "--url", _secret_url(echo_server), "--bearer-env", "MCPLOAD_TEST_TOKEN",
        "-H", f"X-Api-Key: {HEADER_SECRET}", "--out", "r.json", "--html", "r.html", "--csv", "r.csv",
        "--junit", "r.xml", "--prometheus", f"127.0.0.1:{port}",
    ]  # fmt: skip
    env = {**os.environ, "MCPLOAD_TEST_TOKEN": BEARER}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scraped = ""
    deadline = time.monotonic() + 60
    while "mcpload_run_info{" not in scraped and proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            scraped = r.read().decode()
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "mcpload_run_info{" in scraped  # the labels name the target: redacted
    files = {p.name: p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file()}
    assert {"r.json", "r.ndjson", "r.html", "r.csv", "r.xml"} <= set(files)
    assert "you sent /mcp?" in files["r.json"]  # the echo did reach the results…
    for name, text in {**files, "stdout": out, "stderr": err, "metrics": scraped}.items():
        if name != "s.yaml":
            assert _leaks(text) == [], name  # …with every secret masked
    assert "***" in files["r.json"] and "***" in out


def test_no_secret_in_the_diagnosis_nor_in_load_time_errors(tmp_path, echo_server):
    env = {**os.environ, "MCPLOAD_TEST_TOKEN": BEARER}
    url = _secret_url(echo_server)
    auth = ["--bearer-env", "MCPLOAD_TEST_TOKEN", "-H", f"X-Api-Key: {HEADER_SECRET}"]
    bad_port = url.replace(f":{echo_server}/", ":0/")
    (tmp_path / "s.yaml").write_text(
        f"target: {{url: '{bad_port}'}}\nagents: {{a: {{workflow: [{{call: echo}}]}}}}\n"
        "profiles: {type: constant-agents, agents: 1, duration: 1s}\n"
    )
    runs = [
        ["diagnose", url, *auth],
        ["diagnose", url, *auth, "--json"],
        ["--debug", "run", "--url", bad_port, "--tool", "echo", *auth],  # refused at load time, traceback shown
        ["--debug", "run", "s.yaml"],  # the same from the scenario file
        ["run", "--url", url.replace(f":{echo_server}/", ":1/"), "--tool", "echo", *auth],  # preflight: unreachable
        ["run", "--url", url, "--tool", "echo", "-H", f"X-Key: {HEADER_SECRET}\x01"],  # a bad header value
        ["run", "--url", url, "--tool", "echo", "--agents", "x", *auth],  # a usage error
    ]
    for argv in runs:
        res = mcpload(*argv, cwd=tmp_path, env=env, timeout=60)
        assert _leaks(res.stdout + res.stderr) == [], (argv, res.stdout[-500:], res.stderr[-500:])
    assert res.returncode == 2


def test_server_escape_sequences_are_neutralised_in_the_console(tmp_path, echo_server):
    (tmp_path / "s.yaml").write_text(
        f"target: {{url: 'http://127.0.0.1:{echo_server}/mcp'}}\n"
        "agents: {a: {workflow: [{call: echo}, {call: leak}, {think: 50ms}]}}\n"
        "profiles: {type: constant-agents, agents: 1, duration: 1s}\n"
    )
    for argv in (["run", "s.yaml", "--out", "r.json"], ["diagnose", f"http://127.0.0.1:{echo_server}/mcp"]):
        res = mcpload(*argv, cwd=tmp_path, timeout=60)
        console = res.stdout + res.stderr
        assert "you sent" in console or "echo" in console
        for control in ("\x1b", "\x9b", "\x07", "\x08"):  # ESC (CSI, OSC 8 links, titles), 8-bit CSI, BEL, BS
            assert control not in console, (argv, repr(control))
        assert "^[]8;;http://evil.example/" in console  # shown, harmless
    doc = json.loads((tmp_path / "r.json").read_text())  # a results file edited to carry escapes
    doc["operations"] = {f"{name}\x1b]8;;http://evil/\x07x\x9b2J": op for name, op in doc["operations"].items()}
    (tmp_path / "evil.json").write_text(json.dumps(doc))
    res = subprocess.run(
        [MCPLOAD, "compare", "r.json", "evil.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "^[]8;;http://evil/" in res.stdout and not any(c in res.stdout + res.stderr for c in "\x1b\x9b\x07")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2Jname", "^[[2Jname"),
        ("\x1b]8;;http://x/\x07link\x1b]8;;\x07", "^[]8;;http://x/\\x07link^[]8;;\\x07"),
        ("\x1b]0;title\x1b\\", "^[]0;title^[\\"),
        ("a\x9b31mb\x90c\x9dd", "a\\x9b31mb\\x90c\\x9dd"),
        ("cr\rover\x08\x00", "cr\\x0dover\\x08\\x00"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("plain ünïcödé ✓", "plain ünïcödé ✓"),
    ],
)
def test_neutralise_makes_every_control_visible(text, shown):
    from mcpload.redaction import neutralise

    assert neutralise(text) == shown


def _controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_neutralised_text_has_no_terminal_control(text):
    from mcpload.redaction import neutralise, terminal_safe

    assert _controls(neutralise(text)) == []
    (key, value), *_ = terminal_safe({text: [text, {"k": text}], "intervals": [text]}).items()
    assert _controls(key) == [] and _controls(value[0]) == [] and _controls(value[1]["k"]) == []


@pytest.mark.parametrize(
    ("url", "secrets", "plain"),
    [
        ("https://user:pa55word@h/mcp", {"pa55word", "user", "dXNlcjpwYTU1d29yZA=="}, "h/mcp"),
        ("https://h/mcp?api_key=k3y-value&page=2", {"k3y-value"}, "page=2"),
        ("https://h/mcp?access_token=a%2Fb%2Bc", {"a%2Fb%2Bc", "a/b+c"}, "access_token"),
        ("https://h/mcp?X-Amz-Signature=abcd1234&X-Amz-Credential=cred5678", {"abcd1234", "cred5678"}, "X-Amz"),
        ("https://h/mcp?client_secret=s3cr&pwd=hunter2", {"s3cr", "hunter2"}, "https://h/mcp"),
    ],
)
def test_url_secrets_and_safe_url(url, secrets, plain):
    from mcpload.redaction import redact, safe_url, url_secrets

    found = url_secrets(url)
    assert secrets <= found
    for text in (safe_url(url), redact(url, found)):
        assert not any(s in text for s in secrets) and plain in text


@pytest.mark.parametrize(
    ("headers", "secrets"),
    [
        ({"Authorization": "Bearer abc.def.ghi"}, {"Bearer abc.def.ghi", "abc.def.ghi"}),
        ({"Authorization": "Basic bWU6aHVudGVyMjI="}, {"bWU6aHVudGVyMjI=", "me:hunter22", "hunter22"}),
        ({"X-Api-Key": "k/e+y=1"}, {"k/e+y=1", "k%2Fe%2By%3D1"}),
        ({"Accept": "application/json", "User-Agent": "agent-x"}, set()),
    ],
)
def test_header_secrets(headers, secrets):
    from mcpload.redaction import header_secrets

    found = header_secrets(headers)
    assert secrets <= found and (found or not secrets) and ("application/json" not in found)


# --------------------------------------------------------------------------- issue 18 §6: code and listeners

AGENT = (
    "import sys, pathlib\nimport mcpload\n"
    "pathlib.Path('IMPORTED-' + __name__.split('_')[3]).touch()\n"
    "print('AGENT CODE RUNS', file=sys.stderr)\n"
    "class A(mcpload.Agent):\n    async def run(self, session):\n        pass\n"
)


def _python_scenario(tmp_path: Path, agents: dict, profile_types: list[str] | None = None) -> None:
    profile = {"type": "constant-agents", "agents": 1, "duration": "1s"}
    if profile_types:
        profile["agent_types"] = profile_types
    import yaml

    doc = {"target": {"url": "http://127.0.0.1:1/mcp"}, "agents": agents, "profiles": profile}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc))


def test_python_agents_are_announced_before_their_code_runs(tmp_path):
    (tmp_path / "used.py").write_text(AGENT)
    _python_scenario(tmp_path, {"a": {"python": "used.py:A"}})
    res = mcpload("run", "s.yaml", "-q", cwd=tmp_path, timeout=60)
    lines = res.stderr.splitlines()
    assert lines[0] == "mcpload: s.yaml: runs Python code: used.py (python: agents, imported now)"
    assert lines[1] == "AGENT CODE RUNS"
    assert res.returncode == 3  # it went on to the (closed) target


def test_an_agent_type_that_never_runs_is_not_imported(tmp_path):
    (tmp_path / "used.py").write_text(AGENT)
    (tmp_path / "unused.py").write_text(AGENT)
    agents = {"a": {"python": "used.py:A"}, "b": {"python": "unused.py:A"}, "c": {"workflow": ["ping"]}}
    _python_scenario(tmp_path, agents, profile_types=["a", "c"])
    res = mcpload("run", "s.yaml", "-q", cwd=tmp_path, timeout=60)
    assert res.returncode == 3, res.stderr
    assert (tmp_path / "IMPORTED-used").exists() and not (tmp_path / "IMPORTED-unused").exists()
    _python_scenario(tmp_path, agents, profile_types=["c"])  # no profile runs python: no notice at all
    res = mcpload("run", "s.yaml", "-q", cwd=tmp_path, timeout=60)
    assert "Python" not in res.stderr and res.returncode == 3


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        ("../outside.py:A", "../outside.py is outside the scenario's folder"),
        ("{outside}:A", "is outside the scenario's folder"),
        ("link/outside.py:A", "link/outside.py is outside the scenario's folder"),
        ("os.path:A", "module os.path is outside the scenario's folder"),
    ],
    ids=["parent", "absolute", "symlinked-folder", "module"],
)
def test_python_outside_the_scenario_folder_needs_allow_python(tmp_path, spec, what):
    folder = tmp_path / "scenario"
    folder.mkdir()
    (tmp_path / "outside.py").write_text(AGENT)
    (folder / "link").symlink_to(tmp_path)
    _python_scenario(folder, {"a": {"python": spec.format(outside=tmp_path / "outside.py")}})
    res = mcpload("run", "s.yaml", "-q", cwd=folder, timeout=60)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert what in res.stderr and "--allow-python" in res.stderr
    assert not list(tmp_path.glob("IMPORTED-*")) and not list(folder.glob("IMPORTED-*"))
    res = subprocess.run(
        [MCPLOAD, "run", "s.yaml", "-q", "--allow-python"], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert "runs Python code" in res.stderr.splitlines()[0]
    assert res.returncode == (2 if spec.startswith("os.") else 3), res.stderr  # os.path has no agent class A


@pytest.mark.parametrize(
    ("host", "warns"),
    [
        ("127.0.0.1", False), ("127.8.9.1", False), ("::1", False), ("[::1]", False), ("localhost", False),
        ("0.0.0.0", True), ("::", True), ("192.168.1.10", True), ("10.0.0.1", True), ("example.com", True),
    ],
)  # fmt: skip
def test_listeners_warn_beyond_loopback(host, warns, capsys):
    from mcpload.cli.support import _warn_if_exposed

    _warn_if_exposed("--prometheus", host)
    err = capsys.readouterr().err
    assert (err.count("\n") == 1 and "warning" in err and host in err) if warns else err == ""
