"""Rewrite one marked section of docs/benchmarks.md, keeping every other section as it is."""

from __future__ import annotations

from pathlib import Path

HEADER = "# Benchmarks\n\nEach section is (re)written by the script it names; other sections are kept.\n\n"


def replace_section(path: Path, start_marker: str, end_marker: str, text: str) -> None:
    """Replace the text between the markers (``text`` holds them too), or append it when absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + text)
        return
    old = path.read_text()
    start, end = old.find(start_marker), old.find(end_marker)
    if start >= 0 and end > start:
        path.write_text(old[:start] + text.rstrip("\n") + old[end + len(end_marker) :])
    else:
        path.write_text(old.rstrip("\n") + "\n\n" + text)
