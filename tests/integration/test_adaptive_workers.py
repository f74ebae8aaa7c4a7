"""``--workers auto`` adding worker processes during a run (``distributed.adaptive``), against the real demo
server with real spawned processes.

What is asserted is structural and exact, never a rate or a latency: the load's counts across a change
(an even arrival rate: exactly rate x duration arrivals; a closed profile: the whole target every second),
what ``execution.adaptive`` records, and that no process the run started outlives it. The Python API tests
force changes with a zero-threshold policy; the CLI tests use the default policy, with agents that make
mcpload's own event loop lag (a synchronous busy wait in a ``python:`` agent), which is hot on any machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import psutil
import pytest

from mcpload.distributed.adaptive import AdaptPolicy
from mcpload.distributed.loads import run_scenario
from mcpload.profiles import Segment
from mcpload.profiles.shares import EPOCH_SPAN
from mcpload.scenario import load_scenario
from mcpload.scenario.command_line import RunRecipe
from tests.helpers import MCPLOAD, mcpload, mcpload_env

SCENARIO = """
name: adaptive
target: {{url: "{url}"}}
agents:
  worker:
    workflow:
      - call: search_docs
        args: {{query: "q {{{{ agent.index }}}}"}}
      - call: get_doc
        args: {{doc_id: "doc-1"}}
profiles:
{profile}
"""
RATE, OPEN_S = 20, 8
OPEN = f"  - type: agent-arrival-rate\n    rate: {RATE}\n    duration: {OPEN_S}s\n    distribution: even"
CLOSED_AGENTS, CLOSED_S = 6, 8
CLOSED = f"  - type: constant-agents\n    agents: {CLOSED_AGENTS}\n    duration: {CLOSED_S}s"

#: a closed-profile agent that writes "pid number" once per agent (every process appends to the same log)
NUMBERED_AGENT = """
import asyncio
import itertools
import os

import mcpload


class Numbered(mcpload.Agent):
    async def run(self, session):
        if not self.saved:
            self.saved["logged"] = True
            with open({log!r}, "a") as log:
                log.write(f"{{os.getpid()}} {{self.index}}\\n")
        await session.call_tool("search_docs", {{"query": f"q {{self.index}}"}})
        await asyncio.sleep(0.1)
"""
NUMBERED_SCENARIO = (
    """
name: numbered
target: {{url: "{url}"}}
agents:
  numbered:
    python: numbered.py:Numbered
profiles:
"""
    + CLOSED
    + "\n"
)

#: an agent that keeps mcpload's own event loop busy: a 40 ms synchronous wait before each call, so that
#: with a few of them the loop lags well over the default 25 ms every second, on any machine
BUSY_AGENT = """
import time

import mcpload


class Busy(mcpload.Agent):
    async def run(self, session):
        until = time.perf_counter() + 0.04
        while time.perf_counter() < until:
            pass
        await session.call_tool("search_docs", {"query": "busy"})
"""
BUSY_SCENARIO = """
name: busy
target: {{url: "{url}"}}
agents:
  busy:
    python: busy.py:Busy
profiles:
  - type: constant-agents
    agents: 3
    duration: {duration}
"""
#: the same agent, whose module takes a minute to import in a worker spawned during the run (``python -c``),
#: after leaving a mark: a worker that is still starting when the run is stopped
SLOW_START = """
import pathlib
import sys
import time

if sys.argv == ["-c"]:
    pathlib.Path({mark!r}).touch()
    time.sleep(60)
