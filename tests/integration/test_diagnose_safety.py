"""`mcpload diagnose` never changes the target: against the reference filesystem and memory servers
(npm, pinned in the Makefile) the files on disk are byte-identical before and after, the tools with
side effects are listed but not called, and what was called is shown with its arguments.

Issue 15: diagnose used to call every tool with made-up arguments — `write_file {"path": "test",
"content": "test"}` overwrote a file, the memory server's `delete_*` tools ran.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need, node_binary
from tests.helpers import MCPLOAD

pytestmark = pytest.mark.node

PKG = ROOT / ".npm-ref" / "node_modules" / "@modelcontextprotocol"
FILESYSTEM = PKG / "server-filesystem" / "dist" / "index.js"
MEMORY = PKG / "server-memory" / "dist" / "index.js"
FS_WRITERS = {"write_file", "edit_file", "create_directory", "move_file"}
MEMORY_WRITERS = {"create_entities", "create_relations", "add_observations"} | {
    "delete_entities",
    "delete_observations",
    "delete_relations",
}


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root: kind, bytes and modification time (a rewrite with equal bytes shows too)."""
    seen: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        seen[rel] = ("dir", st.st_mtime_ns) if path.is_dir() else ("file", path.read_bytes(), st.st_mtime_ns)
    return seen


def server(script: Path, *args: str, env: dict[str, str] | None = None) -> str:
    node = node_binary()
    need(node is not None and script.exists(), f"{script.parent.parent.name} not installed (run `make npm-ref`)")
    prefix = ["env", *(f"{k}={v}" for k, v in (env or {}).items())] if env else []
    return shlex.join([*prefix, node, str(script), *args])


