"""`mcpload run` as a user runs it, against the real demo server: exit codes, one-line errors, Ctrl-C,
ad-hoc runs and redaction of ``${ENV}`` secrets."""

from __future__ import annotations

import functools
import json
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpload.demo.launch import free_port
from tests.helpers import MCPLOAD, mcpload

SEARCH = "tools/call search_docs"
SEARCH_STEP = {"call": "search_docs", "args": {"query": "x", "limit": 2}}


mcpload = functools.partial(mcpload, timeout=60)


def write_scenario(
    directory: Path,
    url: str,
    workflow: list[Any] | None = None,
    profile: dict[str, Any] | None = None,
    name: str = "scenario.yaml",
    **extra: Any,
) -> str:
    data = {
        "target": {"url": url},
        "agents": {"a": {"workflow": workflow or [SEARCH_STEP, {"think": "20ms"}]}},
        "profiles": profile or {"type": "constant-agents", "agents": 2, "duration": "1s"},
        **extra,
    }
    (directory / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return name


def results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# 6. thresholds → exit codes


def test_passing_thresholds_exit_0(demo_url, tmp_path):
    thresholds = {
        "success_rate": ["rate > 0.99"],
        f"calls{{op:{SEARCH}}}": ["count > 5"],
        f"latency{{op:{SEARCH}}}": ["p(95) < 5s"],
    }
    name = write_scenario(tmp_path, demo_url, thresholds=thresholds)
    res = mcpload("run", name, "--out", "r.json", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = results(tmp_path / "r.json")
    assert [t["passed"] for t in out["thresholds"]] == [True, True, True]
    assert out["aborted_by"] is None and out["stopped_by_user"] is False
    assert (tmp_path / "r.ndjson").exists()
    assert "✓" in res.stdout and "✗" not in res.stdout


def test_failing_threshold_exit_99(demo_url, tmp_path):
    # the demo sleeps ~1 ms (lognormal) in each call: its p95 with the HTTP round trip is well above 1 ms
    name = write_scenario(tmp_path, demo_url, thresholds={f"latency{{op:{SEARCH}}}": ["p(95) < 1ms"]})
    res = mcpload("run", name, "--out", "r.json", "-q", cwd=tmp_path)
    assert res.returncode == 99, res.stderr
    out = results(tmp_path / "r.json")
    [threshold] = out["thresholds"]
    assert threshold["passed"] is False and threshold["value"] > 1 and threshold["no_data"] is False
    assert out["aborted_by"] is None  # not abort_on_fail: the run went to its end
    assert out["duration_s"] == pytest.approx(1.0, abs=0.5)
    assert "✗" in res.stdout


@pytest.mark.parametrize("workers", ["1", "2"])  # with 2, the threshold reads the workers' merged data
def test_abort_on_fail_stops_the_run_early(demo_url, tmp_path, workers):
    profile = {"type": "constant-agents", "agents": 2, "duration": "30s"}
    spec = {"threshold": "p(95) < 1ms", "abort_on_fail": True}
    name = write_scenario(tmp_path, demo_url, profile=profile, thresholds={f"latency{{op:{SEARCH}}}": [spec]})
    started = time.monotonic()
    res = mcpload("run", name, "--out", "r.json", "-q", "--workers", workers, cwd=tmp_path)
    assert time.monotonic() - started < 15
    assert res.returncode == 99, res.stderr
    out = results(tmp_path / "r.json")
    assert out["aborted_by"] == f"latency{{op:{SEARCH}}} p(95) < 1ms"
    assert out["duration_s"] < 4  # checked at the first one-second tick, of 30 s planned
    assert out["stopped_by_user"] is False and out["thresholds"][0]["passed"] is False
    assert "aborted" in res.stdout
    assert out["execution"]["workers"] == int(workers) and out["execution"]["lost"] == []


# 7. Ctrl-C


def start_long_run(directory: Path, url: str, **extra: Any) -> subprocess.Popen:
    # agents stuck in a 30 s think when Ctrl-C comes: only the grace period decides when the run ends
    workflow = [SEARCH_STEP, {"think": "30s"}]
    name = write_scenario(
        directory, url, workflow, {"type": "constant-agents", "agents": 2, "duration": "60s"}, **extra
    )
    proc = subprocess.Popen(
        [MCPLOAD, "run", name, "--out", "r.json", "-q"],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    log = directory / "r.ndjson"
    while not (log.exists() and '"type":"interval"' in log.read_text()):  # the run is under way
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"the run did not start: {proc.communicate()}")
        time.sleep(0.05)
    return proc


def test_ctrl_c_exits_130_and_writes_the_results(demo_url, tmp_path):
    proc = start_long_run(tmp_path, demo_url, options={"grace_period": "1s"})
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - sent < 6  # the grace period (1 s), then the thinks are cancelled
    assert "Traceback" not in stderr
    out = results(tmp_path / "r.json")
    assert out["stopped_by_user"] is True and out["duration_s"] < 10
    assert out["sessions"]["started"] == 2 and out["operations"][SEARCH]["ok"] == 2
    assert '"type":"summary"' in (tmp_path / "r.ndjson").read_text()
    assert "calls by operation" in stdout


def test_second_ctrl_c_stops_at_once(demo_url, tmp_path):
    proc = start_long_run(tmp_path, demo_url)  # the default grace period: 30 s
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - sent < 6
    assert results(tmp_path / "r.json")["stopped_by_user"] is True


# 8. bad input → exit 2, one line naming the file and the path


@pytest.mark.parametrize(
    ("workflow", "extra", "message"),
    [
        (
            [{"cal": "search_docs"}],
            {},
            "agents.a.workflow[0]: unknown step 'cal' (did you mean 'call'?)",
        ),
        (
            [SEARCH_STEP, {"call": "serch_docs", "args": {"query": "x"}}],
            {},
            "agents.a.workflow[1]: tool 'serch_docs' is not offered by the server (did you mean 'search_docs'?)",
        ),
        (
            [{"call": "search_docs", "args": {"query": "x", "limit": "x"}}],
            {},
            "agents.a.workflow[0]: arguments do not match search_docs's inputSchema: "
            "limit: 'x' is not of type 'integer'",
        ),
        (
            None,
            {"profile": {"type": "constant-vus", "agents": 1, "duration": "1s"}},
            "profiles.type: unknown profile type 'constant-vus' (did you mean 'constant-agents'?)",
        ),
        (
            None,
            {"thresholds": {f"latency{{op:{SEARCH}}}": ["p95 < 1ms"]}},
            f"thresholds.latency{{op:{SEARCH}}}[0]: unknown aggregation 'p95' (did you mean 'p(95)'?)",
        ),
    ],
    ids=["step-typo", "unknown-tool", "schema", "profile-type", "threshold"],
)
def test_bad_scenario_exit_2_one_line(demo_url, tmp_path, workflow, extra, message):
    name = write_scenario(tmp_path, demo_url, workflow, **extra)
    res = mcpload("run", name, "--out", "r.json", "-q", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"mcpload: {name}: {message}"), lines[0]
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not (tmp_path / "r.json").exists()


def test_zero_agents_exit_2(demo_url, tmp_path):
    # --agents alone keeps the scenario's duration (issue 14 §2.6: tests/integration/test_real_server_bugs.py)
    name = write_scenario(tmp_path, demo_url)
    res = mcpload("run", name, "--agents", "0", "-q", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == ["mcpload: --agents 0: must be at least 1"]


def test_unreachable_target_exit_3(tmp_path):
    name = write_scenario(tmp_path, f"http://127.0.0.1:{free_port()}/mcp")
    res = mcpload("run", name, "--out", "r.json", "-q", cwd=tmp_path)
    assert res.returncode == 3
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "not reachable as an MCP server" in lines[0], res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "r.json").exists()


# 10. ad-hoc runs


def test_ad_hoc_run(demo_url, tmp_path):
    res = mcpload(
        "run",
        *("--url", demo_url, "--tool", "search_docs", "--args", '{"query":"x"}'),
        *("--agents", "3", "--duration", "2s", "--out", "adhoc.json", "-q"),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    out = results(tmp_path / "adhoc.json")
    search = out["operations"][SEARCH]
    assert search["calls"] > 10 and search["ok"] == search["calls"]
    assert out["sessions"]["started"] == 3 and out["profiles"][0]["type"] == "constant-agents"
    assert out["duration_s"] == pytest.approx(2.0, abs=0.5)
    assert (tmp_path / "adhoc.ndjson").exists()


# 11. ${ENV} secrets never reach an output


def grep_outputs(directory: Path, res: subprocess.CompletedProcess, secret: str) -> list[str]:
    """The outputs of a run that hold ``secret``."""
    found = [p.name for p in sorted(directory.glob("r.*")) if secret in p.read_text()]
    return found + [name for name, text in (("stdout", res.stdout), ("stderr", res.stderr)) if secret in text]


def test_secret_from_env_is_not_in_any_output(demo_url, tmp_path):
    secret = secrets.token_hex(16)
    target = {
        "url": demo_url + "?key=${MCPLOAD_TEST_TOKEN}",
        "headers": {"Authorization": "Bearer ${MCPLOAD_TEST_TOKEN}", "X-Api-Key": "${MCPLOAD_TEST_TOKEN}"},
    }
    name = write_scenario(tmp_path, demo_url, target=target)
    res = mcpload("run", name, "--out", "r.json", cwd=tmp_path, env={"MCPLOAD_TEST_TOKEN": secret})
    assert res.returncode == 0, res.stderr
    out = results(tmp_path / "r.json")
    assert out["target"]["url"] == demo_url + "?key=***"  # the secret was there, and was redacted
    assert out["operations"][SEARCH]["ok"] > 0
    assert grep_outputs(tmp_path, res, secret) == []


@pytest.fixture(scope="module")
def echoed_secret_run(demo_url, tmp_path_factory):
    """A run whose calls fail with an error message that echoes a ``${ENV}`` secret: the server's
    argument validation quotes the bad value (a short secret, so that the 200-character cut of
    error messages keeps it whole)."""
    directory = tmp_path_factory.mktemp("echo")
    secret = "s" + secrets.token_hex(5)
    workflow = [{"call": "search_docs", "args": {"query": "x", "limit": "{{ '${MCPLOAD_TEST_TOKEN}' }}"}}]
    agents = {"a": {"conversations_per_session": 1, "workflow": workflow}}
    profile = {"type": "agent-arrival-rate", "rate": 2, "duration": "1s", "distribution": "even"}
    (directory / "s.yaml").write_text(
        yaml.safe_dump({"target": {"url": demo_url}, "agents": agents, "profiles": profile})
    )
    res = mcpload("run", "s.yaml", "--out", "r.json", cwd=directory, env={"MCPLOAD_TEST_TOKEN": secret})
    assert res.returncode == 0, res.stderr
    out = results(directory / "r.json")
    assert out["operations"][SEARCH]["errors"] == {"tool_error": 2}
    # the server did echo the secret, and the results file has it redacted
    assert "input_value='***'" in out["top_errors"][0]["message"]
    return directory, res, secret


def test_secret_echoed_by_the_server_is_redacted_in_the_results(echoed_secret_run):
    directory, _, secret = echoed_secret_run
    assert secret not in (directory / "r.json").read_text()


def test_secret_echoed_by_the_server_is_redacted_in_the_interval_log(echoed_secret_run):
    directory, _, secret = echoed_secret_run
    assert secret not in (directory / "r.ndjson").read_text()


def test_secret_echoed_by_the_server_is_redacted_on_stdout(echoed_secret_run):
    _, res, secret = echoed_secret_run
    assert secret not in res.stdout


def test_secret_in_an_unreachable_url_is_redacted(tmp_path):
    secret = secrets.token_hex(16)
    name = write_scenario(tmp_path, f"http://127.0.0.1:{free_port()}/mcp?key=${{MCPLOAD_TEST_TOKEN}}")
    res = mcpload("run", name, "--out", "r.json", "-q", cwd=tmp_path, env={"MCPLOAD_TEST_TOKEN": secret})
    assert res.returncode == 3
    assert "key=***" in res.stderr
    assert secret not in res.stderr
