"""What preflight teaches the agents of a run: the tools called as tasks, the outputs checked against
their schema. Every load (this process, a forked or spawned worker) prepares its ``SharedRunState`` here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpload.engine.output_check import output_check

if TYPE_CHECKING:
    from mcpload.engine.agent import SharedRunState
    from mcpload.engine.preflight import Preflight
    from mcpload.scenario import Scenario


def prepare_world(world: SharedRunState, info: Preflight, scenario: Scenario) -> SharedRunState:
    """Give ``world`` what preflight learnt about the tools: which are called as tasks, which outputs
    are checked against their schema."""
    world.task_tools = task_tools(info.tools)
    world.output_check = output_check(info.tools, scenario.options.validate_output)
    return world


def task_tools(tools: dict[str, dict[str, Any]]) -> frozenset[str]:
    """The tools a call step calls as tasks by default: ``execution.taskSupport`` required or optional."""
    out = set()
    for name, tool in tools.items():
        execution = tool.get("execution")
        if isinstance(execution, dict) and execution.get("taskSupport") in ("required", "optional"):
            out.add(name)
    return frozenset(out)
