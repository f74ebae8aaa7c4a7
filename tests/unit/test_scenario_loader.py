"""Loading scenarios: a full file, ${ENV} and secrets, Python agents, and one-line errors with paths."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from mcpload.scenario import (
    Call,
    Choice,
    GetPrompt,
    ListTools,
    Parallel,
    Ping,
    ReadResource,
    RenderContext,
    Repeat,
    Scenario,
    ScenarioError,
    ScriptedAgent,
    Think,
    load_scenario,
)
from mcpload.scenario.distributions import LogNormal, Uniform, UniformCount


@pytest.fixture
def profiles():
    """Scenarios need mcpload.profiles (and thresholds mcpload.metrics), developed beside this package."""
    pytest.importorskip("mcpload.profiles")
    pytest.importorskip("mcpload.metrics")


FULL = """\
name: research-agents
seed: 42
target:
  url: http://127.0.0.1:${PORT:-8000}/mcp
  transport: auto
  protocol: 2025-06-18
  headers: {Authorization: "Bearer ${MCP_TOKEN}", X-Price: "$${not_a_var}"}
  timeout: 30s
  connect_timeout: 10s
  insecure: false
data:
  users: {file: data/users.csv, mode: unique-per-agent}
tokens: {price_per_1k: 0.003}
agents:
  researcher:
    weight: 3
    conversations_per_session: 5
    session_lifetime: 10m
    idle: 5s..10s
    tokens_per_step: 1500
    workflow:
      - call: search_docs
        args: {query: "{{ random_choice(['retries','latency']) }}", limit: 3, user: "{{ data('users').name }}"}
        save: {doc: "structuredContent.results[0].id"}
        timeout: 5s
        retry: {attempts: 3, backoff: 500ms, on: [timeout, transport, http_error]}
      - think: {lognormal: {median: 2s, sigma: 0.6}}
      - parallel:
          - call: get_doc
            args: {doc_id: "{{ saved.doc }}"}
          - call: get_doc
            args: {doc_id: "{{ saved.doc }}"}
      - repeat: {times: 1..3, steps: [{call: get_doc, args: {doc_id: x}}]}
      - choice:
          - {weight: 3, steps: [{call: send_message, args: {to: ops, text: hi}}]}
          - {weight: 1, steps: [{ping: {}}]}
      - list_tools: {}
      - read_resource: docs://index
      - get_prompt: {name: summarize, args: {doc_id: "{{ saved.doc }}"}}
      - ping
  scripted:
    weight: 1
    python: agents/my_agent.py:MyAgent
profiles:
  - type: ramping-agents
    stages: [{duration: 30s, target: 100}, {duration: 30s, target: 100}, {duration: 10s, target: 0}]
thresholds:
  success_rate: ["rate > 0.999"]
  "latency{op:tools/call search_docs}": ["p(95) < 400ms"]
options: {grace_period: 10s}
"""

AGENT = """\
import mcpload.scenario


class MyAgent(mcpload.scenario.ScriptedAgent):
    async def run(self, session):
        await session.ping()
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder / next(iter(files))


@pytest.fixture
def full(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {"scenario.yaml": FULL, "data/users.csv": "name\nann\nbob\n", "agents/my_agent.py": AGENT},
    )


