"""Pieces of split runs that need no server: the recorder's drain/absorb (exactness), segment
splitting and agent numbering, and the CLI's option parsing."""

from __future__ import annotations

import itertools
import json
import random
import time
from fractions import Fraction

import orjson
import pytest

from mcpload.cli.distributed import parse_start_at, resolve_workers
from mcpload.distributed.sizing import peak_agents
from mcpload.metrics import Recorder
from mcpload.outcome import Outcome
from mcpload.profiles import Segment, parse_profiles


def _feed(recorders: list[Recorder], seed: int = 7, n: int = 3000) -> None:
    """The same random calls, sessions, conversations and arrivals into every recorder in turn."""
    rng = random.Random(seed)
    for i in range(n):
        kind = rng.choice(["ok"] * 8 + ["timeout", "server_error"])
        op = rng.choice(["search_docs", "get_doc", "send_message"])
        latency = rng.lognormvariate(-4, 1.2) if i % 500 else 7200.0  # one out-of-range value now and then
        outcome = Outcome(
            kind, "tools/call", op, 100.0, latency, error_message=f"boom {i % 3}" if kind != "ok" else None
        )
        retry = i % 11 == 0
        for rec in recorders:
            rec.record(outcome, retry=retry, intended_start=99.9 if i % 3 == 0 else None)
            if i % 50 == 0:
                rec.session_opened(i % 100 != 0, 0.004)
                rec.conversation_finished(kind == "ok", tokens=10, wasted_tokens=0 if kind == "ok" else 10)
                rec.arrival(i % 7 != 0, 0.0005)


def test_drained_parts_absorbed_equal_one_recorder_exactly():
    # Every call goes to `whole` and to one of two "workers"; the coordinator absorbs the workers'
    # drains (through JSON, as they travel). Intervals, snapshot and histograms must be identical.
    whole, coordinator = Recorder(), Recorder()
    workers = [Recorder(), Recorder()]
    for second in range(3):
        for k in range(2):
            _feed([whole, workers[(k + second) % 2]], seed=second * 10 + k, n=1000)
        for worker in workers:
            coordinator.absorb(orjson.loads(orjson.dumps(worker.drain())))
        assert whole.interval(second + 1.0) == coordinator.interval(second + 1.0)
    assert whole.snapshot(3.0) == coordinator.snapshot(3.0)
    assert {k: v.encode() for k, v in whole.histograms().items()} == {
        k: v.encode() for k, v in coordinator.histograms().items()
    }


def test_drain_empties_the_worker_and_is_json_safe():
    rec = Recorder()
    _feed([rec], n=200)
    first = rec.drain()
    json.dumps(first)
    again = rec.drain()
    assert again["ops"] == {} and again["retry_ops"] == {}
    assert again["counters"] == {} and again["messages"] == []


def test_split_partitions_the_segment():
    seg = Segment.parse("2/3")
    parts = seg.split(4)
    assert parts[0].start == Fraction(1, 3) and parts[-1].end == Fraction(2, 3)
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    assert sum(p.length for p in parts) == seg.length
    with pytest.raises(ValueError):
        seg.split(0)


@pytest.mark.parametrize("parts", [1, 2, 3, 5])
def test_owned_indices_partition_the_agent_numbers(parts):
    segments = Segment.full().split(parts)
    seen: dict[int, int] = {}
    for s, segment in enumerate(segments):
        it = segment.owned_indices()
        for _ in range(400 // parts):
            index = next(it)
            assert index not in seen, f"index {index} owned by segments {seen.get(index)} and {s}"
            seen[index] = s
    # the full segment numbers agents 0, 1, 2, … as a plain run always did
    full = Segment.full().owned_indices()
    assert [next(full) for _ in range(5)] == [0, 1, 2, 3, 4]


def test_indexed_arrivals_are_the_whole_runs_indices():
    (profile,) = parse_profiles([{"type": "agent-arrival-rate", "rate": 50, "duration": "4s"}])
    whole = list(profile.indexed_arrivals(random.Random("s")))
    pieces = []
    for part in Segment.full().split(3):
        pieces += list(profile.for_segment(part).indexed_arrivals(random.Random("s")))
    assert sorted(pieces) == whole


def test_workers_option():
    profiles = parse_profiles([{"type": "constant-agents", "agents": 2500, "duration": "1m"}])

    class S:
        pass

    scenario = S()
    scenario.profiles = profiles
    assert peak_agents(scenario) == 2500
    assert resolve_workers("3", scenario, None) == 3
    assert 1 <= resolve_workers("auto", scenario, None) <= 3
    assert resolve_workers("auto", scenario, "auto") == 0  # Ray asks the cluster
    for bad in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="--workers"):
            resolve_workers(bad, scenario, None)


def test_start_at_option():
    assert parse_start_at(None) is None
    assert parse_start_at("1800000000") == 1800000000.0
    soon = time.time() + 60
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(soon)) + "Z"
    assert parse_start_at(iso) == pytest.approx(int(soon), abs=1)
    with pytest.raises(ValueError, match="--start-at"):
        parse_start_at("next tuesday")
    with pytest.raises(ValueError, match="in the past"):
        parse_start_at("2001-01-01T00:00:00Z")


def test_summary_names_the_split():
    from rich.console import Console

    from mcpload.outputs.console import render_summary

    def summary(execution: dict) -> str:
        console = Console(record=True, width=200)
        render_summary({"execution": execution}, console)
        return console.export_text()

    assert "split" not in summary({"backend": "local", "workers": 1, "segments": ["0:1"], "lost": []})
    text = summary(
        {
            "backend": "processes",
            "segments": ["0:1/2", "1/2:1"],
            "per_worker": [{"calls": 1200}, {"calls": 1190}],
            "lost": [{"name": "worker-2"}],
        }
    )
    assert "split 2 worker processes, calls per part 1,200, 1,190, 1 lost" in text
    assert "segment 1/2:1 of the run" in summary({"backend": "local", "segments": ["1/2:1"], "lost": []})
    # --workers auto: nothing added says nothing; each worker added, and a failed addition, say when and why
    nothing = {"max_workers": 2, "changes": []}
    assert "workers auto" not in summary({"backend": "local", "segments": ["0:1"], "lost": [], "adaptive": nothing})
    added = {
        "backend": "adaptive",
        "segments": ["0:1/2", "1/2:1"],
        "per_worker": [{"name": "this process", "segment": "0:1/2"}, {"name": "worker-2", "calls": 812}],
        "lost": [],
        "adaptive": {
            "changes": [
                {
                    "at_s": 4.0,
                    "reason": "this process: CPU 93% of a core, event-loop lag 31 ms for 2 s",
                    "to": [{"name": "this process", "segment": "0:1/2"}, {"name": "worker-2", "segment": "1/2:1"}],
                }
            ]
        },
    }
    text = summary(added)
    assert "split this process and 1 worker process, calls per worker 812" in text
    assert "--workers auto worker-2 took 1/2:1 at 4s (this process: CPU 93% of a core" in text
    added["adaptive"]["changes"][0]["took_effect"] = False  # announced, but the run was stopped before 4 s
    assert "worker-2 was to take 1/2:1 at 4s (this process: CPU 93%" in summary(added)
    assert "the run stopped first" in summary(added)
    failed = {"changes": [{"failed": "a new worker could not start: boom"}], "stopped": "boom"}
    text = summary({"backend": "local", "segments": ["0:1"], "lost": [], "adaptive": failed})
    assert "--workers auto could not add a worker (a new worker could not start: boom)" in text
