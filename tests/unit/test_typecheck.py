"""The type checker passes on src/ (issue 17): mypy, strict, as configured in pyproject.toml ([tool.mypy]).

The package ships ``py.typed``, so its annotations are a promise to users' type checkers; this test keeps
that promise in CI, where ``make test`` runs (``make lint`` runs mypy too). A failure lists mypy's errors.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_is_strict_on_all_of_src():
    with (ROOT / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)["tool"]["mypy"]
    assert config["strict"] is True and config["files"] == ["src/mcpload"]


def test_mypy_passes_on_src(tmp_path: Path):
    pytest.importorskip("mypy", reason="mypy is in the dev extra: pip install -e '.[dev]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 0 and not errors, (
        "mypy (strict) found errors:\n" + done.stdout[-6000:] + done.stderr[-2000:]
    )
