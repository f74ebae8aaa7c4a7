"""The markov step: parsing (every error with its path), the walk's statistics, preflight sees its tools."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from mcpload.scenario import Scenario, ScenarioError
from mcpload.scenario.markov import Markov

WORKFLOW = [
    {
        "markov": {
            "think": "100ms",
            "max_steps": 50,
            "start": {"search": 3, "notify": 1},
            "states": {
                "search": {
                    "steps": [{"call": "search_docs", "args": {"query": "x"}}],
                    "next": {"read": 0.8, "end": 0.2},
                },
                "read": {"steps": [{"parallel": [{"call": "get_doc"}, {"call": "get_doc"}]}], "next": {"end": 1}},
                "notify": {"steps": [{"call": "send_message"}]},
            },
        }
    }
]


def scenario(workflow=WORKFLOW):
    return Scenario.from_dict(
        {
            "agents": {"a": {"workflow": workflow}},
            "profiles": [{"type": "constant-agents", "agents": 1, "duration": "1s"}],
        }
    )


def test_walk_follows_the_weights():
    step = scenario().agents["a"].workflow[0]
    assert isinstance(step, Markov)
    rng = random.Random(1)
    starts, lengths = Counter(), Counter()
    for _ in range(4000):
        steps = step.expand(rng)
        first = steps[0]
        starts[getattr(first, "tool", None)] += 1
        lengths[sum(1 for s in steps if s.kind != "think")] += 1
    assert starts["search_docs"] / 4000 == pytest.approx(0.75, abs=0.03)
    # search → read (0.8) gives 2 states, search → end and notify give 1
    assert lengths[2] / 4000 == pytest.approx(0.75 * 0.8, abs=0.03)


def test_think_only_between_states_and_max_steps_bounds_the_walk():
    loop = [{"markov": {"think": "1s", "max_steps": 5, "start": {"a": 1},
                        "states": {"a": {"steps": [{"call": "t"}], "next": {"a": 1}}}}}]  # fmt: skip
    steps = scenario(loop).agents["a"].workflow[0].expand(random.Random(0))
    assert [s.kind for s in steps] == ["call", "think"] * 4 + ["call"]


def test_preflight_sees_every_state_tool():
    assert scenario().tool_names() == {"search_docs", "get_doc", "send_message"}


@pytest.mark.parametrize(
    ("change", "message", "path"),
    [
        (lambda m: m["start"].update(nope=1), "unknown state 'nope'", "markov.start.nope"),
        (
            lambda m: m["states"]["search"]["next"].update(raed=1),
            "did you mean 'read'",
            "markov.states.search.next.raed",
        ),
        (lambda m: m.pop("states"), "missing required key 'states'", "markov"),
        (lambda m: m.update(max_steps=0), "at least 1", "markov.max_steps"),
        (lambda m: m["states"].update(end={"steps": [{"call": "x"}]}), "'end' is reserved", "markov.states.end"),
        (lambda m: m.update(start={"search": 0}), "greater than 0", "markov.start"),
        (lambda m: m["states"]["read"].update(nxt={}), "unknown key 'nxt'", "markov.states.read"),
    ],
)
def test_errors_name_their_path(change, message, path):
    import copy

    workflow = copy.deepcopy(WORKFLOW)
    change(workflow[0]["markov"])
    with pytest.raises(ScenarioError) as info:
        scenario(workflow)
    assert message in str(info.value) and f"agents.a.workflow[0].{path}" in str(info.value)
