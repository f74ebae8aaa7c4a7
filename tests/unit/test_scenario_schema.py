"""The scenario JSON Schema (`mcpload schema`): the committed copy equals the generated one, and every
example scenario in the docs, the README, the demo and the Kubernetes config map validates against it
(and the loader agrees); a few wrong scenarios are rejected, so the schema checks something."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from mcpload.profiles import PROFILE_TYPES
from mcpload.scenario import Scenario, load_scenario
from mcpload.scenario.loader import read_yaml
from mcpload.scenario.model import KEYS
from mcpload.scenario.schema import PACKAGED, scenario_schema, schema_text
from tests.conftest import ROOT

SCHEMA = scenario_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)
NOT_SCENARIOS = {"docs/outputs.md"}  # Prometheus and OpenTelemetry collector configs


def part(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one definition of the schema (a profile, a step…)."""
    return jsonschema.Draft202012Validator(
        {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{name}"}
    )


def errors(validator: jsonschema.Draft202012Validator, value) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(value)]


def test_committed_schema_is_the_generated_one():
    assert PACKAGED.read_text() == schema_text(), "run `mcpload schema -o src/mcpload/scenario/scenario.schema.json`"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def doc_blocks() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        rel = str(path.relative_to(ROOT))
        if rel in NOT_SCENARIOS:
            continue
        for i, block in enumerate(BLOCK.findall(path.read_text())):
            found.append((f"{rel}#{i}", block))
    return found


@pytest.mark.parametrize(("where", "block"), doc_blocks(), ids=[w for w, _ in doc_blocks()])
def test_doc_examples_validate(where: str, block: str):
    try:
        docs = [read_yaml(block)]
    except yaml.YAMLError:  # alternatives written one per line (retry: … / retry: 3): one document each
        docs = [read_yaml(line) for line in block.splitlines() if line.strip() and not line.startswith("#")]
    for data in docs:
        if isinstance(data, list):  # a list of steps
            for step in data:
                assert not errors(part("step"), step), (where, errors(part("step"), step))
        elif isinstance(data, dict) and data.get("type") in PROFILE_TYPES:
            assert not errors(part("profile"), data), (where, errors(part("profile"), data))
        elif isinstance(data, dict) and set(data) <= set(KEYS):
            partial = {**SCHEMA, "required": []}
            found = errors(jsonschema.Draft202012Validator(partial), data)
            assert not found, (where, found)
        elif isinstance(data, dict) and set(data) == {"retry"}:
            assert not errors(part("retry"), data["retry"]), where
        else:
            pytest.fail(f"{where}: a YAML block this test does not know how to check: {str(data)[:200]}")


def complete_examples() -> list[tuple[str, dict]]:
    found = [("demo", read_yaml((ROOT / "src/mcpload/demo/scenario.yaml").read_text()))]
    for where, block in doc_blocks():
        data = read_yaml(block) if "agents:" in block and "profiles:" in block else None
        if isinstance(data, dict) and {"agents", "profiles"} <= set(data):
            found.append((where, data))
    config_map = yaml.safe_load((ROOT / "deploy/k8s/scenario-configmap.yaml").read_text())
    found.append(("deploy/k8s", read_yaml(config_map["data"]["scenario.yaml"])))
    return found


@pytest.mark.parametrize(("where", "data"), complete_examples(), ids=[w for w, _ in complete_examples()])
def test_complete_examples_validate_and_load(where: str, data: dict):
    assert not errors(VALIDATOR, data), errors(VALIDATOR, data)
    assert len(complete_examples()) >= 4  # the demo, README, scenario-format.md and the config map


def test_demo_scenario_loads_and_validates():
    scenario = ROOT / "src/mcpload/demo/scenario.yaml"
    load_scenario(scenario)
    assert not errors(VALIDATOR, read_yaml(scenario.read_text()))


BASE = {
    "target": {"url": "http://127.0.0.1:1/mcp"},
    "agents": {"a": {"idle": "5s..10s", "workflow": [{"call": "t", "args": {"q": 1}}, {"think": "1s"}]}},
    "profiles": [{"type": "constant-agents", "agents": 2, "duration": "10s"}],
}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"agentz": {}}, "$"),
        ({"target": {"url": "http://x/mcp", "timeot": "1s"}}, "$.target"),
        ({"target": {"url": "http://x/mcp", "transport": "pigeon"}}, "$.target.transport"),
        ({"target": {"url": "http://x/mcp", "command": "x"}}, "$.target"),
        ({"profiles": [{"type": "constant-vus", "vus": 2, "duration": "1s"}]}, "$.profiles"),
        ({"profiles": [{"type": "constant-agents", "agents": 2}]}, "$.profiles"),
        ({"profiles": [{"type": "spike", "baseline": 1, "peak": 2, "mode": "vus"}]}, "$.profiles"),
        ({"agents": {"a": {"workflow": [{"cal": "t"}]}}}, "$.agents.a.workflow[0]"),
        ({"agents": {"a": {"workflow": [{"call": "t", "think": "1s"}]}}}, "$.agents.a.workflow[0]"),
        ({"agents": {"a": {"workflow": [{"think": "soon"}]}}}, "$.agents.a.workflow[0]"),
        ({"agents": {"a": {"workflow": [{"think": {"lognormal": {"median": "1s"}}}]}}}, "$.agents.a.workflow[0]"),
        ({"agents": {"a b": {"workflow": [{"call": "t"}]}}}, "$.agents"),
        ({"thresholds": {"latencyy": ["p(95) < 1s"]}}, "$.thresholds"),
        ({"allow_hosts": "x.example.com"}, "$.allow_hosts"),
    ],
)
def test_wrong_scenarios_are_rejected_by_the_schema_and_the_loader(change: dict, path: str):
    data = {**BASE, **change}
    found = list(VALIDATOR.iter_errors(data))
    assert found, f"the schema accepted {change}"
    assert any(e.json_path.startswith(path) for e in found), [e.json_path for e in found]
    with pytest.raises(ValueError):  # the loader refuses it too: the schema is not stricter than the format
        Scenario.from_dict(data, env={})


def test_env_placeholders_are_accepted_where_values_may_come_from_the_environment():
    data = {
        **BASE,
        "seed": "${SEED}",
        "target": {"url": "${URL}", "insecure": "${INSECURE}", "timeout": "${T}", "protocol": "${P}"},
    }
    assert not errors(VALIDATOR, data)


def test_init_writes_the_schema_reference():
    from mcpload.init import schema_reference

    assert schema_reference() == PACKAGED.resolve().as_uri() and Path(PACKAGED).exists()
