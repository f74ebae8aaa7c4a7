"""The GitHub Action run locally: ``action.yml``'s script (``mcpload.gh_action``) against the demo
server with ``GITHUB_STEP_SUMMARY``/``GITHUB_OUTPUT`` pointed at temp files, a regression gate on a
baseline, bad inputs, and ``--summary-md`` on the commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcpload import gh_action

ROOT = Path(__file__).resolve().parents[2]
ADHOC = '--tool search_docs --args \'{"query": "q"}\' --agents 2 --duration 1s --seed 1'


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def _env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    import os

    (tmp_path / "summary").touch()
    return {
        **os.environ,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
        "MCPLOAD_OUT_DIR": str(tmp_path / "out"),
        **inputs,
    }


def test_a_run_then_a_gate_on_its_baseline(demo_url, tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    env = _env(first, MCPLOAD_URL=demo_url, MCPLOAD_ARGS=ADHOC)
    assert gh_action.main(env) == 0
    out = _outputs(first / "outputs")
    assert out["passed"] == "true" and out["exit-code"] == "0"
    for name in ("results.json", "report.html", "summary.md"):
        assert (first / "out" / name).stat().st_size > 0
    summary = (first / "summary").read_text()
    assert summary.startswith("## ✅ mcpload: ad-hoc search\\_docs")
    assert "| tools/call search\\_docs |" in summary

    second = tmp_path / "second"
    second.mkdir()
    env = _env(
        second,
        MCPLOAD_URL=demo_url,
        MCPLOAD_ARGS=ADHOC,
        MCPLOAD_BASELINE=out["results"],
        MCPLOAD_ASSERT="calls_per_s_delta > -90%\np95_delta < -99%\n",  # the second one cannot pass
        MCPLOAD_DEFER_EXIT="1",
    )
    assert gh_action.main(env) == 0  # deferred: the action's last step fails after the upload
    out = _outputs(second / "outputs")
    assert out["passed"] == "false" and out["exit-code"] == "99"
    summary = (second / "summary").read_text()
    assert summary.startswith("## ❌") and "1 of 2 comparison assertions failed" in summary
    assert "### Compared with results.json" in summary and "| ❌ | p95\\_delta \\< -99% |" in summary
    assert (second / "out" / "comparison.html").is_file()


def test_bad_inputs(tmp_path):
    env = _env(tmp_path)
    assert gh_action.main(env) == 2
    assert _outputs(tmp_path / "outputs") == {"passed": "false", "exit-code": "2"}
    with pytest.raises(ValueError, match="no such results file"):
        gh_action.plan({"MCPLOAD_URL": "http://x", "MCPLOAD_BASELINE": str(tmp_path / "nope.json")})


def test_an_unreachable_target_still_writes_a_summary(tmp_path):
    from mcpload.demo.launch import free_port

    env = _env(
        tmp_path, MCPLOAD_URL=f"http://127.0.0.1:{free_port()}/mcp", MCPLOAD_ARGS="--tool t", MCPLOAD_HTML="false"
    )
    assert gh_action.main(env) == 3
    assert "failed before any results (exit code 3" in (tmp_path / "summary").read_text()


def test_action_yml_runs_the_script_without_injecting_inputs():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    runs = [s for s in steps if "run" in s]
    # inputs reach scripts through env only: `${{ inputs.x }}` in a `run:` would be a script injection
    assert all("${{" not in s["run"] for s in runs)
    script = next(s for s in runs if "mcpload.gh_action" in s["run"])
    read = set(re.findall(r"MCPLOAD_[A-Z_]+", Path(gh_action.__file__).read_text()))
    assert set(script["env"]) <= read and {"MCPLOAD_SCENARIO", "MCPLOAD_BASELINE", "MCPLOAD_ASSERT"} <= set(
        script["env"]
    )
    assert script["env"]["MCPLOAD_DEFER_EXIT"] == "1"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"].startswith("always()")
    assert steps[-1]["env"]["CODE"] == "${{ steps.run.outputs.exit-code }}"


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--url", "http://127.0.0.1:9/mcp", "--tool", "t"],
        ["capacity", "--url", "http://127.0.0.1:9/mcp", "--tool", "t"],
        ["compare", "a", "b"],
    ],
)
def test_summary_md_in_a_missing_directory_exits_2_before_anything(command, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mcpload.cli", *command, "--summary-md", str(tmp_path / "no" / "s.md")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "--summary-md" in proc.stderr and "no such directory" in proc.stderr and "Traceback" not in proc.stderr


def test_capacity_writes_its_summary(demo_url, tmp_path):
    md = tmp_path / "cap.md"
    cmd = [sys.executable, "-m", "mcpload.cli", "capacity", "--url", demo_url, "--tool", "get_doc", "--args",
           '{"doc_id": "d"}', "--start", "1", "--step", "+1", "--max-load", "2", "--step-duration", "1s",
           "--warmup", "0.5s", "--min-calls", "5", "--recovery-timeout", "0", "--quiet",
           "--out", str(tmp_path / "cap.json"), "--summary-md", str(md)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = md.read_text()
    assert text.startswith("## ✅ mcpload:") and "### Capacity" in text and "| ceiling | 2 agents |" in text
    assert "| tools/call get\\_doc |" in text
