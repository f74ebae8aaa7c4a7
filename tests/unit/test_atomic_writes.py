"""Files a reader could take for complete are written atomically (issue 7 §2): the results JSON, the
HTML report, the HTML diff of ``mcpload compare``, the JUnit XML and the CSV. Each reaches its name
by one rename of a complete temporary file beside it; a write that fails leaves the old file as it
was and no temporary file behind. (The NDJSON interval log is appended on purpose, a line a second,
so that a run killed with SIGKILL keeps what it measured; ``mcpload report`` reads it to its last
complete line.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcpload.atomic import write_atomic, write_text_atomic
from mcpload.compare import compare
from mcpload.engine.execute import write_results
from mcpload.outputs.compare_html import write_compare_html
from mcpload.outputs.csv_output import write_csv
from mcpload.outputs.html import write_html
from mcpload.outputs.junit import write_junit

RESULTS: dict[str, Any] = {
    "schema": "mcpload.results/1",
    "duration_s": 2.0,
    "totals": {"calls": 3, "ok": 3, "success_rate": 1.0},
    "operations": {},
    "thresholds": [{"metric": "success_rate", "expr": "rate > 0.99", "passed": True, "value": 1.0}],
    "intervals": [{"t": 1, "calls": 2, "ok": 2}, {"t": 2, "calls": 1, "ok": 1}],
}

WRITERS = {
    "results": lambda p: write_results(RESULTS, p),
    "html": lambda p: write_html(RESULTS, p),
    "compare_html": lambda p: write_compare_html(p, compare(RESULTS, RESULTS), RESULTS, RESULTS),
    "junit": lambda p: write_junit(RESULTS, p),
    "csv": lambda p: write_csv(RESULTS["intervals"], p),
}


def leftovers(directory: Path, keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != keep)


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_each_file_reaches_its_name_by_one_rename(kind, tmp_path, monkeypatch):
    target = tmp_path / f"out.{kind}"
    renames: list[tuple[Path, Path, bool, int]] = []
    original = Path.replace

    def spy(self: Path, dest: Any) -> Path:
        dest = Path(dest)
        if dest == target:  # the temp file is complete and the name not yet taken when it is renamed
            renames.append((self, dest, dest.exists(), self.stat().st_size))
        return original(self, dest)

    monkeypatch.setattr(Path, "replace", spy)
    WRITERS[kind](target)
    assert len(renames) == 1, renames
    tmp, _, existed, size = renames[0]
    assert tmp.parent == target.parent and tmp.name.startswith(".") and tmp.name.endswith(".tmp")
    assert not existed and size == target.stat().st_size > 0
    assert leftovers(tmp_path, target.name) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old and complete")

    def half(tmp: Path) -> None:
        tmp.write_text('{"totals": {"calls": 3')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(target, half)
    assert target.read_text() == "old and complete"
    assert leftovers(tmp_path, target.name) == []


def test_a_csv_cut_mid_way_keeps_the_old_file(tmp_path):
    target = tmp_path / "i.csv"
    target.write_text("old and complete\n")

    def intervals():
        yield {"t": 1, "calls": 1}
        raise RuntimeError("the run's intervals broke off")

    with pytest.raises(RuntimeError):
        write_csv(intervals(), target)
    assert target.read_text() == "old and complete\n"
    assert leftovers(tmp_path, target.name) == []


def test_a_failed_rename_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "report.html"
    target.mkdir()  # a directory in the way: the rename fails
    with pytest.raises(OSError):
        write_text_atomic(target, "<!DOCTYPE html>")
    assert leftovers(tmp_path, target.name) == []
    assert target.is_dir()
