"""Think and idle times of the agent personas ``mcpload init`` writes into a scenario.

The figures come from the collected studies of real agent traffic (AGENT-TRAFFIC.md, summarised in
docs/personas.md): the default is the Infobip reference load test's 5–10 s uniform idle after each
chain with a lognormal think time (the support-agent sketch: median 1.5 s, sigma 0.6). Where a sketch
has a mixture, the writer keeps its main component (the scenario format has no mixtures).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    name: str
    think: str  # a scenario distribution, in flow YAML
    idle: str
    source: str  # one comment line: where the figures come from


PERSONAS = {
    "support": Persona(
        "support",
        "{lognormal: {median: 1.5s, sigma: 0.6}}",
        "5s..10s",
        "idle 5-10 s uniform after each chain (Infobip reference study); think lognormal median 1.5 s, "
        "sigma 0.6 (support-agent sketch)",
    ),
    "chat": Persona(
        "chat",
        "{lognormal: {median: 1.2s, sigma: 0.5}}",
        "{lognormal: {median: 7.2s, sigma: 0.6}}",
        "think lognormal median 1.2 s, sigma 0.5 (chat-assistant sketch); idle: human gap between chat "
        "turns, p50 7.18 s",
    ),
    "coding": Persona(
        "coding",
        "{lognormal: {median: 3s, sigma: 1.0}}",
        "{lognormal: {median: 30s, sigma: 1.0}}",
        "think lognormal median 3 s, sigma 1.0; idle lognormal median 30 s, sigma 1 (coding-agent sketch, "
        "main component of its idle mixture)",
    ),
    "research": Persona(
        "research",
        "{lognormal: {median: 5s, sigma: 1.0}}",
        "5s..10s",
        "think lognormal median 5 s, sigma 1 (research-agent sketch); idle 5-10 s uniform (Infobip)",
    ),
}
DEFAULT = "support"
