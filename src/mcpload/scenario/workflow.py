"""Parse a workflow (the list of steps an agent runs per conversation) into step objects.

Each list item is a mapping with exactly one step key (``call``, ``think``, ``parallel``, …);
request steps take ``timeout`` and ``retry`` beside it, and ``call`` also ``args`` and ``save``.
Argument-less requests may be written bare: ``- ping``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from mcpload.scenario.checks import (
    check_keys,
    expect_bool,
    expect_duration,
    expect_list,
    expect_mapping,
    expect_number,
    expect_str,
    join,
    type_name,
)
from mcpload.scenario.distributions import parse_count, parse_distribution
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.markov import Markov, parse_markov
from mcpload.scenario.retry import parse_retry
from mcpload.scenario.steps import (
    Abandon,
    Branch,
    Call,
    Choice,
    GetPrompt,
    ListPrompts,
    ListResources,
    ListResourceTemplates,
    ListTools,
    Parallel,
    Ping,
    ReadResource,
    Repeat,
    Request,
    Step,
    Subscribe,
    Think,
)
from mcpload.scenario.templates import compile_args
from mcpload.suggest import did_you_mean

REQUEST_KEYS = Request.options
CALL_KEYS = Call.options


class _Parser:
    """Parses steps; holds what every step needs to know (the data source names, for templates)."""

    def __init__(self, data_names: Collection[str] | None) -> None:
        self.data_names = data_names

    def steps(self, value: Any, path: str, *, non_empty: bool = True) -> tuple[Step, ...]:
        items = expect_list(value, path, non_empty=non_empty)
        return tuple(self.step(item, join(path, i)) for i, item in enumerate(items))

    def step(self, value: Any, path: str) -> Step:
        if isinstance(value, str):
            if value in BARE:
                return BARE[value](path=path)
            raise ScenarioError(f"unknown step '{value}'{did_you_mean(value, STEP_KINDS)}", path)
        mapping = expect_mapping(value, path, "a step (a mapping such as {call: tool_name})")
        kinds = [key for key in mapping if key in STEP_KINDS]
        if len(kinds) > 1:
            raise ScenarioError(f"one step per list item, found {' and '.join(kinds)} (start a new '- ' item)", path)
        if not kinds:
            if not mapping:
                raise ScenarioError(f"empty step: expected one of {', '.join(STEP_KINDS)}", path)
            key = next((k for k in mapping if k not in CALL_KEYS), None)
            if key is None:
                raise ScenarioError(f"'{next(iter(mapping))}' without a step: add call: <tool>", path)
            raise ScenarioError(f"unknown step '{key}'{did_you_mean(key, STEP_KINDS)}", path)
        kind = kinds[0]
        cls = KINDS[kind]
        allowed = cls.options if issubclass(cls, Request) else ()
        for key in mapping:
            if key != kind and key not in allowed:
                if allowed:
                    hint = did_you_mean(key, allowed) or f" (a {kind} step takes {', '.join(allowed)})"
                else:
                    hint = f" ({kind} takes nothing beside it)"
                raise ScenarioError(f"unknown key '{key}'{hint}", path)
        return PARSERS[cls](self, mapping, path)

    # requests

    def _request_options(self, mapping: Mapping[str, Any], path: str) -> dict[str, Any]:
        options: dict[str, Any] = {"path": path}
        if "timeout" in mapping:
            options["timeout"] = expect_duration(mapping["timeout"], join(path, "timeout"), positive=True)
        if "retry" in mapping:
            options["retry"] = parse_retry(mapping["retry"], join(path, "retry"))
        return options

    def call(self, mapping: Mapping[str, Any], path: str) -> Call:
        tool = expect_str(mapping["call"], join(path, "call"))
        if "{{" in tool or "{%" in tool:
            raise ScenarioError("a tool name cannot be a template (metrics and preflight need it)", join(path, "call"))
        args = mapping.get("args")
        args = {} if args is None else expect_mapping(args, join(path, "args"), "a mapping of arguments")
        task = mapping.get("task", "auto")
        if task != "auto":
            task = expect_bool(task, join(path, "task"))
        return Call(
            tool=tool,
            args=compile_args(args, join(path, "args"), data_names=self.data_names),
            save=self._save(mapping.get("save"), join(path, "save")),
            progress=expect_bool(mapping.get("progress", False), join(path, "progress")),
            task=None if task == "auto" else task,
            abandon=self._abandon(mapping.get("abandon"), join(path, "abandon")),
            **self._request_options(mapping, path),
        )

    def _abandon(self, value: Any, path: str) -> Abandon | None:
        if value is None:
            return None
        body = expect_mapping(value, path, "a mapping {share, after}")
        check_keys(body, ("share", "after"), path, required=("share", "after"))
        share = expect_number(body["share"], join(path, "share"), minimum=0)
        if share > 1:
            raise ScenarioError(f"a share is at most 1, got {share}", join(path, "share"))
        return Abandon(share=share, after=expect_duration(body["after"], join(path, "after")))

    def _save(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        save = {}
        for name, expression in expect_mapping(value, path, "a mapping of name: JMESPath expression").items():
            at = join(path, name)
            if not name.isidentifier():
                raise ScenarioError(f"saved names must be identifiers (used as saved.{name}), got {name!r}", at)
            try:
                save[name] = jmespath.compile(expect_str(expression, at))
            except JMESPathError as exc:
                detail = str(exc).splitlines()[0].removesuffix(":")
                raise ScenarioError(f"invalid JMESPath expression {expression!r}: {detail}", at) from None
        return save

    def no_arguments(self, mapping: Mapping[str, Any], path: str) -> Request:
        """An argument-less request (``ping: {}``, or bare: ``- ping``)."""
        kind = next(key for key in mapping if key in BARE)
        body = mapping[kind]
        if body is not None and body != {}:
            raise ScenarioError(f"{kind} takes no arguments, got {type_name(body)} (write {kind}: {{}})", path)
        return BARE[kind](**self._request_options(mapping, path))

    def read_resource(self, mapping: Mapping[str, Any], path: str) -> ReadResource:
        body, at = mapping["read_resource"], join(path, "read_resource")
        if isinstance(body, Mapping):
            check_keys(body, ("uri",), at, required=("uri",))
            body, at = body["uri"], join(at, "uri")
        uri = compile_args(expect_str(body, at), at, data_names=self.data_names, native=False)
        return ReadResource(uri=uri, **self._request_options(mapping, path))

    def subscribe(self, mapping: Mapping[str, Any], path: str) -> Subscribe:
        body, at = mapping["subscribe"], join(path, "subscribe")
        if isinstance(body, Mapping):
            check_keys(body, ("uri",), at, required=("uri",))
            body, at = body["uri"], join(at, "uri")
        uri = compile_args(expect_str(body, at), at, data_names=self.data_names, native=False)
        return Subscribe(uri=uri, **self._request_options(mapping, path))

    def get_prompt(self, mapping: Mapping[str, Any], path: str) -> GetPrompt:
        body, at = mapping["get_prompt"], join(path, "get_prompt")
        if isinstance(body, str):
            body = {"name": body}
        check_keys(expect_mapping(body, at), ("name", "args"), at, required=("name",))
        args = body.get("args")
        args = {} if args is None else expect_mapping(args, join(at, "args"), "a mapping of arguments")
        return GetPrompt(
            name=expect_str(body["name"], join(at, "name")),
            args=compile_args(args, join(at, "args"), data_names=self.data_names),
            **self._request_options(mapping, path),
        )

    # think and control flow

    def think(self, mapping: Mapping[str, Any], path: str) -> Think:
        return Think(path=path, duration=parse_distribution(mapping["think"], join(path, "think")))

    def parallel(self, mapping: Mapping[str, Any], path: str) -> Parallel:
        return Parallel(path=path, steps=self.steps(mapping["parallel"], join(path, "parallel")))

    def repeat(self, mapping: Mapping[str, Any], path: str) -> Repeat:
        at = join(path, "repeat")
        body = expect_mapping(mapping["repeat"], at, "a mapping {times, steps}")
        check_keys(body, ("times", "steps"), at, required=("times", "steps"))
        count = parse_count(body["times"], join(at, "times"))
        return Repeat(path=path, count=count, steps=self.steps(body["steps"], join(at, "steps")))

    def choice(self, mapping: Mapping[str, Any], path: str) -> Choice:
        at = join(path, "choice")
        branches = []
        for i, item in enumerate(expect_list(mapping["choice"], at, non_empty=True)):
            where = join(at, i)
            check_keys(expect_mapping(item, where, "a branch {weight, steps}"), ("weight", "steps"), where)
            if "steps" not in item:
                raise ScenarioError("missing required key 'steps' (steps: [] for a branch that does nothing)", where)
            weight = expect_number(item.get("weight", 1), join(where, "weight"), positive=True)
            branches.append(Branch(weight, self.steps(item["steps"], join(where, "steps"), non_empty=False)))
        return Choice(path=path, branches=tuple(branches))

    def markov(self, mapping: Mapping[str, Any], path: str) -> Markov:
        return parse_markov(mapping["markov"], join(path, "markov"), self.steps)


#: The one table of step kinds, in the order messages list them: a step class → how its mapping is
#: parsed. A new step type is its class (``scenario.steps``) plus one entry here; see
#: docs/architecture.md, "Adding a step".
PARSERS: dict[type[Step], Callable[[_Parser, Mapping[str, Any], str], Step]] = {
    Call: _Parser.call,
    Think: _Parser.think,
    Parallel: _Parser.parallel,
    Repeat: _Parser.repeat,
    Choice: _Parser.choice,
    Markov: _Parser.markov,
    Ping: _Parser.no_arguments,
    ListTools: _Parser.no_arguments,
    ListResources: _Parser.no_arguments,
    ListPrompts: _Parser.no_arguments,
    ListResourceTemplates: _Parser.no_arguments,
    ReadResource: _Parser.read_resource,
    GetPrompt: _Parser.get_prompt,
    Subscribe: _Parser.subscribe,
}
KINDS: dict[str, type[Step]] = {cls.kind: cls for cls in PARSERS}
STEP_KINDS = tuple(KINDS)
#: requests without arguments, which may be written bare (``- ping``)
BARE: dict[str, type[Request]] = {
    cls.kind: cls for cls in PARSERS if issubclass(cls, Request) and PARSERS[cls] is _Parser.no_arguments
}


def parse_workflow(value: Any, path: str, data_names: Collection[str] | None = None) -> tuple[Step, ...]:
    """The steps of a workflow (a non-empty list).

    Args:
        value: The list as written.
        path: Its place in the scenario (``agents.researcher.workflow``).
        data_names: The data sources templates may name (None: not checked).

    Raises:
        ScenarioError: the first problem found, with its path.
    """
    return _Parser(data_names).steps(value, path)


def parse_step(value: Any, path: str, data_names: Collection[str] | None = None) -> Step:
    """One step (see ``parse_workflow``)."""
    return _Parser(data_names).step(value, path)
