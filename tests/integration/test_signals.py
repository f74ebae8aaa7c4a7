"""Nothing lost (issue 7 §2): SIGKILL leaves an interval log that `mcpload report` rebuilds a report from;
SIGTERM stops a run like Ctrl-C (exit 130, results and report written). `mcpload run` as a subprocess
against the real demo server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import MCPLOAD


def start_run(directory: Path, url: str) -> subprocess.Popen:
    args = ["run", "--url", url, "--tool", "search_docs", "--args", '{"query": "q"}', "--think", "50ms"]
    args += ["--agents", "2", "--duration", "60s", "--quiet", "--out", "r.json", "--html", "r.html"]
    return subprocess.Popen([MCPLOAD, *args], cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_intervals(proc: subprocess.Popen, log: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text().count('"type":"interval"') >= count):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"the run did not get going: {proc.communicate()}")
        time.sleep(0.05)


def test_sigkill_then_report_rebuilds_from_the_interval_log(demo_url, tmp_path):
    proc = start_run(tmp_path, demo_url)
    log = tmp_path / "r.ndjson"
    wait_for_intervals(proc, log, 3)  # ~3 s into the run
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "r.html").exists()
    assert '"type":"summary"' not in log.read_text()

    res = subprocess.run(
        [MCPLOAD, "report", "r.ndjson", "-o", "rebuilt.html"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "rebuilt" in res.stderr and "Traceback" not in res.stderr
    page = (tmp_path / "rebuilt.html").read_text()
    assert "rebuilt from an interval log" in page and "tools/call search_docs" in page


def test_sigterm_exits_130_with_results_written(demo_url, tmp_path):
    proc = start_run(tmp_path, demo_url)
    wait_for_intervals(proc, tmp_path / "r.ndjson", 1)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=40)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - sent < 10 and "Traceback" not in stderr
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["stopped_by_user"] is True and out["operations"]["tools/call search_docs"]["ok"] > 0
    assert '"type":"summary"' in (tmp_path / "r.ndjson").read_text()
    assert "tools/call search_docs" in (tmp_path / "r.html").read_text()
