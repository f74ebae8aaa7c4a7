"""Argument templates: JSON-like values whose strings may hold Jinja2, rendered in the sandbox.

Templates are compiled and checked once, at load time (syntax, unknown names, unsafe attributes,
unknown data sources). Arguments without any template stay a literal value: rendering them costs
nothing and preflight can check them against the tool's ``inputSchema``. A string that is exactly
one expression, ``"{{ expr }}"``, renders to the expression's own value (an int stays an int);
any other template renders to a string.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from mcpload.scenario import budget
from mcpload.scenario.checks import join, type_name
from mcpload.scenario.context import CONTEXT_NAMES, FUNCTION_NAMES, RenderContext
from mcpload.scenario.errors import ScenarioError, TemplateRenderError
from mcpload.suggest import did_you_mean

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment


@functools.cache
def environment() -> ImmutableSandboxedEnvironment:
    """The one Jinja2 environment, made on the first template: a scenario without templates (and the
    CLI's start-up) never imports jinja2 (~50 ms of CPU).

    Immutable: templates cannot change saved values or data rows (no .append, .update, …).
    StrictUndefined: a typo such as {{ saved.dco }} fails the step instead of sending "".
    Budgeted (``mcpload.scenario.budget``): a template cannot loop, recurse or allocate without bound.
    """
    from mcpload.scenario.budget import budgeted_environment

    return budgeted_environment()


@functools.cache
def known_names() -> frozenset[str]:
    return frozenset(CONTEXT_NAMES + FUNCTION_NAMES) | frozenset(environment().globals)


def __getattr__(name: str) -> Any:  # the former module constants, made on first use
    if name == "ENVIRONMENT":
        return environment()
    if name == "KNOWN_NAMES":
        return known_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Renderer = Callable[[dict[str, Any]], Any]


class Args:
    """Compiled arguments of one step.

    Attributes:
        path: Where they are in the scenario (``agents.researcher.workflow[0].args``).
        source: The value as written.
        is_literal: True when nothing is templated.
        literal: The value itself when ``is_literal`` (shared: do not modify), else None.
    """

    __slots__ = ("_render", "is_literal", "literal", "path", "source")

    def __init__(self, source: Any, path: str, render: Renderer | None) -> None:
        self.source = source
        self.path = path
        self.is_literal = render is None
        self.literal = source if render is None else None
        self._render = render

    def render(self, ctx: RenderContext) -> Any:
        """The arguments for this agent and conversation.

        Raises:
            TemplateRenderError: a template failed (undefined name, sandbox violation, bad call…).
        """
        if self._render is None:
            return self.literal
        return self._render(ctx.variables())

    def __repr__(self) -> str:
        return f"<Args {'literal' if self.is_literal else 'template'} {self.source!r}>"


def compile_args(value: Any, path: str, *, data_names: Collection[str] | None = None, native: bool = True) -> Args:
    """Compile a JSON-like value whose strings may be templates.

    Args:
        value: Mappings, lists, strings, numbers, booleans, None.
        path: The value's place in the scenario, for messages.
        data_names: The data sources that exist; ``data('x')`` with another constant name is an
            error. None skips that check.
        native: False renders every template to a string (for URIs), even a lone expression.

    Raises:
        ScenarioError: a template does not compile, names something unknown, or is unsafe.
    """
    return Args(value, path, _compile(value, path, data_names, native))


def _compile(value: Any, path: str, data_names: Collection[str] | None, native: bool) -> Renderer | None:
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            return _compile_string(value, path, data_names, native)
        return None
    if isinstance(value, Mapping):
        entries = [(key, _compile(item, join(path, str(key)), data_names, native), item) for key, item in value.items()]
        if all(render is None for _, render, _ in entries):
            return None
        return lambda variables: {key: render(variables) if render else item for key, render, item in entries}
    if isinstance(value, list | tuple):
        items = [(_compile(item, join(path, i), data_names, native), item) for i, item in enumerate(value)]
        if all(render is None for render, _ in items):
            return None
        return lambda variables: [render(variables) if render else item for render, item in items]
    if value is None or isinstance(value, bool | int | float):
        return None
    # YAML turns 2024-01-01 into a date, which JSON cannot carry.
    raise ScenarioError(f"expected a JSON value, got {type_name(value)} {value!r} (quote it to send a string)", path)


def _compile_string(source: str, path: str, data_names: Collection[str] | None, native: bool) -> Renderer:
    from jinja2 import TemplateSyntaxError
    from jinja2.runtime import Undefined

    env = environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno})" if "\n" in source.strip() else ""
        raise ScenarioError(f"template syntax error{where}: {exc.message}", path) from None
    _check(tree, path, data_names)
    budget.charge_loops(tree)
    expression = _lone_expression(source) if native else None
    if expression is not None:
        evaluate = env.compile_expression(expression, undefined_to_none=False)

        def render_native(variables: dict[str, Any]) -> Any:
            try:
                budget.start()
                value = evaluate(variables)
                budget.check_size(value)
                if isinstance(value, Undefined | list | dict):
                    undefined = _undefined_in(value)
                    if undefined is not None:
                        str(undefined)  # StrictUndefined raises the precise error (which name, which object)
                value = budget.as_json(value)
            except Exception as exc:
                raise TemplateRenderError(path, _describe(exc)) from exc
            return value

        lookup = _plain_lookup(tree)
        return render_native if lookup is None else _fast_lookup(lookup, render_native)
    template = env.from_string(tree)

    def render_text(variables: dict[str, Any]) -> str:
        try:
            budget.start()
            text = template.render(variables)
            budget.check_size(text)
            return text
        except Exception as exc:
            raise TemplateRenderError(path, _describe(exc)) from exc

    return render_text


def _plain_lookup(tree: nodes.Template) -> tuple[str, tuple[str, ...]] | None:
    """``("saved", ("doc", "id"))`` for ``{{ saved.doc.id }}``: a chain of plain keys into a context dict.

    Why: ``{{ saved.x }}`` is the most common template, and a dict walk is ~20x cheaper than Jinja's
    expression machinery. Keys that are also dict attributes (``items``, ``get``…) are left to
    Jinja, which resolves them as attributes first.
    """
    from jinja2 import nodes

    body = tree.body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    node, keys = body[0].nodes[0], []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node.arg, nodes.Const):
            key = node.arg.value
        else:
            return None
        if not isinstance(key, str) or hasattr(dict, key):
            return None
        keys.append(key)
        node = node.node
    if not isinstance(node, nodes.Name) or node.name not in ("saved", "agent", "conversation") or not keys:
        return None
    return node.name, tuple(reversed(keys))


def _fast_lookup(lookup: tuple[str, tuple[str, ...]], slow: Renderer) -> Renderer:
    root, keys = lookup

    def render_lookup(variables: dict[str, Any]) -> Any:
        value = variables[root]
        for key in keys:
            if type(value) is not dict or key not in value:
                return slow(variables)  # Jinja gives the exact error, or attribute semantics
            value = value[key]
        if isinstance(value, list | dict):
            return slow(variables)  # a container may hold undefined values: let Jinja check it
        return value

    return render_lookup


def _lone_expression(source: str) -> str | None:
    """The inner expression when ``source`` is exactly ``{{ expr }}`` (surrounding blanks allowed)."""
    text = source.strip()
    tokens = [(kind, value) for _, kind, value in environment().lex(text) if kind != "whitespace"]
    if len(tokens) < 3 or tokens[0][0] != "variable_begin" or tokens[-1][0] != "variable_end":
        return None
    if any(
        kind in ("variable_begin", "variable_end", "data", "block_begin", "comment_begin") for kind, _ in tokens[1:-1]
    ):
        return None
    # The exact source between the delimiters ("{{-" and "-}}" included), so nothing is re-spelled.
    return text[len(tokens[0][1]) : len(text) - len(tokens[-1][1])]


def _check(tree: nodes.Template, path: str, data_names: Collection[str] | None) -> None:
    from jinja2 import meta, nodes

    known = known_names()
    for name in sorted(meta.find_undeclared_variables(tree)):
        if name not in known:
            if name == "env":
                raise ScenarioError("'env' is not available in templates (use ${VAR} interpolation instead)", path)
            raise ScenarioError(f"unknown name '{name}' in template{did_you_mean(name, known)}", path)
    if any(node.name == "self" for node in tree.find_all(nodes.Name)):  # Jinja's TemplateReference
        raise ScenarioError("'self' is not available in templates", path)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr: object = (
            node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        )
        if isinstance(attr, str) and attr.startswith("_"):
            raise ScenarioError(
                f"unsafe attribute '{attr}' in template (the sandbox forbids names starting with _)", path
            )
    if data_names is None:
        return
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "data" and call.args:
            source = getattr(call.args[0], "value", None)
            if isinstance(source, str) and source not in data_names:
                hint = (
                    did_you_mean(source, data_names)
                    or f" (define it under data:; known: {', '.join(data_names) or 'none'})"
                )
                raise ScenarioError(f"unknown data source '{source}'{hint}", path)


def _undefined_in(value: Any) -> Any:
    """The first undefined value inside a list or dict result (``{{ [saved.missing] }}``)."""
    from jinja2.runtime import Undefined

    if isinstance(value, Undefined):
        return value
    if isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            found = _undefined_in(item)
            if found is not None:
                return found
    return None


def _describe(exc: Exception) -> str:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, UndefinedError | SecurityError | TemplateRenderError | budget.BudgetExceeded):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "template recursion too deep"
    if isinstance(exc, MemoryError):
        return "template ran out of memory"
    return f"{type(exc).__name__}: {exc}"
