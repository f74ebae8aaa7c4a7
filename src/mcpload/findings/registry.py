"""The finding id → detector table (an explicit dict: a new finding is one function and one line
here; the README's "Findings" section lists the same ids with the signature each reads).

A detector takes a ``RunView`` and returns the findings it draws (usually none or one). Detectors
of the server read only ``view.usable`` intervals: those where mcpload itself kept up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcpload.findings import connections, generator, load, recovery, sessions, timeouts
from mcpload.findings.base import Finding, RunView


@dataclass(frozen=True)
class Detector:
    """One finding: its id, the signature it reads (one line, for docs and ``--help``), its function."""

    id: str
    signature: str
    detect: Callable[[RunView], list[Finding]]


DETECTORS: dict[str, Detector] = {
    d.id: d
    for d in (
        Detector("generator-bound", generator.SIGNATURE, generator.detect),
        Detector("baseline-error-rate", load.SIGNATURES["baseline-error-rate"], load.baseline_error_rate),
        Detector("error-burst-at-spike", load.SIGNATURES["error-burst-at-spike"], load.error_burst),
        Detector("capacity-knee", load.SIGNATURES["capacity-knee"], load.capacity_knee),
        Detector("timeout-cliff", timeouts.SIGNATURE, timeouts.detect),
        Detector("session-leak", sessions.LEAK_SIGNATURE, sessions.session_leak),
        Detector("session-affinity", sessions.AFFINITY_SIGNATURE, sessions.session_affinity),
        Detector("connection-limit", connections.SIGNATURE, connections.detect),
        Detector("restart-recovery", recovery.SIGNATURE, recovery.detect),
    )
}
