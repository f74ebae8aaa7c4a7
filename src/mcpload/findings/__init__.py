"""Findings: what the numbers of a run mean, as named, evidenced, actionable statements.

``analyze(results)`` runs every detector of ``registry.DETECTORS`` over a results document and
returns the findings as plain dicts, most severe first. Pure: ``mcpload report`` and ``compare``
recompute findings of results that have none.
"""

from __future__ import annotations

from typing import Any

from mcpload.findings.base import RANK, Finding, RunView
from mcpload.findings.registry import DETECTORS, Detector
from mcpload.metrics.thresholds import SEVERITIES

__all__ = [
    "DETECTORS",
    "KNOWN_IDS",
    "RANK",
    "SEVERITIES",
    "Detector",
    "Finding",
    "analyze",
    "findings_of",
    "sort_findings",
]

#: Findings drawn by ``mcpload diagnose``'s probes (``mcpload.probes``), not from a run's results.
PROBE_IDS = ("unknown-session-status", "delete-ignored", "origin-not-validated")
KNOWN_IDS = tuple(dict.fromkeys((*DETECTORS, *PROBE_IDS)))


def analyze(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding the detectors draw from ``results``, most severe first (then by id).

    Findings already in ``results`` that no detector recomputes (those of probes, e.g. ``diagnose``)
    are kept.
    """
    view = RunView(results)
    found = [f.to_dict() for detector in DETECTORS.values() for f in detector.detect(view)]
    drawn = {f["id"] for f in found}
    for old in view.entries("findings"):
        if isinstance(old, dict) and old.get("id") not in DETECTORS and old.get("id") not in drawn:
            found.append(old)
    return sort_findings(found)


def sort_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most severe first, then by id."""
    return sorted(findings, key=lambda f: (-RANK.get(str(f.get("severity")), 0), str(f.get("id"))))


def findings_of(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of a results document: its own ``findings`` when it has them, else recomputed."""
    own = results.get("findings") if isinstance(results, dict) else None
    if isinstance(own, list):
        return sort_findings([f for f in own if isinstance(f, dict)])
    return analyze(results)