def diagnose(cmd: str, *extra: str, cwd: Path | None = None) -> tuple[int, dict]:
    res = subprocess.run(
        [MCPLOAD, "diagnose", "--stdio-cmd", cmd, "--json", "--call-timeout", "20", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    assert res.stdout, res.stderr
    return res.returncode, json.loads(res.stdout)


def tool_checks(diag: dict) -> dict[str, dict]:
    return {c["name"].removeprefix("tools/call "): c for c in diag["checks"] if c["name"].startswith("tools/call ")}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A directory the filesystem server may touch, with a file named like the old sample argument."""
    root = tmp_path / "served"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "test").write_text("precious: must not be overwritten\n")
    (root / "notes.txt").write_bytes(b"line 1\nline 2\n\x00binary tail")
    (root / "sub" / "deeper" / "data.json").write_text('{"keep": true}')
    (root / "sub" / "empty").mkdir()
    return root


def test_filesystem_server_unchanged(files: Path):
    before = snapshot(files)
    cmd = server(FILESYSTEM, str(files))
    # cwd inside the served directory: a relative "test" path would land on the precious file
    rc, diag = diagnose(cmd, cwd=files)
    assert diag["connected"], diag
    assert snapshot(files) == before
    checks = tool_checks(diag)
    assert checks.keys() >= FS_WRITERS, checks.keys()
    for name in FS_WRITERS:
        assert checks[name]["status"] == "SKIP" and checks[name]["arguments"] is None, checks[name]
        assert "not called" in checks[name]["detail"]
    assert set(diag["not_called"]) == FS_WRITERS
    called = {name for name, c in checks.items() if c["arguments"] is not None}
    assert {"read_text_file", "list_directory", "list_allowed_directories"} <= called, called
    assert all(c["status"] != "SKIP" for name, c in checks.items() if name in called)
    assert rc in (0, 1)


def test_memory_server_file_not_created(tmp_path: Path):
    memory = tmp_path / "memory.jsonl"
    rc, diag = diagnose(server(MEMORY, env={"MEMORY_FILE_PATH": str(memory)}))
    assert diag["connected"], diag
    assert not memory.exists() and list(tmp_path.iterdir()) == []
    checks = tool_checks(diag)
    assert checks.keys() >= MEMORY_WRITERS
    assert all(checks[n]["status"] == "SKIP" and checks[n]["arguments"] is None for n in MEMORY_WRITERS)
    assert checks["read_graph"]["arguments"] == {} and checks["read_graph"]["status"] == "PASS"
    assert rc == 0, diag


def test_memory_server_file_unchanged(tmp_path: Path):
    memory = tmp_path / "memory.jsonl"
    graph = [
        {"type": "entity", "name": "test", "entityType": "test", "observations": ["test"]},
        {"type": "relation", "from": "test", "to": "test", "relationType": "test"},
    ]
    memory.write_text("\n".join(json.dumps(g) for g in graph))
    before = snapshot(tmp_path)
    rc, diag = diagnose(server(MEMORY, env={"MEMORY_FILE_PATH": str(memory)}), "--call-tools", "read-only")
    assert snapshot(tmp_path) == before
    assert {c["name"] for c in diag["checks"] if c["status"] == "SKIP"} >= {f"tools/call {n}" for n in MEMORY_WRITERS}
    assert rc == 0, diag


def test_a_named_tool_is_called_and_the_check_sees_the_change(tmp_path: Path):
    """The snapshot check can fail: a write tool the user names is called, and the file appears."""
    memory = tmp_path / "memory.jsonl"
    rc, diag = diagnose(
        server(MEMORY, env={"MEMORY_FILE_PATH": str(memory)}), "--call-tools", "read-only,create_entities"
    )
    checks = tool_checks(diag)
    assert checks["create_entities"]["arguments"] is not None
    assert checks["delete_entities"]["status"] == "SKIP"
    assert memory.exists()  # create_entities wrote the graph
    assert rc in (0, 1)


def test_call_tools_all_needs_yes_off_a_terminal(files: Path):
    cmd = server(FILESYSTEM, str(files))
    res = subprocess.run(
        [MCPLOAD, "diagnose", "--stdio-cmd", cmd, "--call-tools", "all"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2 and "--yes" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert res.stdout == ""


@pytest.mark.parametrize("bad", ["all,echo", "none,read-only", ","])
def test_call_tools_bad_values(bad: str):
    res = subprocess.run(
        [MCPLOAD, "diagnose", "http://127.0.0.1:1/mcp", "--call-tools", bad],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert res.returncode == 2 and res.stderr.startswith("mcpload: --call-tools"), res.stderr


# --- every shape of annotations, against a server that records what it receives -------------------------

ANNOTATED = str(ROOT / "tests" / "stdio_annotated.py")


def recorded_calls(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ((), "safe"),  # the default: read-only and closed-world only
        (("--call-tools", "read-only"), "safe"),
        (("--call-tools", "destroys"), {"destroys"}),
        (("--call-tools", "read-only,writes", "--call-tools", "none_such"), "safe+writes"),
        (("--call-tools", "none"), set()),
        (("--no-calls",), set()),
        (("--call-tools", "all", "--yes"), "all"),
        (("--call-tools", "all", "--yes", "--skip-tool", "destroys"), "all-destroys"),
    ],
)
def test_only_the_tools_the_policy_allows_reach_the_server(tmp_path: Path, policy, expected):
    from tests.stdio_annotated import ANNOTATIONS, SAFE

    if isinstance(expected, str):
        expected = {
            "safe": SAFE,
            "safe+writes": SAFE | {"writes"},
            "all": set(ANNOTATIONS),
            "all-destroys": set(ANNOTATIONS) - {"destroys"},
        }[expected]
    record = tmp_path / "calls.jsonl"
    cmd = shlex.join([sys.executable, ANNOTATED, str(record)])
    rc, diag = diagnose(cmd, "--protocol", "2025-11-25", *policy)
    calls = recorded_calls(record)
    assert {c["name"] for c in calls} == expected
    assert len(calls) == len(expected)  # each once
    checks = tool_checks(diag)
    assert set(checks) >= set(ANNOTATIONS) or policy == ("--no-calls",)  # --no-calls: listed, no call checks
    for name in ANNOTATIONS:
        sent = checks.get(name, {}).get("arguments")
        assert (sent is not None) == (name in expected), checks.get(name)
        if sent is not None:  # what the table shows is what the server received
            assert sent == next(c["arguments"] for c in calls if c["name"] == name) == {"q": "test"}
    assert set(diag["not_called"]) <= set(ANNOTATIONS) - expected
    if "none_such" in policy:
        assert checks["none_such"]["status"] == "WARN"
    assert rc == 0, diag


def test_call_tools_all_on_a_terminal_asks_and_no_calls_nothing(tmp_path: Path):
    """Answering no (here: end of input on the prompt) calls none of the tools with side effects."""
    from tests.stdio_annotated import SAFE

    record = tmp_path / "calls.jsonl"
    cmd = shlex.join([sys.executable, ANNOTATED, str(record)])
    # --yes absent and stdin not a terminal is refused outright; the question itself is asked through the
    # CLI's confirm callback, which the diagnosis calls with the names before any risky call
    import asyncio

    from mcpload.diagnose import diagnose as run_diagnosis
    from mcpload.mcp.connect import Target
    from mcpload.mcp.tool_safety import CallPolicy

    asked: list[list[str]] = []

    def refuse(names: list[str]) -> bool:
        asked.append(names)
        return False

    target = Target(command=shlex.split(cmd), transport="stdio", protocol="2025-11-25")
    diag = asyncio.run(run_diagnosis(target, policy=CallPolicy.parse(["all"]), confirm=refuse))
    assert len(asked) == 1 and SAFE.isdisjoint(asked[0]) and len(asked[0]) == 10
    assert {c["name"] for c in recorded_calls(record)} == SAFE
    assert all("not confirmed" in c.detail for c in diag.checks if c.name.removeprefix("tools/call ") in asked[0])


def test_call_tools_all_names_the_risky_tools_before_calling(tmp_path: Path):
    from tests.stdio_annotated import ANNOTATIONS, SAFE

    record = tmp_path / "calls.jsonl"
    cmd = shlex.join([sys.executable, ANNOTATED, str(record)])
    res = subprocess.run(
        [MCPLOAD, "diagnose", "--stdio-cmd", cmd, "--protocol", "2025-11-25", "--call-tools", "all", "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    (line,) = [x for x in res.stderr.splitlines() if "about to call" in x]
    risky = sorted(set(ANNOTATIONS) - SAFE)
    assert line == f"mcpload: about to call {len(risky)} tools that may have side effects: " + ", ".join(
        name for name in ANNOTATIONS if name in risky
    )
