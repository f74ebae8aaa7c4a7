"""Outputs (issue 18 §5): every output path is checked before the load (exit 2, one line), and a write
that fails after the run loses only that output: the summary is printed, the other outputs are
written, the lost one is named, and the exit code is 4.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mcpload.atomic import write_text_atomic
from mcpload.outputs.paths import check_outputs, output_problem
from tests.helpers import MCPLOAD
from tests.integration.test_input_limits import BASE_TEXT, in_process, one_line

ROOT = Path(__file__).resolve().parents[2]
ECHO_SERVER = str(ROOT / "tests" / "echo_server.py")


def _place(tmp_path: Path, kind: str) -> str:
    """An output path of the given bad kind."""
    if kind == "directory":
        (tmp_path / "d").mkdir()
        return "d"
    if kind == "missing-folder":
        return "no/such/folder/x.out"
    if kind == "device":
        return "/dev/null"
    if kind == "device-symlink":
        (tmp_path / "null.out").symlink_to("/dev/null")
        return "null.out"
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.out")
        return "pipe.out"
    if kind == "folder-is-a-file":
        (tmp_path / "file").write_text("x")
        return "file/x.out"
    if kind == "read-only-place":
        return "/proc/mcpload-test.out"  # a file system where nothing can be created, even by root
    raise AssertionError(kind)


KINDS = ["directory", "missing-folder", "device", "device-symlink", "fifo", "folder-is-a-file", "read-only-place"]
EXPECT = {
    "directory": "is a directory",
    "missing-folder": "no such directory no/such/folder",
    "device": "is a device, not a regular file",
    "device-symlink": "is a device, not a regular file",
    "fifo": "is a FIFO, not a regular file",
    "folder-is-a-file": "file is not a directory",
    "read-only-place": "cannot create files in /proc",
}
RUN = ["run", "s.yaml", "-q"]
COMMANDS = {
    "--out": [*RUN, "--out"],
    "--html": [*RUN, "--html"],
    "--csv": [*RUN, "--csv"],
    "--junit": [*RUN, "--junit"],
    "report -o": ["report", "r.json", "-o"],
    "compare --html": ["compare", "r.json", "r.json", "--html"],
    "merge --out": ["merge", "r.json", "--out"],
    "capacity --out": ["capacity", "s.yaml", "-q", "--out"],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_unusable_output_path_fails_before_any_load(tmp_path, command, kind):
    if command.endswith("--html") or command.startswith("report"):
        pytest.importorskip("plotly")
    (tmp_path / "s.yaml").write_text(BASE_TEXT)  # its target is a closed port: a load would exit 3
    (tmp_path / "r.json").write_text("{}")
    path = _place(tmp_path, kind)
    line = one_line(*in_process(*COMMANDS[command], path, cwd=tmp_path))
    assert path in line and EXPECT[kind] in line, line
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # never replaced


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--out", "r.ndjson"], "--out (its interval log) r.ndjson: the same file as --out"),
        (["--out", "a.json", "--csv", "a.json"], "--csv a.json: the same file as --out"),
        (["--out", "a.json", "--junit", "./a.json"], "--junit a.json: the same file as --out"),
        (["--csv", "x.csv", "--junit", "x.csv"], "--csv x.csv: the same file as --junit"),
        (["--out", "a.json", "--csv", "a.ndjson"], "--csv a.ndjson: the same file as --out (its interval log)"),
    ],
)
def test_two_outputs_on_one_file_fail_before_any_load(tmp_path, argv, expected):
    (tmp_path / "s.yaml").write_text(BASE_TEXT)
    line = one_line(*in_process(*RUN, *argv, cwd=tmp_path))
    assert line == f"mcpload: {expected}", line


def test_read_only_file_is_refused(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write a read-only file")
    path = tmp_path / "r.json"
    path.write_text("{}")
    path.chmod(0o444)
    assert output_problem(path) == "is read-only"


def test_check_outputs_accepts_new_and_existing_regular_files(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    assert check_outputs([("--out", tmp_path / "old.json"), ("--csv", tmp_path / "new.csv"), ("--html", None)]) is None
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]  # the probe leaves nothing behind


@pytest.mark.parametrize("target", ["/dev/null", "/dev/full", "directory"])
def test_atomic_replace_never_replaces_what_is_not_a_regular_file(tmp_path, target):
    path = tmp_path if target == "directory" else Path(target)
    before = os.stat(path)
    with pytest.raises(OSError, match="not a regular file"):
        write_text_atomic(path, "x")
    after = os.stat(path)
    assert (before.st_mode, before.st_ino) == (after.st_mode, after.st_ino)


# --------------------------------------------------------------------------- a write that fails after the run


@pytest.fixture
def echo_server():
    proc = subprocess.Popen([sys.executable, ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.kill()
        proc.wait(10)


def test_an_output_lost_after_the_run_costs_only_itself(tmp_path, echo_server):
    (tmp_path / "s.yaml").write_text(
        yaml.safe_dump(
            {
                "target": {"url": echo_server},
                "agents": {"a": {"workflow": [{"call": "echo"}, {"think": "100ms"}]}},
                "profiles": {"type": "constant-agents", "agents": 1, "duration": "2s"},
            }
        )
    )
    (tmp_path / "gone").mkdir()
    cmd = [MCPLOAD, "run", "s.yaml", "-q", "--out", "r.json", "--csv", "gone/i.csv", "--junit", "j.xml"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "r.ndjson").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the interval log appears when the load starts, after every check
    (tmp_path / "gone").rmdir()  # the CSV's folder disappears during the run
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 4, err
    assert "calls by operation" in out  # the summary is printed
    lost = [line for line in err.splitlines() if "lost" in line]
    assert lost == ["mcpload: gone/i.csv: cannot write the CSV intervals (No such file or directory); it is lost"]
    assert (tmp_path / "r.json").stat().st_size > 0 and (tmp_path / "j.xml").stat().st_size > 0
    assert "results: r.json  intervals: r.ndjson" in err


def test_write_outputs_names_each_loss_and_writes_the_rest(tmp_path, capsys):
    from mcpload.cli.support import _write_outputs

    results = {"schema": "mcpload.results/1", "intervals": [], "thresholds": [], "totals": {}, "operations": {}}
    lost = _write_outputs(
        results,
        frozenset(),
        out=tmp_path / "missing" / "r.json",
        intervals=tmp_path / "missing" / "r.ndjson",
        files={"html": None, "junit": Path("/dev/full"), "csv": tmp_path / "i.csv"},
    )
    assert len(lost) == 2 and "r.json: cannot write the results" in lost[0] and "/dev/full" in lost[1]
    assert (tmp_path / "i.csv").exists()
    err = capsys.readouterr().err
    assert "mcpload report" in err and "results:" not in err  # points at the interval log instead


@pytest.mark.parametrize("kind", ["directory", "device", "device-symlink", "fifo", "read-only-place"])
@pytest.mark.parametrize("command", ["init", "schema"])
def test_init_and_schema_outputs(tmp_path, command, kind):
    path = _place(tmp_path, kind)
    argv = ["init", "http://127.0.0.1:1/mcp", "--force", "-o", path] if command == "init" else ["schema", "-o", path]
    line = one_line(*in_process(*argv, cwd=tmp_path))
    assert path in line, line
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("kind", ["dev-zero-symlink", "fifo", "directory", "too-large-trace"])
def test_init_trace_that_is_not_a_plain_file(tmp_path, kind):
    from tests.integration.test_input_limits import _special

    _special(tmp_path, kind, "t.jsonl")
    line = one_line(*in_process("init", "http://127.0.0.1:1/mcp", "--from-trace", "t.jsonl", "-o", "-", cwd=tmp_path))
    assert line.startswith("mcpload: --from-trace t.jsonl: "), line
