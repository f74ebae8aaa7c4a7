"""A run always ends (issue 18 §1): at its duration, on SIGINT and on SIGTERM, whatever its agents do.

The class under test: agents whose conversations fail, or do nothing, without waiting on the network
(undefined template values, missing data columns, zero repeats, empty choices, Python agents that raise
or return at once), templates that would loop or allocate without bound, and Python agents that never
give the event loop back (a busy loop, a blocking sleep, one that swallows every exception). Each case
runs the real CLI against the demo server with ``idle: 0``; the test asserts that the process ends by
itself (the subprocess timeout is a generous bound, not a measurement), that the results and the interval
log are written, and that the failure was counted rather than spun on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpload.demo.launch import free_port, stop_process, wait_for_port
from tests.helpers import MCPLOAD

SEARCH = {"call": "search_docs", "args": {"query": "x", "limit": 1}}
BOUND_S = 90  # far above any healthy ending (~2 s of load, 1 s of grace): only a hang reaches it

AGENTS_PY = """
import asyncio, time
from mcpload import Agent


class Raises(Agent):
    async def run(self, session):
        raise RuntimeError("no such thing")


class ReturnsAtOnce(Agent):
    async def run(self, session):
        return None


class BusyLoop(Agent):
    async def run(self, session):
        await session.call_tool("search_docs", {"query": "x", "limit": 1})
        while True:
            pass


class BlockingSleep(Agent):
    async def run(self, session):
        time.sleep(3600)


