"""The import contracts of pyproject.toml ([tool.importlinter]): data flows one way through the layers,
no two packages import each other, and no two modules of a package do (issue 17). A broken contract
fails naming it and the imports that break it, as ``lint-imports`` reports them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]["contracts"]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    command = str(exe) if exe.exists() else shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports not found: install the dev extra (pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_layers_and_the_acyclic_contracts_are_configured():
    by_id = {c["id"]: c for c in _contracts()}
    assert by_id["layers"]["type"] == "layers" and by_id["layers"]["exhaustive"] is True
    assert by_id["acyclic"]["type"] == "acyclic_siblings" and by_id["acyclic"]["ancestors"] == ["mcpload"]
    # the acyclic contract reaches the modules of every package, however deep (depth 0: packages only)
    packages = [p for p in (ROOT / "src" / "mcpload").rglob("__init__.py") if "__pycache__" not in p.parts]
    deepest = max(len(p.parent.relative_to(ROOT / "src" / "mcpload").parts) for p in packages)
    assert deepest >= 1 and by_id["acyclic"].get("depth", 10) >= deepest
    assert not by_id["acyclic"].get("exclude_type_checking_imports", False)  # a cycle under TYPE_CHECKING counts
    # no import is exempted: an edge against the flow is fixed, not ignored (issue 17)
    assert all(not contract.get("ignore_imports") for contract in by_id.values())


def test_import_contracts_are_kept():
    done = _lint_imports()
    report = done.stdout + done.stderr
    names = {c["name"] for c in _contracts()}
    kept = {name for name in names if re.search(rf"^{re.escape(name)} KEPT\b", report, re.M)}
    broken = sorted(names - kept)
    assert done.returncode == 0 and not broken, f"broken import contracts: {broken}\n{report[-6000:]}"
