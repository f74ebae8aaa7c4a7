"""The bad-input catalogue (issue 7 §3) and the template sandbox (§4): every bad scenario or option makes
`mcpload run` exit 2 with exactly one stderr line naming the file and the path — no traceback, no load
(`--debug` shows the traceback). Scenarios that pass loading but break preflight use the real demo server.
"""

from __future__ import annotations

import copy
import functools
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpload.scenario.context import RenderContext
from mcpload.scenario.errors import ScenarioError, TemplateRenderError
from mcpload.scenario.templates import compile_args
from tests.helpers import mcpload

URL = "http://127.0.0.1:1/mcp"  # replaced by the demo server's URL
WORKFLOW = ("agents", "a", "workflow")
SEARCH = {"call": "search_docs", "args": {"query": "x"}}


def base(url: str) -> dict[str, Any]:
    return {
        "target": {"url": url},
        "agents": {"a": {"workflow": [SEARCH]}},
        "profiles": {"type": "constant-agents", "agents": 1, "duration": "1s"},
    }


def change(*path: Any) -> Any:
    """A change to the base scenario: ``change("target", "timeout", -1)`` sets one value."""
    *keys, last, value = path

    def apply(doc: dict[str, Any]) -> str:
        cur = doc
        for key in keys:
            cur = cur[key]
        cur[last] = value
        return yaml.safe_dump(doc, sort_keys=False)

    return apply


def step(**extra: Any) -> Any:
    return change(*WORKFLOW, [{**SEARCH, **extra}])


def args(query: str) -> Any:
    return change(*WORKFLOW, [{"call": "search_docs", "args": {"query": query}}])


W0 = "agents.a.workflow[0]"
# (id, scenario text or a change to the base scenario, the expected "path: message" start after the file name)
CASES = [
    ("malformed-yaml", "target: {url: x\nagents: [\n", "2:7: expected ',' or '}'"),
    ("empty-scenario", "", "the scenario is empty"),
    ("not-a-mapping", "- a\n- b\n", "expected a mapping at the top level"),
    ("unknown-key", change("target", "timout", 5), "target: unknown key 'timout' (did you mean 'timeout'?)"),
    ("unknown-step", change(*WORKFLOW, [{"cal": "search_docs"}]), f"{W0}: unknown step 'cal' (did you mean 'call'?)"),
    ("wrong-type", change("agents", "a", "weight", "heavy"), "agents.a.weight: expected a number, got a string"),
    ("negative-duration", change("profiles", "duration", "-1s"), "profiles.duration: must not be negative"),
    ("zero-duration", change("profiles", "duration", "0s"), "profiles.duration: must be longer than 0s"),
    ("negative-timeout", change("target", "timeout", -1), "target.timeout: must not be negative"),
    (
        "rate-0",
        change("profiles", {"type": "agent-arrival-rate", "rate": 0, "duration": "1s"}),
        "profiles.rate: must be greater than 0",
    ),
    (
        "empty-stages",
        change("profiles", {"type": "ramping-agents", "stages": []}),
        "profiles.stages: at least one stage is required",
    ),
    (
        "weights-sum-0",
        change("agents", {"a": {"weight": 0, "workflow": ["ping"]}, "b": {"weight": 0, "workflow": ["ping"]}}),
        "agents.a.weight: must be greater than 0",
    ),
    (
        "unknown-tool",
        change(*WORKFLOW, [{"call": "serch_docs"}]),
        f"{W0}: tool 'serch_docs' is not offered by the server (did you mean 'search_docs'?)",
    ),
    ("args-schema", args(5), f"{W0}: arguments do not match search_docs's inputSchema: query: 5 is not of type"),
    ("bad-jmespath", step(save={"d": "results[0"}), f"{W0}.save.d: invalid JMESPath expression 'results[0'"),
    ("jinja-syntax", args("{{ saved.doc "), f"{W0}.args.query: template syntax error"),
    ("forbidden-attribute", args("{{ saved.__class__ }}"), f"{W0}.args.query: unsafe attribute '__class__'"),
    ("unknown-template-name", args("{{ sav.doc }}"), f"{W0}.args.query: unknown name 'sav' in template"),
    (
        "missing-env",
        change("target", "url", "${MCPLOAD_TEST_NO_SUCH_VAR}"),
        "target.url: environment variable MCPLOAD_TEST_NO_SUCH_VAR is not set",
    ),
    ("missing-data-file", change("data", {"users": {"file": "nope.csv"}}), "data.users.file: nope.csv: cannot read"),
    ("malformed-data-file", change("data", {"users": "bad.jsonl"}), "data.users.file: bad.jsonl line 2: invalid JSON"),
    ("url-without-scheme", change("target", "url", "127.0.0.1:8000/mcp"), "target.url: not an http(s) URL"),
    (
        "port-out-of-range",
        change("target", "url", "http://127.0.0.1:99999/mcp"),
        "target.url: 'http://127.0.0.1:99999/mcp': Port out of range",
    ),
    ("bad-threshold", change("thresholds", {"latency": ["p(95) <<< 1ms"]}), "thresholds.latency[0]: expected a"),
    (
        "unknown-threshold-aggregation",
        change("thresholds", {"latency": ["p95 < 1ms"]}),
        "thresholds.latency[0]: unknown aggregation 'p95' (did you mean 'p(95)'?)",
    ),
    (
        "python-agent-does-not-import",
        change("agents", "a", {"python": "bad_agent.py:Agent"}),
        "agents.a.python: cannot import bad_agent.py (line 1): ModuleNotFoundError",
    ),
    (
        "retry-unknown-kind",
        step(retry={"attempts": 2, "on": ["timeot"]}),
        f"{W0}.retry.on[0]: unknown outcome kind 'timeot' (did you mean 'timeout'?)",
    ),
    (
        "retry-after-not-a-bool",
        step(retry={"attempts": 2, "respect_retry_after": "yes"}),
        f"{W0}.retry.respect_retry_after: expected true or false",
    ),
    (
        "max-response-too-small",
        change("target", "max_response_bytes", 10),
        "target.max_response_bytes: must be at least 1024",
    ),
    ("unknown-transport", change("target", "transport", "htp"), "target.transport: unknown transport 'htp'"),
    ("inherit-env-not-a-bool", change("target", "inherit_env", "yes"), "target.inherit_env: expected true or false"),
]


