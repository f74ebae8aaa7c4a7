"""A real multi-node Ray cluster on this machine: ``ray start --head`` plus a second ``ray start
--address`` node (one CPU and a custom resource each, a small object store, its own temp dir, token
and ports), ``mcpload run --ray`` with an actor on each node, the second node killed mid-run.

The lost half is reported in ``execution.lost``; what the survivor measured is exact: the merged
totals are the sum of the per-worker counts and of the intervals, and equal, for the survivor, a
local ``--segment`` run with the same seed. Bounded (about 40 s), slow-marked, and it cleans up:
every process that holds the cluster's temp dir is killed by its id, and the dir removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpload.demo.launch import free_port
from tests.conftest import need
from tests.helpers import mcpload
from tests.integration.test_ray import short_demo

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).parent / "ray"
OBJECT_STORE = str(80 * 1024 * 1024)  # Ray's minimum is 75 MiB


def _ours(temp_dir: str) -> list[int]:
    """Processes of this cluster: their command line or an open file is under ``temp_dir`` (Ray renames
    its workers' command lines, but their logs stay open there)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if temp_dir in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry))
                continue
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}").startswith(temp_dir):
                    pids.append(int(entry))
                    break
        except OSError:  # gone, or not ours to read
            continue
    return pids


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _node_of(temp_dir: str, resource: str) -> tuple[int, str]:
    """``(raylet pid, node id)`` of the node started with ``resource``."""
    for pid in _ours(temp_dir):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"raylet") and any(resource.encode() in a for a in args):
            node = next(a.split(b"=", 1)[1].decode() for a in args if a.startswith(b"--node_id="))
            return pid, node
    raise AssertionError(f"no raylet with {resource}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    need(RAY.exists(), "Ray is not installed (pip install 'mcpload[ray]')")
    temp_dir = tempfile.mkdtemp(prefix="mcpray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        # this cluster's own token: nothing else on the machine can join it, and ~/.ray is not read
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        # notice a dead node in ~1.5 s, not the default ~30 s
        "RAY_health_check_period_ms": "500",
        "RAY_health_check_failure_threshold": "3",
        "RAY_health_check_initial_delay_ms": "500",
    }
    port = free_port()
    common = [
        "--num-cpus",
        "1",
        "--object-store-memory",
        OBJECT_STORE,
        "--temp-dir",
        temp_dir,
        "--disable-usage-stats",
        "--dashboard-agent-listen-port",
        "0",
        "--node-ip-address",
        "127.0.0.1",
    ]  # fmt: skip (loopback only)
    head = [str(RAY), "start", "--head", "--port", str(port), "--include-dashboard=false",
            "--resources", '{"mcpload_node_a": 1}', *common]  # fmt: skip
    worker = [str(RAY), "start", "--address", f"127.0.0.1:{port}", "--resources", '{"mcpload_node_b": 1}', *common]
    try:
        for cmd in (head, worker):
            started = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
            assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        yield {"address": f"127.0.0.1:{port}", "env": env, "temp_dir": temp_dir}
    finally:
        for _ in range(3):  # ray start daemonizes, and its processes start others: sweep until none is left
            pids = _ours(temp_dir)
            if not pids:
                break
            _kill(pids)
            time.sleep(0.5)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_actors_on_two_nodes_one_node_killed(cluster, tmp_path: Path, demo_url: str):
    scenario = short_demo(tmp_path, demo_url)
    scenario.write_text(scenario.read_text().replace("duration: 4s", "duration: 8s"))
    out = tmp_path / "ray.json"
    intervals = out.with_suffix(".ndjson")
    env = cluster["env"]
    raylet_b, node_b = _node_of(cluster["temp_dir"], "mcpload_node_b")
    _, node_a = _node_of(cluster["temp_dir"], "mcpload_node_a")
    cmd = [sys.executable, "-m", "mcpload.cli", "run", str(scenario), "--ray", cluster["address"], "--workers", "2",
           "--seed", "5", "--out", str(out), "-q"]  # fmt: skip
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # kill node B (its raylet and everything it started) once 2 s of load are in the interval log
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run.poll() is None:
            lines = intervals.read_text().splitlines() if intervals.exists() else []
            if any(json.loads(line).get("t", 0) >= 2 for line in lines if '"interval"' in line):
                break
            time.sleep(0.1)
        assert run.poll() is None, "the run ended before the node could be killed"
        node_pids = [p for p in _ours(cluster["temp_dir"]) if _env_of(p).get("RAY_RAYLET_PID") == str(raylet_b)]
        _kill([raylet_b, *node_pids])
        _, stderr = run.communicate(timeout=90)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, stderr[-3000:]
    results = json.loads(out.read_text())
    execution = results["execution"]
    assert execution["backend"] == "ray"
    workers = {w["name"]: w for w in execution["per_worker"]}
    assert {w["node"] for w in workers.values()} == {node_a, node_b}  # one actor on each node
    (lost,) = execution["lost"]
    assert workers[lost["name"]]["node"] == node_b and lost["share"] == 0.5 and lost["at_s"] >= 2
    assert "lost" in lost["reason"] or "Died" in lost["reason"] or "Unavailable" in lost["reason"], lost
    assert "was lost at" in stderr  # said on the terminal too
    # exact: totals = per-worker sums = interval sums; the survivor = a local run of its segment
    assert sum(w["calls"] for w in workers.values()) == results["totals"]["calls"]
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]
    (survivor,) = [w for w in workers.values() if w["name"] != lost["name"]]
    assert survivor["node"] == node_a
    index = 1 if survivor["segment"] == "0:1/2" else 2
    local_out = tmp_path / "local.json"
    local = mcpload("run", scenario, "--segment", f"{index}/2", "--seed", "5", "--out", local_out, "-q", module=True)
    assert local.returncode == 0, local.stderr[-3000:]
    local_results = json.loads(local_out.read_text())
    assert survivor["calls"] == local_results["totals"]["calls"]
    assert survivor["ok"] == local_results["totals"]["ok"]


def _env_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.decode(errors="replace").split("=", 1) for item in raw.split(b"\0") if b"=" in item)
