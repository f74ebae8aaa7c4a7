"""The scenario example in the README must stay a valid scenario."""

import re
from pathlib import Path

from mcpload.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_readme_scenario_example_loads(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "workflow:" in b)
    (tmp_path / "scenario.yaml").write_text(block)
    (tmp_path / "users.csv").write_text("name\nada\ngrace\n")
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "my_agent.py").write_text(
        "import mcpload\n\nclass MyAgent(mcpload.Agent):\n    async def run(self, session):\n"
        "        await session.ping()\n"
    )
    monkeypatch.setenv("MCP_TOKEN", "t0ken")
    scenario = load_scenario(tmp_path / "scenario.yaml")
    assert set(scenario.agents) == {"researcher", "scripted"}
    assert len(scenario.profiles) == 2 and len(scenario.thresholds) == 3
    assert "t0ken" in scenario.secrets
