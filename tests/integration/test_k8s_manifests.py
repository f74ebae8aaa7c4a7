"""The Kubernetes path (deploy/k8s/) without a cluster: the manifests are consistent, the example
scenario loads, and the pods' own shell commands (run-job.yaml, merge-job.yaml) run here as Kubernetes
would run them (JOB_COMPLETION_INDEX set per pod, all pods at once, the same START_AT) against the demo
server, and the merge of their files adds up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from mcpload.scenario import Scenario
from mcpload.scenario.loader import read_yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"

SCENARIO = """
name: k8s-local
target: {{url: "{url}"}}
agents:
  a:
    workflow:
      - call: search_docs
        args: {{query: "q"}}
profiles:
  - type: agent-arrival-rate
    rate: 20
    duration: 2s
    distribution: even
"""


def job(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


def test_manifests_agree_and_the_example_scenario_loads():
    run = job("run-job.yaml")
    spec = run["spec"]
    assert spec["completionMode"] == "Indexed"
    env = {e["name"]: e["value"] for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert spec["completions"] == spec["parallelism"] == int(env["SEGMENTS"])
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    configmap = yaml.safe_load((K8S / "scenario-configmap.yaml").read_text())
    Scenario.from_dict(read_yaml(configmap["data"]["scenario.yaml"]), source="scenario-configmap.yaml")
    merge = job("merge-job.yaml")
    assert "mcpload merge /results/results-*.json" in merge["spec"]["template"]["spec"]["containers"][0]["args"][0]


def _pod_shell(name: str) -> str:
    container = job(name)["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c"]
    return container["args"][0]


def test_the_pods_commands_run_and_merge(tmp_path: Path, demo_url: str):
    scenario_dir, results = tmp_path / "scenario", tmp_path / "results"
    scenario_dir.mkdir()
    results.mkdir()
    (scenario_dir / "scenario.yaml").write_text(SCENARIO.format(url=demo_url))

    def local(shell: str) -> str:
        return shell.replace("/scenario/", f"{scenario_dir}/").replace("/results/", f"{results}/")

    env_spec = {e["name"]: e["value"] for e in job("run-job.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]}
    segments = 2  # fewer pods than the manifest's 4, to keep the test light; the command takes N from SEGMENTS
    base_env = {
        **os.environ,
        **env_spec,
        "SEGMENTS": str(segments),
        "START_AT": str(int(time.time()) + 3),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    pods = [
        subprocess.Popen(
            ["/bin/sh", "-c", local(_pod_shell("run-job.yaml"))],
            env={**base_env, "JOB_COMPLETION_INDEX": str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(segments)
    ]
    for pod in pods:
        _, err = pod.communicate(timeout=60)
        assert pod.returncode == 0, err
    files = sorted(results.glob("results-*.json"))
    assert [f.name for f in files] == ["results-0.json", "results-1.json"]
    parts = [json.loads(f.read_text()) for f in files]
    assert [p["execution"]["segments"] for p in parts] == [["0:1/2"], ["1/2:1"]]

    merged = subprocess.run(
        ["/bin/sh", "-c", local(_pod_shell("merge-job.yaml"))], env=base_env, capture_output=True, text=True, timeout=60
    )
    assert merged.returncode == 0, merged.stderr
    total = json.loads((results / "total.json").read_text())
    assert total["totals"]["calls"] == sum(p["totals"]["calls"] for p in parts)
    assert total["operations"]["tools/call search_docs"]["calls"] == 40
    assert (results / "total.html").stat().st_size > 10_000
