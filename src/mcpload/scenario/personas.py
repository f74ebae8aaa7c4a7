"""Built-in personas: agent types calibrated on published agent-traffic figures.

``persona: coding-agent`` (or ``chat-assistant``, ``autonomous-agent``) gives an agent type its
conversation shape — model steps per conversation, think time, parallel fan-out, idle time between
conversations, conversations per session — and ``calls:`` says what each tool call is (one of the
listed steps per call, by weight; the persona never calls a tool you did not list)::

    agents:
      coder:
        persona: coding-agent
        calls:
          - {call: search_docs, args: {query: "{{ random_choice(['a', 'b']) }}"}}
          - {weight: 3, steps: [{call: get_doc, args: {doc_id: "doc-1"}}]}

``idle`` and ``conversations_per_session`` written beside ``persona`` replace the persona's. Every
number and its source is in docs/personas.md (figures: ../shared/AGENT-TRAFFIC.md); this module
is the one place they live in code. A persona expands into an ordinary workflow (repeat, choice,
parallel, think), so everything that reads workflows reads personas too.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import MutableMapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from mcpload.scenario.checks import expect_list, expect_mapping, join
from mcpload.scenario.errors import ScenarioError
from mcpload.suggest import did_you_mean


@dataclass(frozen=True)
class Persona:
    """One built-in persona's numbers (seconds, counts); ``sources`` says where each came from."""

    name: str
    description: str
    conversations_per_session: int
    steps_per_conversation: dict[str, Any]  # a count distribution (scenario form)
    no_call_share: float  # conversations that call no tool
    think: dict[str, Any]  # a duration distribution (scenario form)
    parallel_share: float  # model steps that fan out
    fan_out: dict[int, float]  # batch size → weight, for fanned-out steps
    idle: dict[str, Any] | None
    timeout: float | None
    sources: dict[str, str]

    def median_steps(self) -> float:
        """The median of model steps per conversation (for comparisons, e.g. ``mcpload fit``)."""
        steps = self.steps_per_conversation
        if "constant" in steps:
            return float(steps["constant"])
        if "lognormal" in steps:
            return float(steps["lognormal"]["median"])
        return float(statistics.median(steps["empirical"]))


def _poisson_sizes(base: int, lam: float, cap: int) -> dict[int, float]:
    """``base + Poisson(lam)``, capped: weights per size."""
    return {base + k: round(math.exp(-lam) * lam**k / math.factorial(k), 4) for k in range(cap - base + 1)}


def _mixture_quantiles(parts: list[tuple[float, float, float]], n: int = 100, seed: int = 7) -> list[str]:
    """``n`` quantiles of a mixture of lognormals ``(weight, median_s, sigma)``: an empirical distribution
    (the scenario format has no mixture); drawn with a fixed seed so the persona never changes."""
    rng = random.Random(seed)
    draws = []
    for _ in range(20_000):
        pick, acc = rng.random(), 0.0
        for weight, median, sigma in parts:
            acc += weight
            if pick <= acc:
                draws.append(median * math.exp(sigma * rng.gauss(0, 1)))
                break
    draws.sort()
    return [f"{draws[int((i + 0.5) / n * len(draws))]:.3f}s" for i in range(n)]


def _capped_lognormal(median: float, sigma: float, cap: int, n: int = 100) -> list[int]:
    """``n`` quantiles of ``min(cap, round(lognormal(median, sigma)))``: a count with an upper bound."""
    normal = NormalDist()
    return [min(cap, max(0, round(median * math.exp(sigma * normal.inv_cdf((i + 0.5) / n))))) for i in range(n)]


#: the coding agent's idle time: (weight, median s, sigma) lognormal parts (``mcpload init`` keeps the main one)
CODING_IDLE_MIXTURE = [(0.75, 30.0, 1.0), (0.25, 600.0, 1.2)]