class Swallows(Agent):
    async def run(self, session):
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
"""


def write(tmp_path: Path, agent: dict[str, Any], duration: str = "2s", agents: int = 3) -> Path:
    (tmp_path / "agents.py").write_text(AGENTS_PY)
    (tmp_path / "users.csv").write_text("name\nada\nbob\n")
    data = {
        "target": {"url": "${URL}"},
        "data": {"users": "users.csv"},
        "agents": {"a": {"idle": 0, **agent}},
        "profiles": {"type": "constant-agents", "agents": agents, "duration": duration, "graceful_stop": "1s"},
        "options": {"grace_period": "1s"},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start(tmp_path: Path, url: str) -> subprocess.Popen:
    env = {**os.environ, "URL": url}
    return subprocess.Popen(
        [MCPLOAD, "run", "s.yaml", "--out", "r.json", "-q"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the run did not end by itself within {BOUND_S} s; stderr: {err[-2000:]}")


def intervals(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "r.ndjson").read_text().splitlines()
    return [row for row in map(json.loads, lines) if row.get("type") == "interval"]


def wait_for_intervals(proc: subprocess.Popen, tmp_path: Path, n: int) -> None:
    """Until the run has written ``n`` intervals (its clock runs): a signal sent then hits a running load."""
    log = tmp_path / "r.ndjson"
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_text().count('"type":"interval"') >= n:
            return
        time.sleep(0.05)


# Conversations that fail or do nothing without waiting on the network: each must be counted and paced.
INSTANT = {
    "undefined saved value": {"workflow": [{"call": "search_docs", "args": {"query": "{{ saved.nothing }}"}}]},
    "undefined nested value": {"workflow": [{"call": "search_docs", "args": {"query": "{{ agent.id.nope.x }}"}}]},
    "missing data column": {"workflow": [{"call": "search_docs", "args": {"query": "{{ data('users').nope }}"}}]},
    "template division by zero": {"workflow": [{"call": "search_docs", "args": {"limit": "{{ 1 // 0 }}"}}]},
    "zero repeats": {"workflow": [{"repeat": {"times": 0, "steps": [SEARCH]}}]},
    "empty choice": {"workflow": [{"choice": [{"steps": []}]}]},
    "zero thinks only": {"workflow": [{"think": 0}, {"think": 0}]},
    "nested loops 10^10": {
        "workflow": [
            {
                "call": "search_docs",
                "args": {"query": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"},
            }
        ]
    },
    "huge string": {"workflow": [{"call": "search_docs", "args": {"query": "{{ 'x' * 10**10 }}"}}]},
    "huge power": {"workflow": [{"call": "search_docs", "args": {"query": "{{ 7 ** 10**9 }}"}}]},
    "recursive macro": {
        "workflow": [
            {"call": "search_docs", "args": {"query": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"}}
        ],
    },
    "python agent raising": {"python": "agents.py:Raises"},
    "python agent returning at once": {"python": "agents.py:ReturnsAtOnce"},
}


@pytest.mark.parametrize("agent", list(INSTANT.values()), ids=list(INSTANT))
def test_instant_failures_end_at_the_duration_and_are_paced(demo_url, tmp_path, agent):
    write(tmp_path, agent)
    proc = start(tmp_path, demo_url)
    _, stderr = finish(proc)
    assert proc.returncode in (0, 99), stderr
    assert "Traceback" not in stderr
    res = json.loads((tmp_path / "r.json").read_text())
    conv = res["conversations"]
    # Paced: the first pause is ≥ 50 ms and pauses double on each failure in a row (up to 2 s), so 3
    # agents over ~2 s get through a few dozen conversations at most; a spinning agent, millions.
    total = conv["ok"] + conv["failed"]
    assert 3 <= total <= 3 * 40, conv
    assert res["backoffs"]["conversations"] >= total - 3, res["backoffs"]
    assert intervals(tmp_path), "the clock ran: intervals were written during the run"
    if "workflow" in agent and "call" in json.dumps(agent) and "repeat" not in json.dumps(agent):
        assert res["template_errors"], res["template_errors"]  # each failing template is named and counted
        assert conv["failed"] == total


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("case", ["undefined saved value", "nested loops 10^10", "python agent raising"])
def test_instant_failures_stop_on_a_signal(demo_url, tmp_path, case, sig):
    write(tmp_path, INSTANT[case], duration="1h")
    proc = start(tmp_path, demo_url)
    wait_for_intervals(proc, tmp_path, 1)
    proc.send_signal(sig)
    _, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["stopped_by_user"] is True


# Python agents that never give the loop back: the watchdog breaks them.


@pytest.mark.parametrize("cls", ["BusyLoop", "BlockingSleep"])
def test_an_agent_that_never_yields_is_stopped_at_the_end_of_the_run(demo_url, tmp_path, cls):
    write(tmp_path, {"python": f"agents.py:{cls}"}, duration="1s", agents=2)
    proc = start(tmp_path, demo_url)
    _, stderr = finish(proc)
    if cls == "BusyLoop":
        # the exception lands in the busy loop: the agent ends, the run ends normally with its results
        assert proc.returncode in (0, 99), stderr
        res = json.loads((tmp_path / "r.json").read_text())
        assert any("blocked the event loop" in key for key in res["scripted_errors"]), res["scripted_errors"]
        assert res["operations"]["tools/call search_docs"]["ok"] >= 1
    else:
        # stuck in C code (sleep), out of reach of exceptions: the process exits, saying why
        assert proc.returncode == 130, stderr
        assert "blocked the event loop" in stderr and "r.ndjson" in stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stalled_run_stops_on_signals(demo_url, tmp_path, sig):
    """A Python agent that swallows every exception: the first signal asks for a graceful stop, the second
    breaks the stall, the third ends the process at once."""
    write(tmp_path, {"python": "agents.py:Swallows"}, duration="1h", agents=1)
    proc = start(tmp_path, demo_url)
    log = tmp_path / "r.ndjson"
    deadline = time.monotonic() + BOUND_S
    while not log.exists() and time.monotonic() < deadline:  # the run has started (the meta line)
        time.sleep(0.05)
    time.sleep(2.5)  # the loop has been stalled for longer than the watchdog's threshold (2 s)
    for _ in range(3):
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        time.sleep(0.5)
    _, stderr = finish(proc)
    assert proc.returncode == 130, stderr
    assert "blocked the event loop" in stderr or "third signal" in stderr


def test_agents_back_off_while_the_server_is_down(tmp_path):
    """The server goes away mid-run and stays away: agents back off between connection attempts (no
    storm of refused connections), and the outage is counted once."""
    port = free_port()
    cmd = [sys.executable, "-m", "mcpload.cli", "serve-demo", "--port", str(port), "--latency", "1"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 30, server)
        write(tmp_path, {"workflow": [SEARCH]}, duration="5s", agents=4)
        spec = yaml.safe_load((tmp_path / "s.yaml").read_text())
        # a session per conversation: after the kill every agent must reconnect
        spec["agents"]["a"]["conversations_per_session"] = 1
        spec["target"]["protocol"] = "2025-11-25"
        (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
        proc = start(tmp_path, f"http://127.0.0.1:{port}/mcp")
        wait_for_intervals(proc, tmp_path, 1)
        stop_process(server)
        finish(proc)
    finally:
        stop_process(server)
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["outages"]["count"] == 1, res["outages"]
    [outage] = res["outages"]["list"]
    assert outage["end_s"] is None and outage["failed_opens"] >= 4
    # Backoff 0.1, 0.2, 0.4 … 2 s (jittered down to half): ≤ ~12 attempts per agent in ~5 s; without it,
    # one every 0.1 s tick (~40 per agent).
    assert res["sessions"]["failed"] <= 4 * 14, res["sessions"]
    assert res["backoffs"]["opens"] >= 4
