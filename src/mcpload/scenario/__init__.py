"""The scenario model: what a run does (target, agent types and their workflows, load profiles,
thresholds, data), loaded from YAML or built in Python — one model either way.

Public API: ``load_scenario``, ``Scenario`` and the names in ``__all__``; the modules behind them
are private.
"""

from mcpload.scenario.agents import AgentSpec
from mcpload.scenario.context import RenderContext
from mcpload.scenario.data import DataSource
from mcpload.scenario.distributions import CountDistribution, Distribution, parse_count, parse_distribution
from mcpload.scenario.errors import ScenarioError, TemplateRenderError
from mcpload.scenario.loader import load_scenario
from mcpload.scenario.model import Options, Scenario
from mcpload.scenario.retry import RetryPolicy
from mcpload.scenario.scripted import ScriptedAgent
from mcpload.scenario.steps import (
    Branch,
    Call,
    Choice,
    GetPrompt,
    ListPrompts,
    ListResources,
    ListTools,
    Parallel,
    Ping,
    ReadResource,
    Repeat,
    Request,
    Step,
    Subscribe,
    Think,
    walk,
)
from mcpload.scenario.target_spec import TargetSpec
from mcpload.scenario.templates import Args, compile_args

Agent = ScriptedAgent  # the name users write: class MyAgent(mcpload.Agent)

__all__ = [
    "Agent",
    "AgentSpec",
    "Args",
    "Branch",
    "Call",
    "Choice",
    "CountDistribution",
    "DataSource",
    "Distribution",
    "GetPrompt",
    "ListPrompts",
    "ListResources",
    "ListTools",
    "Options",
    "Parallel",
    "Ping",
    "ReadResource",
    "RenderContext",
    "Repeat",
    "Request",
    "RetryPolicy",
    "Scenario",
    "ScenarioError",
    "ScriptedAgent",
    "Step",
    "Subscribe",
    "TargetSpec",
    "TemplateRenderError",
    "Think",
    "compile_args",
    "load_scenario",
    "parse_count",
    "parse_distribution",
    "walk",
]