def test_full_scenario(profiles, full):
    s = load_scenario(full, env={"MCP_TOKEN": "t0ken"})
    assert (s.name, s.seed, s.price_per_1k, s.options.grace_period) == ("research-agents", 42, 0.003, 10.0)
    assert s.source == str(full) and s.base_dir == full.parent
    assert s.target.url == "http://127.0.0.1:8000/mcp"
    assert s.target.headers == {"Authorization": "Bearer t0ken", "X-Price": "${not_a_var}"}
    assert s.target.protocol == "2025-06-18"
    # the ${VAR} value, and every header value written in the file (as is and without its scheme)
    assert {"t0ken", "Bearer t0ken", "${not_a_var}"} <= s.secrets
    assert list(s.agents) == ["researcher", "scripted"]
    assert len(s.profiles) == 1 and s.profiles[0].kind == "closed"
    assert [t.metric for t in s.thresholds] == ["success_rate", "latency{op:tools/call search_docs}"]
    assert len(s.data["users"]) == 2 and s.data["users"].mode == "unique-per-agent"

    researcher = s.agents["researcher"]
    assert (researcher.weight, researcher.conversations_per_session, researcher.session_lifetime) == (3.0, 5, 600.0)
    assert researcher.idle == Uniform(5.0, 10.0)
    assert researcher.tokens_per_step == 1500
    assert not researcher.scripted
    kinds = [type(step) for step in researcher.workflow]
    assert kinds == [Call, Think, Parallel, Repeat, Choice, ListTools, ReadResource, GetPrompt, Ping]
    call = researcher.workflow[0]
    assert (call.tool, call.timeout, call.path) == ("search_docs", 5.0, "agents.researcher.workflow[0]")
    assert call.retry.attempts == 3 and call.retry.on == {"timeout", "transport", "http_error"}
    assert call.extract({"structuredContent": {"results": [{"id": "d1"}]}}) == {"doc": "d1"}
    assert call.extract({"content": []}) == {"doc": None}
    assert researcher.workflow[1].duration == LogNormal(2.0, 0.6)
    assert researcher.workflow[3].count == UniformCount(1, 3)
    assert researcher.workflow[6].uri.literal == "docs://index"

    scripted = s.agents["scripted"]
    assert scripted.scripted and scripted.python == "agents/my_agent.py:MyAgent"
    assert issubclass(scripted.agent_class, ScriptedAgent) and scripted.workflow == ()

    assert s.tool_names() == {"search_docs", "get_doc", "send_message"}
    assert s.literal_calls() == [
        ("agents.researcher.workflow[3].repeat.steps[0]", "get_doc", {"doc_id": "x"}),
        ("agents.researcher.workflow[4].choice[0].steps[0]", "send_message", {"to": "ops", "text": "hi"}),
    ]
    assert s.tool_names_with_paths()[1] == ("agents.researcher.workflow[2].parallel[0]", "get_doc")

    # rendering with the data source: the agent's own row
    ctx = RenderContext(random.Random(1), agent={"id": "researcher-1", "type": "researcher", "index": 1}, data=s.data)
    ctx.start_conversation("c", 0)
    assert call.args.render(ctx)["user"] == "bob"


def test_to_target_with_overrides(profiles, full):
    s = load_scenario(full, env={"MCP_TOKEN": "t0ken"})
    target = s.to_target()
    assert (target.url, target.timeout, target.verify_tls) == ("http://127.0.0.1:8000/mcp", 30.0, True)
    target = s.to_target(
        {"url": "https://example.test/mcp", "insecure": True, "headers": {"X-A": "1"}, "timeout": None}
    )
    assert (target.url, target.verify_tls, target.timeout) == ("https://example.test/mcp", False, 30.0)
    assert target.headers == {"Authorization": "Bearer t0ken", "X-Price": "${not_a_var}", "X-A": "1"}
    target = s.to_target({"command": "python -m server"})
    assert (target.url, target.command, target.transport) == (None, ["python", "-m", "server"], "stdio")


