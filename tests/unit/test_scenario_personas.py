"""Built-in personas: they expand to workflows whose statistics are the documented numbers."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from mcpload.scenario import Scenario, ScenarioError
from mcpload.scenario.personas import PERSONAS

CALLS = [{"call": "search_docs", "args": {"query": "x"}}, {"weight": 3, "steps": [{"call": "get_doc"}]}]


def agent(**spec):
    return Scenario.from_dict(
        {"agents": {"a": spec}, "profiles": [{"type": "constant-agents", "agents": 1, "duration": "1s"}]}
    ).agents["a"]


def calls_per_conversation(workflow, rng):
    """Walk a persona's workflow as the engine would, counting calls (no network)."""
    count = 0

    def run(steps):
        nonlocal count
        for step in steps:
            if step.kind == "call":
                count += 1
            elif step.kind == "repeat":
                for _ in range(step.count.sample(rng)):
                    run(step.steps)
            elif step.kind == "choice":
                run(step.pick(rng).steps)
            elif step.kind == "parallel":
                run(step.steps)

    run(workflow)
    return count


@pytest.mark.parametrize("name", list(PERSONAS))
def test_every_persona_loads_and_calls_only_the_listed_tools(name):
    a = agent(persona=name, calls=CALLS)
    assert a.conversations_per_session == PERSONAS[name].conversations_per_session
    scenario_tools = {
        s.tool for s in __import__("mcpload.scenario", fromlist=["walk"]).walk(a.workflow) if s.kind == "call"
    }
    assert scenario_tools == {"search_docs", "get_doc"}


def test_coding_agent_numbers():
    a = agent(persona="coding-agent", calls=CALLS)
    rng = random.Random(1)
    counts = [calls_per_conversation(a.workflow, rng) for _ in range(4000)]
    zero = sum(c == 0 for c in counts) / len(counts)
    rounds_to_zero = statistics.NormalDist().cdf(math.log(0.5 / 3) / 1.6)  # lognormal(3, 1.6) < 0.5: 13 %
    assert zero == pytest.approx(0.25 + 0.75 * rounds_to_zero, abs=0.03)  # and 25 % call nothing
    assert statistics.median(c for c in counts if c) == pytest.approx(3.3, abs=1.2)  # steps median 3, 10 % fan out
    idle = [a.idle.sample(rng) for _ in range(4000)]
    assert statistics.median(idle) == pytest.approx(48, rel=0.3)  # the 75/25 mixture's median


def test_autonomous_agent_is_capped_at_twenty_rounds_and_times_out_at_sixty_seconds():
    a = agent(persona="autonomous-agent", calls=CALLS)
    rng = random.Random(2)
    rounds = [a.workflow[0].count.sample(rng) for _ in range(2000)]
    assert max(rounds) == 20 and statistics.median(rounds) == pytest.approx(12, abs=1)
    calls = [s for s in __import__("mcpload.scenario", fromlist=["walk"]).walk(a.workflow) if s.kind == "call"]
    assert {c.timeout for c in calls} == {60.0}


def test_keys_beside_the_persona_win():
    a = agent(persona="chat-assistant", calls=CALLS, idle="1s", conversations_per_session=9)
    assert a.conversations_per_session == 9 and a.idle.sample(random.Random()) == 1.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"persona": "coder", "calls": CALLS}, "unknown persona 'coder'"),
        ({"persona": "coding-agent"}, "a persona needs calls"),
        ({"persona": "coding-agent", "calls": [3]}, "agents.a.calls[0]"),
        ({"persona": "coding-agent", "calls": CALLS, "workflow": [{"call": "x"}]}, "one of a workflow"),
        ({"workflow": [{"call": "x"}], "calls": CALLS}, "calls: goes with persona"),
    ],
)
def test_persona_errors(spec, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        agent(**spec)
