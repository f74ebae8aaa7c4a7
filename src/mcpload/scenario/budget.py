"""The budget of one template render: templates run on the event loop's thread, so one that loops,
recurses or allocates without bound would stall every agent, the clock and the signal handlers.

Each render gets ``MAX_STEPS`` steps (a loop iteration or a call each: functions, methods, macros,
recursive ``loop(...)``) and ``MAX_SECONDS`` of time, checked at every step; every value an
operation can blow up (``*``, ``**``, ``%``, padding and width arguments, ``replace``, format widths)
is bounded by ``MAX_SIZE`` before it is computed, and the rendered value after. Over budget, the step
fails with a template error, as an undefined name does: counted, never a crash or a stall.

Loops are charged by rewriting each ``{% for %}``'s iterable into ``_loop_budget(iterable)`` when the
template is compiled (Jinja's own nodes, no change to its code generator); calls by the sandbox's
``call`` hook, binary operators by its ``call_binop`` hook, filters by a wrapper around each.
"""

from __future__ import annotations

import functools
import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_STEPS = 100_000
MAX_SECONDS = 1.0
MAX_SIZE = 8 * 1024 * 1024  # characters (or items) of one value: a string, a list, a width
MAX_INT_BITS = 100_000  # the largest integer an operator may produce (~30,000 digits)

_clock = time.perf_counter
_LOOP_BUDGET = "_loop_budget"
# a width or precision of 7+ digits in a %-format or a {:...} field
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(?:\d{7,}|\*)|%[-#0 +]*\d*\.(?:\d{7,}|\*)")
_FIELD_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


class BudgetExceeded(Exception):
    """A template went over its render budget."""


class _Budget:
    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        self.steps = 0
        self.deadline = 0.0


_budget = _Budget()  # one render at a time: renders run on the event loop's thread, never nested


def start() -> None:
    """Begin a render: a fresh budget."""
    _budget.steps = 0
    _budget.deadline = _clock() + MAX_SECONDS


def step() -> None:
    b = _budget
    b.steps += 1
    if b.steps > MAX_STEPS:
        raise BudgetExceeded(f"template over its budget of {MAX_STEPS:,} loop iterations and calls")
    if _clock() > b.deadline:  # every step: one step can cost milliseconds (a join over 100,000 items)
        raise BudgetExceeded(f"template took over {MAX_SECONDS:g} s to render")


def check_size(value: Any) -> None:
    if isinstance(value, str | list | tuple | dict | bytes) and len(value) > MAX_SIZE:
        raise BudgetExceeded(f"template value over {MAX_SIZE:,} characters or items")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise BudgetExceeded("template number too large")


_INT64 = (-(2**63), 2**64 - 1)  # what JSON encoders (orjson) carry: int64 and uint64
_SCALARS = (str, bool, float, type(None))


def as_json(value: Any, depth: int = 0) -> Any:
    """``value`` (a template expression's own value) as a JSON value: sequences and iterators (``map``,
    ``unique``… give generators) become lists, ``Markup`` a plain string; what JSON cannot carry (an
    integer beyond 64 bits, a cycler, a macro…) is a template error, not a crash when the call is sent."""
    kind = type(value)
    if kind is str or kind is bool or kind is float or value is None:
        return value
    if kind is int:
        if not _INT64[0] <= value <= _INT64[1]:
            raise BudgetExceeded("template number beyond 64 bits (JSON cannot carry it)")
        return value
    if depth > 64:
        raise BudgetExceeded("template value nested too deep")
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return as_json(int(value), depth)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise BudgetExceeded(f"template mapping key {key!r} is not a string")
            out[str(key)] = as_json(item, depth + 1)
        return out
    if isinstance(value, list | tuple | range) or hasattr(value, "__next__"):
        out_list = []
        for item in value:
            step()
            out_list.append(as_json(item, depth + 1))
        return out_list
    raise BudgetExceeded(f"template value of type {kind.__name__} is not a JSON value")


def _loop_budget(iterable: Any) -> Any:
    for item in iterable:
        step()
        yield item


def charge_loops(tree: nodes.Template) -> None:
    """Rewrite every ``{% for x in it %}`` of ``tree`` into ``{% for x in _loop_budget(it) %}``."""
    from jinja2 import nodes

    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name(_LOOP_BUDGET, "load"), [loop.iter], [], None, None, lineno=loop.lineno)


def _check_int_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
            raise BudgetExceeded(f"template argument {value:.3g} over the limit of {MAX_SIZE:,}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple | bytes) and isinstance(n, int) and len(seq) * n > MAX_SIZE:
                raise BudgetExceeded(f"template value over {MAX_SIZE:,} characters or items")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise BudgetExceeded("template number too large")
    elif operator == "**":
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS:
            raise BudgetExceeded("template number too large")
    elif operator == "%" and isinstance(left, str):
        _check_percent_format(left, right)


def _check_percent_format(fmt: str, args: Any) -> None:
    if _PERCENT_WIDTH.search(fmt):
        if "*" not in fmt or _PERCENT_WIDTH.search(fmt.replace("*", "")):
            raise BudgetExceeded("template format width over the limit")
        values = args if isinstance(args, tuple) else (args,)
        _check_int_args(values, {})


def _replace_size(text: str, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        n = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            n = min(n, count)
        if len(text) + n * max(0, len(new) - len(old)) > MAX_SIZE:
            raise BudgetExceeded(f"template value over {MAX_SIZE:,} characters or items")


def _budgeted_filter(name: str, func: Any) -> Any:
    @functools.wraps(func)  # keeps Jinja's pass_context / pass_environment marks
    def filtered(*args: Any, **kwargs: Any) -> Any:
        step()
        # the first argument after the context/environment is the filtered value: not a width
        value_index = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
        _check_int_args(args[value_index + 1 :], kwargs)
        if name == "replace":
            _replace_size(*args[value_index : value_index + 4])
        elif name == "format" and len(args) > value_index and isinstance(args[value_index], str):
            _check_percent_format(args[value_index], tuple(args[value_index + 1 :]))
        result = func(*args, **kwargs)
        check_size(result)
        return result

    return filtered


@functools.cache
def budgeted_environment() -> ImmutableSandboxedEnvironment:
    """The sandbox (immutable, strict undefined) with the budget's hooks."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BudgetedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            result = super().call_binop(context, operator, left, right)
            check_size(result)
            return result

        def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            step()
            _check_int_args(args, kwargs)
            if getattr(obj, "__name__", None) == "replace" and isinstance(getattr(obj, "__self__", None), str):
                _replace_size(obj.__self__, *args[:3])
            result = super().call(context, obj, *args, **kwargs)
            check_size(result)
            return result

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            text = getattr(value, "__self__", None)
            if wrapped is not None and isinstance(text, str) and _FIELD_WIDTH.search(text):
                raise BudgetExceeded("template format width over the limit")
            return wrapped

    env = BudgetedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters = {name: _budgeted_filter(name, f) for name, f in env.filters.items()}
    env.globals[_LOOP_BUDGET] = _loop_budget
    return env
