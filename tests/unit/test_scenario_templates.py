"""Argument templates: literal detection, native values, functions, saved values, the sandbox."""

from __future__ import annotations

import random
import uuid

import pytest

from mcpload.scenario import RenderContext, ScenarioError, TemplateRenderError, compile_args
from mcpload.scenario.data import DataSource


def context(seed: int = 1, **kw) -> RenderContext:
    return RenderContext(random.Random(seed), agent={"id": "researcher-3", "type": "researcher", "index": 3}, **kw)


def render(value, ctx: RenderContext | None = None, **kw):
    return compile_args(value, "args", **kw).render(ctx or context())


def test_literal_args_render_to_the_same_object():
    value = {"query": "retries", "limit": 3, "tags": ["a", {"b": None}], "ok": True}
    args = compile_args(value, "args")
    assert args.is_literal
    assert args.literal is value
    assert args.render(context()) is value


def test_one_template_anywhere_makes_args_templated_and_keeps_literals():
    args = compile_args({"fixed": [1, 2], "nested": {"id": "{{ agent.index }}"}}, "args")
    assert not args.is_literal
    assert args.literal is None
    assert args.render(context()) == {"fixed": [1, 2], "nested": {"id": 3}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 3 }}", 3),
        ("{{ 1.5 }}", 1.5),
        ("{{ [1, 2] }}", [1, 2]),
        ("{{ {'a': 1} }}", {"a": 1}),
        ("{{ true }}", True),
        ("{{ none }}", None),
        ("  {{ agent.index }}  ", 3),
        ("{{- agent.index -}}", 3),
        ("{{ '}}' }}", "}}"),
        ("{{ agent.index }}{{ agent.index }}", "33"),
        ("id-{{ agent.index }}", "id-3"),
        ("{{ agent.id }} x", "researcher-3 x"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ agent.type | upper }}", "RESEARCHER"),
    ],
)
def test_native_and_string_rendering(template, expected):
    result = render({"v": template})["v"]
    assert result == expected
    assert type(result) is type(expected)


def test_native_false_always_renders_a_string():
    assert compile_args("{{ agent.index }}", "uri", native=False).render(context()) == "3"


def test_saved_values_and_conversation():
    ctx = context()
    ctx.start_conversation("researcher-3-0", 0)
    ctx.saved["doc"] = {"id": 7}
    ctx.step = 2
    args = compile_args({"doc": "{{ saved.doc.id }}", "c": "{{ conversation.id }}/{{ step }}"}, "args")
    assert args.render(ctx) == {"doc": 7, "c": "researcher-3-0/2"}
    ctx.start_conversation("researcher-3-1", 1)
    with pytest.raises(TemplateRenderError) as info:
        args.render(ctx)
    assert str(info.value) == "args.doc: 'dict object' has no attribute 'doc'"


def test_functions_use_the_agent_rng():
    args = compile_args(
        {
            "choice": "{{ random_choice(['a', 'b', 'c']) }}",
            "int": "{{ random_int(1, 6) }}",
            "float": "{{ random_float(0, 1) }}",
            "uuid": "{{ uuid() }}",
        },
        "args",
    )
    first, again, other = args.render(context(5)), args.render(context(5)), args.render(context(6))
    assert first == again
    assert first != other
    assert first["choice"] in "abc" and 1 <= first["int"] <= 6 and 0 <= first["float"] <= 1
    assert uuid.UUID(first["uuid"]).version == 4


def test_now_is_an_iso_timestamp():
    assert render("{{ now() }}").endswith("Z")


def test_undefined_names_fail_at_render_time_with_the_path():
    with pytest.raises(TemplateRenderError) as info:
        render({"a": ["{{ saved.doc }}"]})
    assert str(info.value) == "args.a[0]: 'dict object' has no attribute 'doc'"
    with pytest.raises(TemplateRenderError):
        render({"a": "{{ [saved.doc] }}"})  # an undefined value hidden in a list
    with pytest.raises(TemplateRenderError) as info:
        render({"a": "{{ random_choice([]) }}"})
    assert str(info.value) == "args.a: IndexError: Cannot choose from an empty sequence"


UNSAFE = "in template (the sandbox forbids names starting with _)"
SYNTAX = "template syntax error:"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ ''.__class__ }}", f"args.v: unsafe attribute '__class__' {UNSAFE}"),
        ("{{ saved['__dict__'] }}", f"args.v: unsafe attribute '__dict__' {UNSAFE}"),
        ("{{ env.HOME }}", "args.v: 'env' is not available in templates (use ${VAR} interpolation instead)"),
        ("{{ ranodm_int(1, 2) }}", "args.v: unknown name 'ranodm_int' in template (did you mean 'random_int'?)"),
        ("{{ saved.doc", f"args.v: {SYNTAX} unexpected end of template, expected 'end of print statement'."),
        ("{% if %}", f"args.v: {SYNTAX} Expected an expression, got 'end of statement block'"),
        ("{{ data('userz') }}", "args.v: unknown data source 'userz' (did you mean 'users'?)"),
    ],
)
def test_load_time_errors(template, message):
    with pytest.raises(ScenarioError) as info:
        compile_args({"v": template}, "args", data_names=["users"])
    assert str(info.value) == message


def test_sandbox_blocks_unsafe_access_at_render_time():
    # |attr() hides the name from the load-time check; the sandbox still refuses it.
    with pytest.raises(TemplateRenderError) as info:
        render("{{ saved | attr('__class__') }}")
    assert "unsafe" in str(info.value)
    with pytest.raises(TemplateRenderError) as info:  # immutable: templates cannot change saved values
        render("{{ saved.update({'a': 1}) }}")
    assert "unsafe" in str(info.value)


def test_dates_must_be_quoted():
    import datetime

    with pytest.raises(ScenarioError) as info:
        compile_args({"day": datetime.date(2024, 1, 2)}, "args")
    assert str(info.value) == (
        "args.day: expected a JSON value, got date datetime.date(2024, 1, 2) (quote it to send a string)"
    )


def test_data_rows_are_fixed_for_a_conversation(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("name,password\nann,a1\nbob,b2\n")
    source = DataSource("users", path, "sequential")
    ctx = context(data={"users": source})
    args = compile_args({"u": "{{ data('users').name }}", "p": "{{ data('users').password }}"}, "args")
    ctx.start_conversation("c0", 0)
    assert args.render(ctx) == {"u": "ann", "p": "a1"}
    assert args.render(ctx) == {"u": "ann", "p": "a1"}
    ctx.start_conversation("c1", 1)
    assert args.render(ctx) == {"u": "bob", "p": "b2"}


def test_unknown_data_source_at_render_time():
    with pytest.raises(TemplateRenderError) as info:
        render("{{ data('nope') }}")
    assert str(info.value) == "args: LookupError: unknown data source 'nope' (known: none)"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ saved.doc.id }}", 7),
        ("{{ saved['doc']['id'] }}", 7),
        ("{{ saved.doc }}", {"id": 7}),
        ("{{ saved.items is callable }}", True),  # a dict attribute wins, as in Jinja
        ("{{ saved.text.upper() }}", "HI"),
    ],
)
def test_plain_lookups_match_jinja(template, expected):
    ctx = context()
    ctx.saved.update({"doc": {"id": 7}, "text": "hi"})
    assert compile_args(template, "v").render(ctx) == expected
    with pytest.raises(TemplateRenderError) as info:
        compile_args("{{ saved.doc.missing }}", "v").render(ctx)
    assert str(info.value) == "v: 'dict object' has no attribute 'missing'"
