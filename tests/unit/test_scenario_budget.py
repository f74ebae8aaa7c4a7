"""The render budget of templates (issue 18 §1): nothing a template does can loop, recurse or allocate
without bound; ordinary templates render as before. Each class is attacked several ways, and a property
test throws random compositions of the dangerous operators at it."""

from __future__ import annotations

import contextlib
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpload.scenario import RenderContext, TemplateRenderError
from mcpload.scenario.budget import MAX_SECONDS
from mcpload.scenario.templates import compile_args


def render(source: str):
    ctx = RenderContext(random.Random(1), data={})
    ctx.start_conversation("c", 0, saved={"n": 3, "s": "ab"})
    return compile_args({"v": source}, "p").render(ctx)["v"]


def refused(source: str) -> str:
    started = time.perf_counter()
    with pytest.raises(TemplateRenderError) as info:
        render(source)
    # a generous bound (a busy machine): only an unbounded render comes near it
    assert time.perf_counter() - started < MAX_SECONDS + 15
    return str(info.value)


LOOPS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in 'x' * 5000 %}{% for b in 'x' * 5000 %}{% endfor %}{% endfor %}",
    "{% for a in range(1000) %}{% for b in range(1000) %}{{ a }}{% endfor %}{% endfor %}",
    "{% for a in range(50000)|list %}{% for b in range(50000)|list %}{% endfor %}{% endfor %}",
]
RECURSION = [
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}",
    "{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}",
]
ALLOCATION = [
    "{{ 'x' * 10**10 }}",
    "{{ 10**10 * 'x' }}",
    "{{ [0] * 10**10 }}",
    "{{ (range(100000)|list) * 100 }}",
    "{{ 7 ** 10**9 }}",
    "{{ 2 ** 100000000 }}",
    "{{ 'x'.ljust(10**10) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ 'x'.zfill(10**9) }}",
    "{{ 'x'|center(10**10) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%.999999999f' % 1 }}",
    "{{ '%*d' % (10**9, 1) }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'ab'|replace('a', 'x' * 5000000)|replace('x', 'yyyyyyy') }}",
    "{{ ('x' * 4000000).replace('x', 'xxxxx') }}",
    "{{ range(99999)|join('x' * 100) }}",
]
NOT_JSON = ["{{ 2 ** 70 }}", "{{ {1: 2} }}", "{{ cycler(1, 2) }}", "{{ joiner() }}", "{{ namespace() }}"]


@pytest.mark.parametrize("source", LOOPS + RECURSION + ALLOCATION + NOT_JSON)
def test_unbounded_templates_fail_as_template_errors(source):
    message = refused(source)
    assert message.startswith("p.v: ")


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("{{ 6 * 7 }}", 42),
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ 2 ** 62 }}", 2**62),
        ("{{ 'ok %05d' % 42 }}", "ok 00042"),
        ("{{ '{:>5}'.format(1) }}", "    1"),
        ("{{ 'x'|center(5) }}", "  x  "),
        ("{{ saved.s|replace('a', 'zz') }}", "zzb"),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ [3, 1, 3]|unique|list }}", [3, 1]),
        ("{{ [1, 2]|map('string') }}", ["1", "2"]),
        ("{{ {'a': (1, 2)} }}", {"a": [1, 2]}),
        ("{% for i in range(saved.n) %}{{ i }}{% endfor %}", "012"),
        ("{% for i in range(300) %}{% for j in range(300) %}{% endfor %}{% endfor %}ok", "ok"),
        ("{% macro f(n) %}{{ n }}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "3210"),
        ("{{ 'order 12345678 {}'.format(1) }}", "order 12345678 1"),
    ],
)
def test_ordinary_templates_still_render(source, value):
    assert render(source) == value


# Random compositions of the operators that amplify: sizes and exponents from tiny to absurd.
_NUMBER = st.sampled_from(["0", "1", "3", "100", "5000", "10**6", "10**9", "10**12", "saved.n", "-7"])
_TEXT = st.sampled_from(["'x'", "'ab'", "saved.s", "'%05d'", "'{:>9}'"])
_EXPR = st.recursive(
    st.one_of(_NUMBER, _TEXT),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["*", "**", "+", "~", "%"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, _NUMBER).map(lambda t: f"({t[0]}|string).ljust({t[1]})"),
        st.tuples(inner, _NUMBER).map(lambda t: f"({t[0]}|string)|center({t[1]})"),
        st.tuples(inner, _NUMBER).map(lambda t: f"range({t[1]})|join({t[0]}|string)"),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(_EXPR, st.booleans())
def test_any_composition_ends_within_the_budget(expr, in_loop):
    source = "{{ " + expr + " }}"
    if in_loop:
        source = "{% for i in range(100000) %}{% for j in range(100000) %}" + source + "{% endfor %}{% endfor %}"
    started = time.perf_counter()
    with contextlib.suppress(TemplateRenderError):
        render(source)
    assert time.perf_counter() - started < MAX_SECONDS + 15
