"""``mcpload init --persona`` and the scenario's ``persona:`` read one table (issue 17: two persona tables
had drifted apart: init's chat idle was 7.2 s σ 0.6, the sourced figure 7.18 s σ 0.58)."""

from __future__ import annotations

import pytest
import yaml

from mcpload.init.personas import DEFAULT, PERSONAS, flow
from mcpload.scenario.distributions import parse_distribution
from mcpload.scenario.personas import CODING_IDLE_MIXTURE
from mcpload.scenario.personas import PERSONAS as BUILT_IN

SAME = {"chat": "chat-assistant", "coding": "coding-agent", "research": "autonomous-agent"}


@pytest.mark.parametrize("name", sorted(SAME))
def test_init_think_times_are_the_built_in_personas(name):
    assert yaml.safe_load(PERSONAS[name].think) == BUILT_IN[SAME[name]].think


def test_a_plain_idle_time_is_the_built_in_one_and_a_mixture_keeps_its_main_component():
    assert yaml.safe_load(PERSONAS["chat"].idle) == BUILT_IN["chat-assistant"].idle
    weight, median, sigma = max(CODING_IDLE_MIXTURE)
    assert weight > 0.5
    assert yaml.safe_load(PERSONAS["coding"].idle) == {"lognormal": {"median": f"{median:g}s", "sigma": sigma}}


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_every_init_persona_writes_distributions_the_scenario_reads(name):
    persona = PERSONAS[name]
    for text in (persona.think, persona.idle):
        parse_distribution(yaml.safe_load(text), f"persona {name}")
    assert DEFAULT in PERSONAS


def test_flow_yaml_round_trips():
    value = {"lognormal": {"median": "1.5s", "sigma": 0.6}}
    assert flow(value) == "{lognormal: {median: 1.5s, sigma: 0.6}}"
    assert yaml.safe_load(flow(value)) == value
