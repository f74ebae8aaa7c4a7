"""Think and idle times of the agent personas ``mcpload init`` writes into a scenario.

The figures are the built-in personas' (``mcpload.scenario.personas``, the one place they live in code;
summarised in docs/personas.md): ``chat``, ``coding`` and ``research`` take the think time (and, where it
is one distribution, the idle time) of ``chat-assistant``, ``coding-agent`` and ``autonomous-agent``. The
default, ``support``, is the Infobip reference load test's 5–10 s uniform idle after each chain with the
support-agent sketch's lognormal think time (median 1.5 s, sigma 0.6), which no built-in persona has.
Where a persona's idle time is a mixture, the writer keeps its main component (the scenario format has
no mixtures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcpload.scenario.personas import CODING_IDLE_MIXTURE
from mcpload.scenario.personas import PERSONAS as BUILT_IN


@dataclass(frozen=True)
class Persona:
    name: str
    think: str  # a scenario distribution, in flow YAML
    idle: str
    source: str  # one comment line: where the figures come from


def flow(value: Any) -> str:
    """A scenario distribution (``{"lognormal": {"median": "3s", "sigma": 1.0}}``) in flow YAML."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {flow(item)}" for key, item in value.items()) + "}"
    return str(value)


def _main_component(parts: list[tuple[float, float, float]]) -> dict[str, Any]:
    _, median, sigma = max(parts, key=lambda part: part[0])
    return {"lognormal": {"median": f"{median:g}s", "sigma": sigma}}


INFOBIP_IDLE = "5s..10s"  # uniform idle after each chain (Infobip reference study)
_CHAT, _CODING, _RESEARCH = BUILT_IN["chat-assistant"], BUILT_IN["coding-agent"], BUILT_IN["autonomous-agent"]

PERSONAS = {
    "support": Persona(
        "support",
        "{lognormal: {median: 1.5s, sigma: 0.6}}",
        INFOBIP_IDLE,
        "idle 5-10 s uniform after each chain (Infobip reference study); think lognormal median 1.5 s, "
        "sigma 0.6 (support-agent sketch)",
    ),
    "chat": Persona(
        "chat",
        flow(_CHAT.think),
        flow(_CHAT.idle),
        "think lognormal median 1.2 s, sigma 0.5 (chat-assistant sketch); idle: human gap between chat "
        "turns, p50 7.18 s, sigma 0.58",
    ),
    "coding": Persona(
        "coding",
        flow(_CODING.think),
        flow(_main_component(CODING_IDLE_MIXTURE)),
        "think lognormal median 3 s, sigma 1.0; idle lognormal median 30 s, sigma 1 (coding-agent sketch, "
        "main component of its idle mixture)",
    ),
    "research": Persona(
        "research",
        flow(_RESEARCH.think),
        INFOBIP_IDLE,
        "think lognormal median 5 s, sigma 1 (research-agent sketch); idle 5-10 s uniform (Infobip)",
    ),
}
DEFAULT = "support"
