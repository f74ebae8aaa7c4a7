"""Split runs: one run's execution segments in worker processes (``--workers``), in Ray actors
(``--ray``), or in separate invocations merged afterwards (``--segment`` + ``mcpload merge``).

Every part runs ``LocalLoad`` on its segment with the run's seed and ships what its recorder took each
second (``Recorder.drain``); the coordinator ``absorb``s it, so its histograms and counts are exactly a
single process's. See docs/distributed.md.
"""

from mcpload.distributed.merge import MergeError, merge_results
from mcpload.distributed.remote import RemoteLoad
from mcpload.distributed.worker import SegmentWorker

__all__ = ["MergeError", "RemoteLoad", "SegmentWorker", "merge_results"]