def test_stdio_target_and_missing_target(profiles):
    data = {
        "target": {"command": ["python", "-m", "srv"], "env": {"DEBUG": 1}},
        "agents": {"a": {"workflow": ["ping"]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }
    target = Scenario.from_dict(data).to_target()
    assert (target.command, target.transport, target.env) == (["python", "-m", "srv"], "stdio", {"DEBUG": "1"})
    del data["target"]
    s = Scenario.from_dict(data)
    assert s.target is None and s.name == "scenario"
    with pytest.raises(ScenarioError) as info:
        s.to_target()
    assert str(info.value) == (
        "<python>: target: no target: set target.url or target.command, or give one on the command line"
    )
    assert s.to_target({"url": "http://h/mcp"}).url == "http://h/mcp"


def test_missing_variable_and_env_default_from_os_environ(profiles, full, monkeypatch):
    monkeypatch.delenv("MCP_TOKEN", raising=False)
    with pytest.raises(ScenarioError) as info:
        load_scenario(full)
    assert str(info.value) == (
        f"{full}: target.headers.Authorization: environment variable MCP_TOKEN is not set"
        " (or use ${MCP_TOKEN:-default})"
    )
    monkeypatch.setenv("MCP_TOKEN", "from-os")
    monkeypatch.setenv("PORT", "9000")
    s = load_scenario(full)
    assert s.target.url == "http://127.0.0.1:9000/mcp"
    assert {"from-os", "9000"} <= s.secrets  # with the header values written in the file


def test_python_api_builds_the_same_model(profiles, full):
    from_yaml = load_scenario(full, env={"MCP_TOKEN": "x"})
    import yaml

    data = yaml.safe_load(full.read_text())
    data["agents"]["scripted"]["python"] = str(full.parent / "agents/my_agent.py") + ":MyAgent"
    retry = data["agents"]["researcher"]["workflow"][0]["retry"]
    with pytest.raises(ScenarioError) as info:  # safe_load's YAML 1.1 reads the key `on` as True
        Scenario.from_dict(data, env={"MCP_TOKEN": "x"}, base_dir=full.parent)
    assert str(info.value) == (
        "<python>: agents.researcher.workflow[0].retry: keys must be strings, got a boolean True"
        " (YAML 1.1 reads on, off, yes and no as booleans: quote the key)"
    )
    retry["on"] = retry.pop(True)
    from_python = Scenario.from_dict(data, env={"MCP_TOKEN": "x"}, base_dir=full.parent)
    assert from_python.source == "<python>"
    assert from_python.agents["researcher"].workflow[1] == from_yaml.agents["researcher"].workflow[1]
    assert from_python.literal_calls() == from_yaml.literal_calls()


def base() -> dict:
    return {
        "target": {"url": "http://localhost:8000/mcp"},
        "agents": {"r": {"workflow": [{"call": "t", "args": {"a": 1}}]}},
        "profiles": [{"type": "constant-agents", "agents": 1, "duration": "10s"}],
    }


def workflow(*steps) -> dict:
    return {"agents": {"r": {"workflow": list(steps)}}}


W = "<python>: agents.r.workflow[0]"
BAD = [
    ({"agnets": {}}, "<python>: unknown key 'agnets' (did you mean 'agents'?)"),
    ({"agents": None}, "<python>: agents: expected a mapping of agent name: agent, got nothing (null)"),
    ({"agents": {}}, "<python>: agents: define at least one agent"),
    (
        {"agents": {"r": {"wieght": 2, "workflow": ["ping"]}}},
        "<python>: agents.r: unknown key 'wieght' (did you mean 'weight'?)",
    ),
    (
        {"agents": {"r": {"weight": 0, "workflow": ["ping"]}}},
        "<python>: agents.r.weight: must be greater than 0, got 0",
    ),
    (
        {"agents": {"r": {"weight": 1}}},
        "<python>: agents.r: missing a workflow (a list of steps), python (file.py:ClassName) or persona",
    ),
    (
        {"agents": {"r": {"workflow": ["ping"], "python": "a.py:A"}}},
        "<python>: agents.r: give an agent one of a workflow, a python class or a persona",
    ),
    ({"agents": {"r": {"workflow": []}}}, "<python>: agents.r.workflow: expected a non-empty list"),
    (
        {"agents": {"r r": {"workflow": ["ping"]}}},
        "<python>: agents[\"r r\"]: agent names may hold letters, digits, '_', '-' and '.', got 'r r'",
    ),
    (
        {"agents": {"r": {"workflow": ["ping"], "idle": "5s..1s"}}},
        "<python>: agents.r.idle: range '5s..1s' goes backwards (low is greater than high)",
    ),
    (
        {"agents": {"r": {"workflow": ["ping"], "conversations_per_session": 0}}},
        "<python>: agents.r.conversations_per_session: must be at least 1, got 0",
    ),
    (workflow({"cal": "t"}), f"{W}: unknown step 'cal' (did you mean 'call'?)"),
    (workflow("pnig"), f"{W}: unknown step 'pnig' (did you mean 'ping'?)"),
    (workflow({"call": "t", "arg": {}}), f"{W}: unknown key 'arg' (did you mean 'args'?)"),
    (
        workflow({"call": "t", "think": "1s"}),
        f"{W}: one step per list item, found call and think (start a new '- ' item)",
    ),
    (workflow({"think": "1s", "timeout": "1s"}), f"{W}: unknown key 'timeout' (think takes nothing beside it)"),
    (workflow({"args": {}}), f"{W}: 'args' without a step: add call: <tool>"),
    (
        workflow({}),
        f"{W}: empty step: expected one of call, think, parallel, repeat, choice, markov, ping, list_tools,"
        " list_resources, list_prompts, list_resource_templates, read_resource, get_prompt, subscribe",
    ),
    (workflow({"call": 3}), f"{W}.call: expected a string, got an integer"),
    (workflow({"call": "{{ x }}"}), f"{W}.call: a tool name cannot be a template (metrics and preflight need it)"),
    (workflow({"call": "t", "args": [1]}), f"{W}.args: expected a mapping of arguments, got a list"),
    (
        workflow({"call": "t", "args": {"q": "{{ saved.x"}}),
        f"{W}.args.q: template syntax error: unexpected end of template, expected 'end of print statement'.",
    ),
    (
        workflow({"call": "t", "save": {"doc": "results[0"}}),
        f"{W}.save.doc: invalid JMESPath expression 'results[0': Invalid jmespath expression: Incomplete expression",
    ),
    (
        workflow({"call": "t", "save": {"my-doc": "a"}}),
        f"{W}.save.my-doc: saved names must be identifiers (used as saved.my-doc), got 'my-doc'",
    ),
    (workflow({"call": "t", "timeout": 0}), f"{W}.timeout: must be greater than 0"),
    (workflow({"call": "t", "retry": {"attempts": 0}}), f"{W}.retry.attempts: must be at least 1, got 0"),
    (
        workflow({"call": "t", "retry": {"attempts": 2, "on": ["timout"]}}),
        f"{W}.retry.on[0]: unknown outcome kind 'timout' (did you mean 'timeout'?)",
    ),
    (
        workflow({"call": "t", "retry": {"attempts": 2, "on": "ok"}}),
        f"{W}.retry.on: unknown outcome kind 'ok' (ok is never retried)",
    ),
    (
        workflow({"call": "t", "retry": {"attempts": 2, "backof": "1s"}}),
        f"{W}.retry: unknown key 'backof' (did you mean 'backoff'?)",
    ),
    (workflow({"think": {"lognormal": {"median": "2s"}}}), f"{W}.think.lognormal: missing required key 'sigma'"),
    (workflow({"parallel": []}), f"{W}.parallel: expected a non-empty list"),
    (
        workflow({"parallel": [{"call": "t"}, {"thnik": 1}]}),
        f"{W}.parallel[1]: unknown step 'thnik' (did you mean 'think'?)",
    ),
    (workflow({"repeat": {"times": 2}}), f"{W}.repeat: missing required key 'steps'"),
    (workflow({"repeat": {"count": 2, "steps": ["ping"]}}), f"{W}.repeat: unknown key 'count'"),
    (workflow({"choice": [{"weight": 0, "steps": []}]}), f"{W}.choice[0].weight: must be greater than 0, got 0"),
    (
        workflow({"choice": [{"weight": 1}]}),
        f"{W}.choice[0]: missing required key 'steps' (steps: [] for a branch that does nothing)",
    ),
    (workflow({"ping": {"x": 1}}), f"{W}: ping takes no arguments, got a mapping (write ping: {{}})"),
    (workflow({"read_resource": {"url": "x"}}), f"{W}.read_resource: unknown key 'url' (did you mean 'uri'?)"),
    (workflow({"get_prompt": {"args": {}}}), f"{W}.get_prompt: missing required key 'name'"),
    (
        workflow({"call": "t", "args": {"u": "{{ data('users') }}"}}),
        f"{W}.args.u: unknown data source 'users' (define it under data:; known: none)",
    ),
    ({"target": {"url": "localhost:8000"}}, "<python>: target.url: not an http(s) URL: 'localhost:8000'"),
    ({"target": {"url": "http://h/mcp", "command": "x"}}, "<python>: target: give either url or command, not both"),
    (
        {"target": {"url": "http://h/mcp", "transport": "htp"}},
        "<python>: target.transport: unknown transport 'htp' (did you mean 'http'?)",
    ),
    (
        {"target": {"url": "http://h/mcp", "transport": "stdio"}},
        "<python>: target.transport: transport stdio needs a command, not a url",
    ),
    (
        {"target": {"url": "http://h/mcp", "protocol": "2025-01-01"}},
        "<python>: target.protocol: unknown protocol '2025-01-01': use auto or one of"
        " 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28",
    ),
    (
        {"target": {"url": "http://h/mcp", "timeout": "fast"}},
        "<python>: target.timeout: invalid duration 'fast'"
        " (use e.g. 500ms, 2s, 1.5m, 1h, 1m30s or a number of seconds)",
    ),
    (
        {"target": {"url": "http://h/mcp", "headers": {"A": "x\ny"}}},
        "<python>: target.headers.A: the value of A holds a control character (0x0a)",
    ),
    (
        {"target": {"url": "http://h/mcp", "insecure": "yes"}},
        "<python>: target.insecure: expected true or false, got a string",
    ),
    (
        {"target": {"url": "${HOST"}},
        "<python>: target.url: malformed ${...}: expected ${NAME} or ${NAME:-default} ($${ is a literal ${)",
    ),
    ({"seed": "x"}, "<python>: seed: expected an integer, got a string"),
    ({"tokens": {"prices_per_1k": 1}}, "<python>: tokens: unknown key 'prices_per_1k' (did you mean 'price_per_1k'?)"),
    (
        {"options": {"grace_periods": "1s"}},
        "<python>: options: unknown key 'grace_periods' (did you mean 'grace_period'?)",
    ),
    ({"profiles": []}, "<python>: profiles: define at least one load profile"),
    (
        {"profiles": {"type": "constant-agent"}},
        "<python>: profiles.type: unknown profile type 'constant-agent' (did you mean 'constant-agents'?); one"
        " of constant-agents, ramping-agents, agent-arrival-rate, ramping-arrival-rate, spike, step, sawtooth, soak",
    ),
    (
        {"profiles": [{"type": "constant-agents", "agents": -1, "duration": "x"}]},
        "<python>: profiles[0].agents: must not be negative, got -1 (and 1 more)",
    ),
    (
        {"profiles": [{"type": "constant-agents", "agents": 1, "duration": "1s", "agent_types": ["x", "rr"]}]},
        "<python>: profiles[0].agent_types[0]: unknown agent 'x' (agents are r)",
    ),
    (
        {"profiles": {"type": "constant-agents", "agents": 1, "duration": "1s", "agent_types": ["rr"]}},
        "<python>: profiles.agent_types[0]: unknown agent 'rr' (did you mean 'r'?)",
    ),
    (
        {"thresholds": {"latncy": ["p(95) < 1s"]}},
        "<python>: thresholds.latncy: unknown metric 'latncy' (did you mean 'latency'?)",
    ),
]


@pytest.mark.parametrize(("patch", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_scenarios(profiles, patch, message):
    data = {**base(), **patch}
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, env={})
    assert str(info.value) == message
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{file}: the scenario is empty (expected a mapping with target, agents and profiles)"),
        ("# nothing\n", "{file}: the scenario is empty (expected a mapping with target, agents and profiles)"),
        ("- a\n", "{file}: expected a mapping at the top level, got a list"),
        ("agents: {}\n", "{file}: missing required key 'profiles'"),
        ("a: [1\n", "{file}:2:1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)"),
        (
            "a:\n  b: 1\n c: 2\n",
            "{file}:3:2: expected <block end>, but found '<block mapping start>' (while parsing a block mapping)",
        ),
        (
            "agents:\n  r:\n    workflow:\n      - call: a\n        call: b\n",
            "{file}:5:9: duplicate key 'call'",
        ),
        (
            "save: {doc: results[0].id}\n",
            "{file}:1:20: expected ',' or '}}', but got '[' (while parsing a flow mapping)",
        ),
    ],
)
def test_file_level_errors(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == message.format(file=path)


def test_unreadable_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.yaml")
    assert str(info.value) == f"{tmp_path}/missing.yaml: cannot read: No such file or directory"


def test_yaml_1_2_booleans(profiles, tmp_path):
    path = write(
        tmp_path,
        {
            "s.yaml": """\
                agents:
                  r:
                    workflow:
                      - call: t
                        args: {answer: no, flag: true}
                        retry: {attempts: 2, on: [timeout]}
                profiles: {type: constant-agents, agents: 1, duration: 1s}
            """
        },
    )
    call = load_scenario(path).agents["r"].workflow[0]
    assert call.args.literal == {"answer": "no", "flag": True}
    assert call.retry.on == {"timeout"}


# python agents

GOOD_AGENT = """\
    from mcpload.scenario import ScriptedAgent

    class Helper:
        pass

    class MyAgent(ScriptedAgent):
        async def run(self, session):
            self.saved["n"] = self.saved.get("n", 0) + 1
"""


@pytest.mark.parametrize(
    ("code", "spec", "message"),
    [
        (GOOD_AGENT, "agent.py:MyAgnet", "agent.py has no class 'MyAgnet' (did you mean 'MyAgent'?)"),
        (GOOD_AGENT, "agent.py:Helper", "Helper in agent.py is not a subclass of mcpload.Agent"),
        (GOOD_AGENT, "missing.py:MyAgent", "cannot import missing.py: no such file"),
        (
            "import nope_not_a_module\n",
            "agent.py:A",
            "cannot import agent.py (line 1): ModuleNotFoundError: No module named 'nope_not_a_module'",
        ),
        ("x = 1\ndef f(:\n", "agent.py:A", "cannot import agent.py (line 2): SyntaxError: invalid syntax"),
        (
            "x = 1\nraise RuntimeError('boom\\nagain')\n",
            "agent.py:A",
            "cannot import agent.py (line 2): RuntimeError: boom again",
        ),
        (GOOD_AGENT, "agent.py", "expected file.py:ClassName or module:ClassName, got 'agent.py'"),
        (
            GOOD_AGENT,
            "nope_pkg.mod:A",
            "cannot import module nope_pkg.mod: ModuleNotFoundError: No module named 'nope_pkg'",
        ),
        (
            GOOD_AGENT,
            "mcpload.scenario:ScriptedAgent",
            "ScriptedAgent in mcpload.scenario needs an 'async def run(self, session)'",
        ),
        (
            "from mcpload.scenario import ScriptedAgent\nclass A(ScriptedAgent):\n    def run(self, s): pass\n",
            "agent.py:A",
            "A in agent.py needs an 'async def run(self, session)'",
        ),
    ],
)
def test_python_agent_errors(profiles, tmp_path, code, spec, message):
    write(tmp_path, {"agent.py": code})
    data = {**base(), "agents": {"scripted": {"python": spec}}}
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, base_dir=tmp_path)
    assert str(info.value) == f"<python>: agents.scripted.python: {message}"


async def test_python_agent_loads_by_file_path_and_runs(profiles, tmp_path):
    write(tmp_path, {"agents/agent.py": GOOD_AGENT})
    data = {**base(), "agents": {"scripted": {"python": "agents/agent.py:MyAgent", "idle": "1s"}}}
    spec = Scenario.from_dict(data, base_dir=tmp_path).agents["scripted"]
    agent = spec.agent_class(id="scripted-0", index=0, rng=random.Random(1))
    await agent.run(session=None)
    await agent.run(session=None)
    assert (agent.id, agent.index, agent.saved) == ("scripted-0", 0, {"n": 2})
    assert spec.agent_class().rng is not None  # the engine may also create it bare and set attributes
