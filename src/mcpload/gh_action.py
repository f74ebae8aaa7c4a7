"""The script of the GitHub Action (``action.yml``): run a scenario, write the report, the results and
the Markdown summary into one folder, compare with a baseline results file when given, append the
summary to ``$GITHUB_STEP_SUMMARY`` and set the step's outputs. Runs anywhere: every input is an
environment variable, so it is tested locally with ``GITHUB_STEP_SUMMARY`` pointed at a temp file.

Inputs (environment): ``MCPLOAD_SCENARIO`` (a scenario file), ``MCPLOAD_URL`` (target URL overriding
the scenario's), ``MCPLOAD_ARGS`` (more ``mcpload run`` options, shell-quoted), ``MCPLOAD_BASELINE``
(a results JSON to compare with), ``MCPLOAD_ASSERT`` (``compare --assert`` expressions, one a line),
``MCPLOAD_OUT_DIR`` (default ``mcpload-out``), ``MCPLOAD_HTML`` (``false``: no HTML report).

Outputs (``$GITHUB_OUTPUT``): ``results``, ``report``, ``summary``, ``passed`` (true/false) and
``exit-code``: the run's exit code when it failed (99 thresholds, 2 bad input, 3 unreachable …),
else the comparison's (99 when an assertion failed). The script itself exits 0 when asked to
(``MCPLOAD_DEFER_EXIT=1``, what the action does so that the artifacts are uploaded first).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def mcpload_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcpload.cli", *args]


def plan(env: Mapping[str, str]) -> tuple[Path, list[str], list[str] | None]:
    """``(out_dir, run command, compare command or None)`` from the inputs; ``ValueError`` on bad input."""
    out = Path(env.get("MCPLOAD_OUT_DIR") or "mcpload-out")
    scenario, url = env.get("MCPLOAD_SCENARIO", "").strip(), env.get("MCPLOAD_URL", "").strip()
    extra = shlex.split(env.get("MCPLOAD_ARGS", ""))
    if not scenario and not url:
        raise ValueError("give the scenario input (a scenario file), or url with --tool in args (an ad-hoc run)")
    run = ["run", *([scenario] if scenario else []), *(["--url", url] if url else [])]
    run += ["--out", str(out / "results.json"), "--summary-md", str(out / "summary.md"), "--quiet"]
    if env.get("MCPLOAD_HTML", "true").strip().lower() not in ("false", "0", "no"):
        run += ["--html", str(out / "report.html")]
    baseline = env.get("MCPLOAD_BASELINE", "").strip()
    compare = None
    if baseline:
        if not Path(baseline).is_file():
            raise ValueError(f"baseline {baseline}: no such results file")
        compare = ["compare", baseline, str(out / "results.json"), "--summary-md", str(out / "comparison.md")]
        compare += ["--html", str(out / "comparison.html")] if "--html" in run else []
        for line in env.get("MCPLOAD_ASSERT", "").splitlines():
            if line.strip():
                compare += ["--assert", line.strip()]
    return out, [*run, *extra], compare


def set_outputs(env: Mapping[str, str], values: Mapping[str, str]) -> None:
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as f:
        for key, value in values.items():
            f.write(f"{key}={value}\n")


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        out, run_args, compare_args = plan(env)
    except ValueError as exc:
        print(f"mcpload action: {exc}", file=sys.stderr)
        set_outputs(env, {"passed": "false", "exit-code": "2"})
        return 0 if env.get("MCPLOAD_DEFER_EXIT") == "1" else 2
    out.mkdir(parents=True, exist_ok=True)
    print("+ mcpload " + shlex.join(run_args), flush=True)
    code = subprocess.run(mcpload_cmd(*run_args), check=False).returncode
    summary = out / "summary.md"
    if compare_args is not None and (out / "results.json").is_file():
        print("+ mcpload " + shlex.join(compare_args), flush=True)
        compared = subprocess.run(mcpload_cmd(*compare_args), check=False).returncode
        code = code or compared
        if (out / "comparison.md").is_file():
            summary = out / "comparison.md"  # the run's summary with the comparison added
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        text = summary.read_text(encoding="utf-8") if summary.is_file() else _no_summary(code)
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    set_outputs(
        env,
        {
            "results": str(out / "results.json"),
            "report": str(out / "report.html"),
            "summary": str(summary),
            "passed": "true" if code == 0 else "false",
            "exit-code": str(code),
        },
    )
    return 0 if env.get("MCPLOAD_DEFER_EXIT") == "1" else code


def _no_summary(code: int) -> str:
    return f"## ❌ mcpload: the run failed before any results (exit code {code}; see the step's log)\n"


if __name__ == "__main__":
    sys.exit(main())