"""
#: a worker is added only on a machine where this process may run on two cores or more
TWO_CORES = len(os.sched_getaffinity(0)) >= 2

#: every process is hot at once: a change is decided at the first cut and again after each cooldown
FORCED = AdaptPolicy(lag_ms=0, cpu=0, hot_intervals=1, cooldown_s=2, min_left_s=3, max_workers=3)


def tool_calls(results: dict[str, Any]) -> int:
    return sum(op["calls"] for name, op in results["operations"].items() if name.startswith("tools/call"))


def write_scenario(directory: Path, url: str, profile: str) -> Path:
    path = directory / "adaptive.yaml"
    path.write_text(SCENARIO.format(url=url, profile=profile))
    return path


def run_api(
    path: Path, policy: AdaptPolicy | bool, recipe: Any = None, seed: int = 3, on_interval: Any = None
) -> dict[str, Any]:
    """The Python API run of ``path`` (``recipe``: what an added worker rebuilds the run from)."""
    recipe = recipe if recipe is not None else RunRecipe(scenario_file=path)
    run = run_scenario(load_scenario(path), adaptive=policy, recipe=recipe, seed=seed, on_interval=on_interval)
    return asyncio.run(run).results


def raising_recipe() -> Any:
    """A recipe whose call fails in the spawned worker (picklable: a module-level function)."""
    raise RuntimeError("this recipe cannot\nbuild the scenario")


@dataclass(frozen=True)
class SlowRecipe:
    """A recipe that takes ``delay_s`` before rebuilding the run (a slow start of an added worker)."""

    recipe: RunRecipe
    delay_s: float

    def __call__(self) -> Any:
        time.sleep(self.delay_s)
        return self.recipe()


def my_new_children(before: set[int]) -> list[psutil.Process]:
    """The processes this test process started (recursively) that were not there at ``before``."""
    return [p for p in psutil.Process().children(recursive=True) if p.pid not in before]


def assert_changes_are_well_formed(execution: dict[str, Any]) -> None:
    """Every change is on a whole second at least a second after it was decided, splits its donor's
    segment in two halves, and the segments at the end partition [0, 1)."""
    changes = execution["adaptive"]["changes"]
    for change in changes:
        assert "failed" not in change, change
        assert change["at_s"] == math.floor(change["at_s"]), change
        assert change["at_s"] >= change["decided_at_s"] + 1, change
        whole = Segment.parse(change["from"]["segment"])
        kept, given = (Segment.parse(part["segment"]) for part in change["to"])
        assert (kept.start, kept.end, given.start, given.end) == (
            whole.start,
            whole.start + whole.length / 2,
            whole.start + whole.length / 2,
            whole.end,
        )
    segments = sorted((Segment.parse(s) for s in execution["segments"]), key=lambda s: s.start)
    assert segments[0].start == 0 and segments[-1].end == 1
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))
    assert sum(s.length for s in segments) == Fraction(1)
    assert execution["workers"] == len(segments) == len(changes) + 1
    assert execution["per_worker"][0]["name"] == "this process"


def test_open_profile_counts_exactly_across_added_workers(demo_url: str, tmp_path: Path):
    path = write_scenario(tmp_path, demo_url, OPEN)
    results = run_api(path, FORCED)
    execution = results["execution"]
    assert execution["backend"] == "adaptive"
    assert execution["adaptive"]["changes"], execution
    assert_changes_are_well_formed(execution)
    assert execution["lost"] == []
    # an even arrival rate: exactly rate x duration arrivals, each one session of two calls, wherever it ran
    assert results["conversations"]["completed"] == RATE * OPEN_S, results["conversations"]
    assert tool_calls(results) == 2 * RATE * OPEN_S
    spawned = execution["per_worker"][1:]
    assert spawned and all(w["calls"] > 0 for w in spawned), execution["per_worker"]
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]


def test_closed_profile_keeps_the_whole_target_and_unique_agents(demo_url: str, tmp_path: Path):
    log = tmp_path / "agents.log"
    (tmp_path / "numbered.py").write_text(NUMBERED_AGENT.format(log=str(log)))
    path = tmp_path / "numbered.yaml"
    path.write_text(NUMBERED_SCENARIO.format(url=demo_url))
    results = run_api(path, FORCED)
    execution = results["execution"]
    assert execution["backend"] == "adaptive" and execution["lost"] == []
    assert_changes_are_well_formed(execution)
    # every second while the profile runs, the processes' targets add up to the whole target. Gauges are
    # samples (each process's, from its last 0.1 s tick): the cut on a change's own second may catch one
    # process before its switch and the other after it, so that second is left out
    running = [i for i in results["intervals"] if i["t"] < CLOSED_S - 0.5]
    assert len(running) == CLOSED_S - 1
    switching = {c["at_s"] for c in execution["adaptive"]["changes"]}
    steady = [i for i in running if round(i["t"]) not in switching]
    assert len(steady) >= len(running) - len(switching)
    assert [i["target_agents"] for i in steady] == [CLOSED_AGENTS] * len(steady)
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]
    assert all(w["calls"] > 0 for w in execution["per_worker"][1:]), execution["per_worker"]
    # one line per agent started, wherever: no number taken twice; the agents of an added worker are
    # numbered in a later epoch; each process started exactly the agents its shares asked for
    started = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    numbers = [n for _, n in started]
    assert len(set(numbers)) == len(numbers), started
    here = [n for pid, n in started if pid == os.getpid()]
    assert sorted(here) == list(range(CLOSED_AGENTS)), started
    elsewhere = [n for pid, n in started if pid != os.getpid()]
    assert len(elsewhere) == sum(
        Segment.parse(c["to"][1]["segment"]).scale(CLOSED_AGENTS) for c in execution["adaptive"]["changes"]
    ), (started, execution["adaptive"])
    assert all(n >= EPOCH_SPAN for n in elsewhere), started


@pytest.mark.parametrize("why", ["recipe raises", "scenario changed"])
def test_a_worker_that_cannot_start_leaves_the_load_here(demo_url: str, tmp_path: Path, why: str):
    """The first change is decided at the first cut; its worker cannot start. ``recipe raises``: rebuilding
    the run fails in the worker; ``scenario changed``: the scenario file was edited once the run had started
    (at the first interval, which the runner reports before the new worker is spawned), and a worker
    rebuilding it would run another scenario."""
    seconds = 5
    path = write_scenario(tmp_path, demo_url, OPEN.replace(f"duration: {OPEN_S}s", f"duration: {seconds}s"))

    def edit(interval: dict[str, Any], _snapshot: dict[str, Any]) -> None:
        if why == "scenario changed" and not path.read_text().endswith("# edited\n"):
            path.write_text(path.read_text() + "# edited\n")

    recipe = raising_recipe if why == "recipe raises" else None
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    results = run_api(path, FORCED, recipe=recipe, on_interval=edit)
    execution = results["execution"]
    adaptive = execution["adaptive"]
    # one attempt, recorded with its reason in one line; then no more
    assert len(adaptive["changes"]) == 1, adaptive
    failed = adaptive["changes"][0]["failed"]
    expected = {
        "recipe raises": "RuntimeError: this recipe cannot build the scenario",
        "scenario changed": f"the scenario file {path.resolve()} changed",
    }[why]
    assert expected in failed and "\n" not in failed, failed
    assert adaptive["stopped"] == failed
    assert "at_s" not in adaptive["changes"][0]
    # the whole load ran in this process, exactly
    assert execution["backend"] == "local" and execution["workers"] == 1
    assert results["conversations"]["completed"] == RATE * seconds
    assert tool_calls(results) == 2 * RATE * seconds
    # the worker that failed to start is gone
    assert my_new_children(before) == []


def test_a_worker_ready_too_late_for_any_load_is_not_added(demo_url: str, tmp_path: Path):
    """The change is decided at the first cut (1 s), when enough of the load is left; the worker is ready no
    sooner than 4 s later (its recipe takes 3 s), so its share could take effect at 6 s at the earliest:
    when the load has ended. No change is made (a worker with no load would be reported as a part); the
    dropped worker is said."""
    path = write_scenario(tmp_path, demo_url, OPEN.replace(f"duration: {OPEN_S}s", "duration: 6s"))
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    policy = replace(FORCED, max_workers=2)
    results = run_api(path, policy, recipe=SlowRecipe(RunRecipe(scenario_file=path), 3.0))
    execution = results["execution"]
    (dropped,) = execution["adaptive"]["changes"]
    assert "after the load's end at 6s" in dropped["failed"] and "at_s" not in dropped, dropped
    assert "stopped" not in execution["adaptive"]
    assert execution["backend"] == "local"
    assert results["conversations"]["completed"] == RATE * 6
    assert my_new_children(before) == []


# --- the command line: the default policy --------------------------------------------------------------


def busy_scenario(directory: Path, url: str, duration: str) -> Path:
    (directory / "busy.py").write_text(BUSY_AGENT)
    path = directory / "busy.yaml"
    path.write_text(BUSY_SCENARIO.format(url=url, duration=duration))
    return path


def test_a_light_short_run_is_left_alone(demo_url: str, tmp_path: Path):
    args = ["run", "--url", demo_url, "--tool", "search_docs", "--args", '{"query": "q"}', "--think", "100ms"]
    done = mcpload(*args, "--agents", "2", "--duration", "3s", "--out", "r.json", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    execution = json.loads((tmp_path / "r.json").read_text())["execution"]
    # the default policy, reported; its cap is the cores this process may run on
    assert execution["adaptive"] == {**AdaptPolicy().describe(), "changes": []}
    assert execution["adaptive"]["max_workers"] == len(os.sched_getaffinity(0))
    assert execution["backend"] == "local"
    # nothing was done, so the summary says nothing of workers
    assert done.stdout.startswith("run ") and "--workers auto" not in done.stdout and "split" not in done.stdout


@pytest.mark.skipif(not TWO_CORES, reason="--workers auto adds a worker only where this process may use 2 cores")
def test_a_lagging_event_loop_gets_a_worker(demo_url: str, tmp_path: Path):
    path = busy_scenario(tmp_path, demo_url, "10s")
    done = mcpload("run", path, "--out", "r.json", "-q", cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "r.json").read_text())
    execution = results["execution"]
    changes = execution["adaptive"]["changes"]
    assert changes, execution
    assert execution["backend"] == "adaptive" and execution["lost"] == []
    assert_changes_are_well_formed(execution)
    # what made it hot is said: this process, its loop lag over the threshold
    assert changes[0]["from"]["name"] == "this process" and "event-loop lag" in changes[0]["reason"]
    assert all(w["calls"] > 0 for w in execution["per_worker"][1:]), execution["per_worker"]
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]
    # with -q, stdout is the end summary and nothing else (adding a worker prints nothing of its own) ...
    assert done.stdout.startswith("run "), done.stdout[:500]
    # ... which says what was done: each worker added, its share, when and why
    summary = " ".join(done.stdout.split())
    workers = len(execution["segments"]) - 1
    assert f"split this process and {workers} worker process" in summary, done.stdout
    for change in changes:
        given = change["to"][1]
        said = f"{given['name']} took {given['segment']} at {change['at_s']:g}s ({change['reason']})"
        assert said in summary, done.stdout


def start_busy_run(directory: Path, url: str, slow_start: bool = False) -> subprocess.Popen[str]:
    path = busy_scenario(directory, url, "60s")
    if slow_start:
        busy = directory / "busy.py"
        busy.write_text(SLOW_START.format(mark=str(directory / "starting")) + busy.read_text())
    command = [MCPLOAD, "run", str(path), "--out", "r.json", "-q"]
    return subprocess.Popen(
        command,
        cwd=directory,
        env=mcpload_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a run started at a terminal
    )


def signal_and_wait(proc: subprocess.Popen[str], sig: signal.Signals, within_s: float) -> str:
    """Send ``sig`` as a terminal (SIGINT: the whole foreground group) or a supervisor (the process alone)
    would, and wait for the run to end: exit 130 within ``within_s``, no traceback. Returns its stderr."""
    sent = time.monotonic()
    try:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # Ctrl-C at a terminal: the whole foreground process group
        else:
            proc.send_signal(sig)  # what a supervisor sends: the run's process alone
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr[-3000:]
    assert time.monotonic() - sent < within_s and "Traceback" not in stderr
    return stderr


@pytest.mark.skipif(not TWO_CORES, reason="--workers auto adds a worker only where this process may use 2 cores")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", ["added", "running"])
def test_a_signal_after_a_worker_was_added_stops_everything(
    demo_url: str, tmp_path: Path, sig: signal.Signals, moment: str
):
    """``added``: right after the worker joined, before its share takes effect (it holds nothing yet);
    ``running``: once its share is in effect (it runs agents)."""
    proc = start_busy_run(tmp_path, demo_url)
    log = tmp_path / "r.ndjson"
    # The coordinator reports its workers' loop lag from the first cut after a worker joined (cut n). The
    # change takes effect on the first whole second >= 1.5 s after the join, so by cut n + 2 at the latest;
    # one second more and the worker has run its agents for a second.
    cuts = 1 if moment == "added" else 4
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_text().count('"workers_loop_lag_ms"') >= cuts):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no worker was added within 30 s"
            time.sleep(0.1)
        started = psutil.Process(proc.pid).children(recursive=True)
        assert started, "the added worker is a process of the run"
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        raise
    signal_and_wait(proc, sig, within_s=30)
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["stopped_by_user"] is True
    execution = results["execution"]
    assert execution["backend"] == "adaptive" and execution["lost"] == []
    if moment == "running":
        assert execution["per_worker"][1]["calls"] > 0, execution
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]
    # the coordinator stopped its worker (in its own session, no signal reached it)
    _, alive = psutil.wait_procs(started, timeout=5)
    assert alive == [], [p.cmdline() for p in alive]


@pytest.mark.skipif(not TWO_CORES, reason="--workers auto adds a worker only where this process may use 2 cores")
def test_ctrl_c_while_a_worker_starts_stops_it(demo_url: str, tmp_path: Path):
    """The worker being added is still importing the scenario's agents (for a minute) when Ctrl-C comes: the
    run stops at once, as without it, and the worker does not outlive it."""
    proc = start_busy_run(tmp_path, demo_url, slow_start=True)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "starting").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no worker was started within 30 s"
            time.sleep(0.1)
        started = psutil.Process(proc.pid).children(recursive=True)
        assert any("spawned_main" in " ".join(p.cmdline()) for p in started), started
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        raise
    signal_and_wait(proc, signal.SIGINT, within_s=15)
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["stopped_by_user"] is True
    # the addition was dropped: nothing changed, and the run was this process's alone
    assert results["execution"]["backend"] == "local", results["execution"]
    assert results["execution"]["adaptive"]["changes"] == []
    _, alive = psutil.wait_procs(started, timeout=5)
    assert alive == [], [p.cmdline() for p in alive]
