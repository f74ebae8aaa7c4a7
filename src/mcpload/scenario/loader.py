"""Load a scenario file: YAML (duplicate keys refused) → ``${ENV}`` interpolation → the model.

The file is read through ``mcpload.inputs`` (a regular file of at most 8 MiB) and its YAML is
bounded: at most ``MAX_DEPTH`` levels of nesting and ``MAX_NODES`` values once aliases are
expanded (a "billion laughs" file is refused before anything walks it), no recursive aliases,
and mapping keys that are plain values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mcpload.inputs import MAX_DEPTH, InputError, read_text
from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.model import Scenario

_DROPPED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
#: the most values (scalars, lists, mappings) a scenario may hold once its aliases are expanded
MAX_NODES = 200_000


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with three YAML 1.1 traps removed.

    Duplicate keys are refused instead of silently keeping the last one (two ``call:`` keys in one
    list item would drop a step without a word). As in YAML 1.2, only true/false are booleans
    (``on: [timeout]`` in a retry policy and ``answer: no`` in arguments stay strings) and dates
    stay strings (``protocol: 2025-06-18``, or a date argument, which JSON could not carry).
    """

    # PyYAML reads the table as a class attribute (its stubs declare an instance variable, hence no ClassVar)
    yaml_implicit_resolvers = {  # noqa: RUF012
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # PyYAML composes recursively: bound the depth before Python's recursion limit does.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python refuses to read integers of more than 4,300 digits
            raise yaml.constructor.ConstructorError(None, None, "integer too large", node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *defaults``, merged by the base class
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                what = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                raise yaml.constructor.ConstructorError(
                    None, None, f"a mapping key must be a plain value, not {what}", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def _check_expansion(root: Any) -> None:
    """Refuse a node graph whose aliases expand past ``MAX_NODES`` values or ``MAX_DEPTH`` levels, or loop.

    Iterative, with the expanded size and depth of each node computed once (an alias shares its
    anchor's node), so a billion-laughs file costs as many steps as it has distinct nodes.
    """
    if root is None:
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            active.discard(key)
            if size[key] > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_NODES:,} values once aliases are expanded", node.start_mark
                )
            if depth[key] > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep (through aliases)", node.start_mark
                )
            continue
        if key in size:
            continue
        if key in active:
            problem = "an alias refers to a value that contains it"
            raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str) -> Any:
    """Parse YAML the way scenario files are read (YAML 1.2 booleans, no dates, no duplicate keys)."""
    return yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader


def load_scenario(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    allow_python: bool = False,
    on_python: Callable[[str], None] | None = None,
    import_python: bool = True,
) -> Scenario:
    """Read, interpolate and validate a scenario file.

    Relative paths inside it (data files, python agents) start at the file's folder. ``python:``
    agents outside that folder (or modules) are refused unless ``allow_python``; see
    ``Scenario.from_dict`` for ``on_python`` and ``import_python``.

    Args:
        path: The YAML file.
        env: The variables for ``${VAR}`` (default: ``os.environ``).

    Raises:
        ScenarioError: one line, ``file: path: message``; YAML syntax errors are ``file:line:col: message``.
    """
    shown = str(path)
    file = Path(path)
    try:
        text = read_text(file, "scenario")
    except InputError as exc:
        raise ScenarioError(str(exc), source=shown) from None
    try:
        data = read_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        raise ScenarioError(message, source=where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {exc}", source=shown) from None
    return Scenario.from_dict(
        data,
        shown,
        base_dir=file.parent,
        env=env,
        allow_python=allow_python,
        on_python=on_python,
        import_python=import_python,
    )
