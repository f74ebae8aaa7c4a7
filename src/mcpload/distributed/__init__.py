"""Split runs: one run's execution segments in worker processes (``--workers``), in Ray actors
(``--ray``), or in separate invocations merged afterwards (``--segment`` + ``mcpload merge``).

Every part runs ``LocalLoad`` on its segment with the run's seed and ships what its recorder took each
second (``Recorder.drain``); the coordinator ``absorb``s it, so its histograms and counts are exactly a
single process's. See docs/distributed.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpload.distributed.merge import MergeError, merge_results
    from mcpload.distributed.remote import RemoteLoad
    from mcpload.distributed.worker import SegmentWorker

__all__ = ["MergeError", "RemoteLoad", "SegmentWorker", "merge_results"]

#: imported on first use, so that a light module here (``sizing``) does not load the engine
_HOME = {"MergeError": "merge", "merge_results": "merge", "RemoteLoad": "remote", "SegmentWorker": "worker"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
