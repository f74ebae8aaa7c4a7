"""The pytest plugin (entry point ``pytest11``, name ``mcpload``; disable with ``-p no:mcpload``).

The ``mcpload_run`` fixture runs a load against a server your test started and returns typed
``Results``; each run's results JSON lands in the test's ``tmp_path`` and is named in failure
messages. Importing this module is cheap: the engine loads on the first run. See docs/pytest.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def mcpload_run(tmp_path: Path) -> Callable[..., Any]:
    """A function running one load: ``mcpload_run(scenario=None, *, url=, command=, tool=, args=,
    think=, agents=, duration=, thresholds=, headers=, seed=, out=)`` → ``mcpload.Results``.

    Works in sync and async tests (in an async test the load runs on its own loop in a thread; use
    ``await mcpload.run_load_async(...)`` when the server runs in the test's own loop).
    """
    from mcpload.testing.run import run_load

    numbers = itertools.count(1)

    def run(scenario: Any = None, **options: Any) -> Any:
        if options.get("out") is None:
            options["out"] = tmp_path / f"mcpload-results-{next(numbers)}.json"
        return run_load(scenario, **options)

    return run
