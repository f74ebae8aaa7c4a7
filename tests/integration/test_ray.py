"""Split runs on Ray (extra ``mcpload[ray]``): a local cluster (2 CPUs) against the demo server.

Slow (a Ray start is ~5 s), few, and run in CI: a two-actor run of the demo scenario equals the sum of
its segments and each actor's share equals a local ``--segment`` run with the same seed; an actor lost
mid-run is reported with its share.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
from pathlib import Path

import pytest

from mcpload.distributed.loads import run_scenario
from mcpload.scenario import load_scenario
from tests.conftest import need
from tests.helpers import mcpload

pytestmark = pytest.mark.slow

try:
    import ray
except ImportError:  # pragma: no cover - CI installs the extra
    ray = None

# the demo scenario's agents and tools, with a short deterministic profile: 40 arrivals in 4 s
DEMO = Path(__file__).resolve().parents[2] / "src" / "mcpload" / "demo" / "scenario.yaml"


def short_demo(tmp_path: Path, url: str) -> Path:
    import yaml

    from mcpload.scenario.loader import read_yaml

    data = read_yaml(DEMO.read_text())
    data["target"] = {"url": url}
    data["profiles"] = [{"type": "agent-arrival-rate", "rate": 10, "duration": "4s", "distribution": "even"}]
    data.pop("thresholds", None)
    for spec in data["agents"].values():
        spec.pop("idle", None)
        spec["conversations_per_session"] = 1
    path = tmp_path / "demo-short.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


mcpload = functools.partial(mcpload, module=True, timeout=180)


def test_ray_run_equals_the_sum_of_its_segments(tmp_path: Path, demo_url: str):
    need(ray is not None, "Ray is not installed (pip install 'mcpload[ray]')")
    scenario = short_demo(tmp_path, demo_url)
    out = tmp_path / "ray.json"
    done = mcpload("run", scenario, "--ray", "auto", "--workers", "2", "--seed", "5", "--out", out, "-q")
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    execution = results["execution"]
    assert execution["backend"] == "ray" and execution["lost"] == []
    per_worker = execution["per_worker"]
    assert [w["segment"] for w in per_worker] == ["0:1/2", "1/2:1"]
    assert sum(w["calls"] for w in per_worker) == results["totals"]["calls"]
    assert sum(i["calls"] for i in results["intervals"]) == results["totals"]["calls"]
    # each actor ran what a local run of its segment with the same seed runs: same arrivals, same calls
    # (the two local runs at once, as the two actors ran)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda i: mcpload(
                    "run", scenario, "--segment", f"{i}/2", "--seed", "5", "--out", tmp_path / f"seg{i}.json", "-q"
                ),
                (1, 2),
            )
        )
    for i, (worker, local) in enumerate(zip(per_worker, runs, strict=True), start=1):
        assert local.returncode == 0, local.stderr[-3000:]
        local_results = json.loads((tmp_path / f"seg{i}.json").read_text())
        assert worker["calls"] == local_results["totals"]["calls"]
        assert results["conversations"]["completed"] >= local_results["conversations"]["completed"]


@pytest.fixture(scope="module")
def local_ray():
    need(ray is not None, "Ray is not installed (pip install 'mcpload[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _build(path: str):
    scenario = load_scenario(path)
    return scenario, scenario.to_target()


def test_a_lost_actor_is_reported(tmp_path: Path, demo_url: str, local_ray):
    path = short_demo(tmp_path, demo_url)
    text = path.read_text().replace("duration: 4s", "duration: 6s")
    path.write_text(text)
    killed: list[str] = []

    def on_interval(interval, snapshot):
        if killed or interval["t"] < 1.5:
            return
        names = sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if "mcpload-" in str(a))
        ray.kill(ray.get_actor(names[-1]))
        killed.append(names[-1])

    report = asyncio.run(
        run_scenario(
            load_scenario(path),
            seed=1,
            ray=True,
            workers=2,
            recipe=functools.partial(_build, str(path)),
            on_interval=on_interval,
        )
    )
    assert killed
    lost = report.results["execution"]["lost"]
    assert len(lost) == 1, lost
    assert lost[0]["name"] == killed[0] and lost[0]["segment"] == "1/2:1" and lost[0]["share"] == 0.5
    assert report.results["totals"]["calls"] > 0
