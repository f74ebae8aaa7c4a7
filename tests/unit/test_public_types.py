"""mcpload ships py.typed: every lazily exported name is also imported for type checkers, from the module
the lazy lookup loads it from (else ``from mcpload import Scenario`` is ``Any`` to a user's checker)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import mcpload

INIT = Path(mcpload.__file__)


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(INIT.read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module is not None
                for alias in stmt.names:
                    found[alias.asname or alias.name] = stmt.module
    return found


def test_every_lazy_export_is_imported_for_type_checkers_from_the_same_module():
    assert _type_checking_imports() == mcpload._EXPORTS


def test_every_name_in_all_resolves_to_what_the_checker_is_told():
    declared = _type_checking_imports()
    for name in mcpload.__all__:
        value = getattr(mcpload, name)
        if name in declared:
            assert value is getattr(importlib.import_module(declared[name]), name)
    assert (Path(mcpload.__file__).parent / "py.typed").exists()