PERSONAS: dict[str, Persona] = {
    "coding-agent": Persona(
        name="coding-agent",
        description="an IDE coding agent (Copilot agent mode, Claude Code, Codex): long chains, a few parallel reads",
        conversations_per_session=4,
        steps_per_conversation={"lognormal": {"median": 3, "sigma": 1.6}},
        no_call_share=0.25,
        think={"lognormal": {"median": "3s", "sigma": 1.0}},
        parallel_share=0.10,
        fan_out=_poisson_sizes(2, 0.5, 8),
        idle={"empirical": _mixture_quantiles(CODING_IDLE_MIXTURE)},
        timeout=None,
        sources={
            "conversations_per_session": "S: 3.95 user turns per session, GitHub Copilot agent mode, 301,026 sessions "
            "(Azure/AzurePublicDataset, arXiv 2608.00101); a constant: the engine's count is a number",
            "steps_per_conversation": "A shaped on S: tool calls per user request p50 2, p90 30, p99 113 "
            "(SyFI TraceLab, 357K Claude Code + Codex steps)",
            "no_call_share": "A (AGENT-TRAFFIC.md persona sketch)",
            "think": "A (AGENT-TRAFFIC.md: no published think-time figure yet)",
            "parallel_share": "D: 1.118 calls per batch (8,681,190 calls / 7,767,261 batches, Copilot); "
            "TraceLab p90 of 2 calls per model step",
            "fan_out": "D: 2 + Poisson(0.5), at most 8 (TraceLab p99 of 4 calls per step)",
            "idle": "A shaped to the agentic gap tail (p90 44 s, p99 738 s; agentic-kvc notes): 75 % lognormal "
            "30 s σ 1, 25 % lognormal 10 min σ 1.2, as 100 quantiles",
        },
    ),
    "chat-assistant": Persona(
        name="chat-assistant",
        description="a desktop chat assistant: a person types, 30 % of turns call one tool",
        conversations_per_session=2,
        steps_per_conversation={"constant": 1},
        no_call_share=0.70,
        think={"lognormal": {"median": "1.2s", "sigma": 0.5}},
        parallel_share=0.0,
        fan_out={1: 1.0},
        idle={"lognormal": {"median": "7.18s", "sigma": 0.58}},
        timeout=None,
        sources={
            "conversations_per_session": "A: turns 1 + Geom, mean 2 (AGENT-TRAFFIC.md persona sketch)",
            "steps_per_conversation": "A: one tool call in a turn that calls one",
            "no_call_share": "A: 30 % of turns call a tool",
            "think": "A: lognormal median 1.2 s σ 0.5",
            "idle": "S/D: gap between human chat turns p50 7.18 s, p90 15.0 s (42K gaps, agentic-kvc notes); "
            "σ = ln(15.0 / 7.18) / 1.2816 = 0.58",
        },
    ),
    "autonomous-agent": Persona(
        name="autonomous-agent",
        description="an autonomous research agent: one long task per session, wide parallel fan-out, 60 s timeouts",
        conversations_per_session=1,
        steps_per_conversation={"empirical": _capped_lognormal(12, 0.8, 20)},
        no_call_share=0.0,
        think={"lognormal": {"median": "5s", "sigma": 1.0}},
        parallel_share=0.30,
        fan_out={2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0},
        idle=None,
        timeout=60.0,
        sources={
            "conversations_per_session": "A: one task per session",
            "steps_per_conversation": "A: lognormal median 12 σ 0.8 cut at 20 rounds (S: MCP-Bench harness, "
            "≤ 20 rounds, arXiv 2508.20453), as 100 quantiles",
            "think": "A: lognormal median 5 s σ 1",
            "parallel_share": "A: 30 % of steps fan out",
            "fan_out": "A: 2 to 5 calls, equally likely",
            "timeout": "S: 60 s HTTP timeout of the MCP-Bench harness (arXiv 2508.20453)",
        },
    ),
}


def _calls(value: Any, path: str) -> list[dict[str, Any]]:
    """``calls:`` as choice branches: a plain step has weight 1; ``{weight, steps}`` is kept."""
    branches = []
    for i, item in enumerate(expect_list(value, path, non_empty=True)):
        item = expect_mapping(item, join(path, i), "a call step, or {weight, steps}")
        branches.append(dict(item) if "steps" in item else {"weight": 1, "steps": [dict(item)]})
    return branches


def expand_persona(name: Any, calls: Any, path: str, call_path: str) -> tuple[list[Any], Persona]:
    """The workflow (in scenario form) of persona ``name`` whose tool calls are ``calls``.

    Raises:
        ScenarioError: unknown persona, or ``calls`` missing or not a list of steps.
    """
    if not isinstance(name, str) or name not in PERSONAS:
        hint = did_you_mean(str(name), PERSONAS) or f" (built-in personas: {', '.join(PERSONAS)})"
        raise ScenarioError(f"unknown persona {name!r}{hint}", path)
    if calls is None:
        raise ScenarioError("a persona needs calls: the steps its tool calls pick from", path.rpartition(".")[0])
    p = PERSONAS[name]
    one_call: dict[str, Any] = {"choice": _calls(calls, call_path)}
    if p.timeout is not None:
        for branch in one_call["choice"]:
            for step in branch["steps"]:
                if isinstance(step, MutableMapping) and "call" in step:
                    step.setdefault("timeout", f"{p.timeout:g}s")
    batch: dict[str, Any] | None = None
    if p.parallel_share > 0:
        fanned = [{"weight": w, "steps": [{"parallel": [one_call] * size}]} for size, w in p.fan_out.items() if w > 0]
        batch = {"choice": [{"weight": 1 - p.parallel_share, "steps": [one_call]},
                            {"weight": p.parallel_share, "steps": [{"choice": fanned}]}]}  # fmt: skip
    times: Any = p.steps_per_conversation
    times = times.get("constant", times)  # a count is a number or a distribution
    chain: list[dict[str, Any]] = [{"repeat": {"times": times, "steps": [{"think": p.think}, batch or one_call]}}]
    if p.no_call_share > 0:
        chain = [{"choice": [{"weight": p.no_call_share, "steps": [{"think": p.think}]},
                             {"weight": 1 - p.no_call_share, "steps": chain}]}]  # fmt: skip
    return chain, p