# MCPLOAD_DEBUG would add a traceback to the one line these tests check
mcpload = functools.partial(mcpload, drop_env=("MCPLOAD_DEBUG",), timeout=60)


def one_line(res: subprocess.CompletedProcess) -> str:
    """The one stderr line of a refused input (after the notice a scenario with python: agents prints
    before it runs their code, which is not an error line)."""
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr and res.stdout == ""
    lines = [line for line in res.stderr.strip().splitlines() if ": runs Python code: " not in line]
    assert len(lines) == 1, res.stderr
    return lines[0]


def write_case(directory: Path, name: str, scenario: Any, url: str) -> str:
    (directory / "bad.jsonl").write_text('{"name": "a"}\n{not json\n')
    (directory / "bad_agent.py").write_text("import no_such_module_for_mcpload_tests\n")
    text = scenario if isinstance(scenario, str) else scenario(copy.deepcopy(base(url)))
    (directory / f"{name}.yaml").write_text(text)
    return f"{name}.yaml"


@pytest.mark.parametrize(("name", "scenario", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_is_one_line_exit_2(demo_url, tmp_path, name, scenario, expected):
    file = write_case(tmp_path, name, scenario, demo_url)
    line = one_line(mcpload("run", file, "--out", "r.json", "-q", cwd=tmp_path))
    sep = "" if expected[0].isdigit() else " "  # YAML errors give file:line:column
    assert line.startswith(f"mcpload: {file}:{sep}{expected}"), line
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "s.yaml", "--tool", "search_docs"], "--tool is for ad-hoc runs without a scenario file"),
        (["run", "s.yaml", "--agents", "0"], "--agents 0: must be at least 1"),
        (["run", "--url", URL, "--tool", "x", "--args", "{nope"], "--args: not valid JSON"),
        (["run", "--url", "http://127.0.0.1:99999/mcp", "--tool", "x"], "<command line>: target.url:"),
        (["run", "nothing-here.yaml"], "nothing-here.yaml: no such scenario file"),
    ],
    ids=["tool-with-scenario", "no-agents", "bad-args-json", "ad-hoc-port", "missing-file"],
)
def test_conflicting_or_bad_options_are_one_line_exit_2(tmp_path, argv, expected):
    write_case(tmp_path, "s", change("target", "timeout", 5), URL)
    line = one_line(mcpload(*argv, cwd=tmp_path))
    assert line.startswith(f"mcpload: {expected}"), line


def test_debug_shows_the_traceback(tmp_path):
    file = write_case(tmp_path, "typo", change("target", "timout", 5), URL)
    res = mcpload("--debug", "run", file, cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback (most recent call last)" in res.stderr and "ScenarioError" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith(f"mcpload: {file}: target: unknown key 'timout'")


# §4: the template sandbox. Every known escape is refused when the scenario loads or, where only the
# rendered value can tell, when it renders (a TemplateRenderError: the step fails, nothing runs).

ESCAPES_AT_LOAD = [
    "{{ saved.__class__ }}",
    "{{ agent.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ self }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'].popen('touch PWNED') }}",
    "{{ range.__init__ }}",
    "{{ random_choice.__globals__ }}",
    "{{ 'x'.format.__self__ }}",
    "{{ saved['__class__'] }}",
    "x {{ agent['__init__'] }}",
    "{{ config }}",
    "{{ request.application }}",
    "{{ env }}",
]
ESCAPES_AT_RUN = [
    "{{ saved|attr('__class__') }}",
    "{{ saved|attr('__cla' ~ 'ss__') }}",
    "{{ agent|attr('__init__')|attr('__globals__') }}",
    "{{ '{0.__class__}'.format(saved) }}",
    "{{ saved.update({'a': 1}) }}",
    "{{ [].append(1) }}",
]


@pytest.mark.parametrize("template", ESCAPES_AT_LOAD)
def test_sandbox_escape_is_refused_at_load(template, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as err:
        compile_args({"q": template}, "agents.a.workflow[0].args")
    assert str(err.value).startswith("agents.a.workflow[0].args.q: ")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("template", ESCAPES_AT_RUN)
def test_sandbox_escape_fails_when_rendered(template, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rendered = compile_args({"q": template}, "p")
    with pytest.raises(TemplateRenderError):
        rendered.render(RenderContext(random.Random(0)))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("template", ["{{ cycler.__init__.__globals__.os.system('touch PWNED') }}", "{{ self }}"])
def test_sandbox_escape_from_the_command_line_is_one_line_exit_2(template, tmp_path):
    file = write_case(tmp_path, "escape", args(template), URL)
    line = one_line(mcpload("run", file, "-q", cwd=tmp_path))
    assert line.startswith(f"mcpload: {file}: {W0}.args.query: "), line
    assert not (tmp_path / "PWNED").exists()
