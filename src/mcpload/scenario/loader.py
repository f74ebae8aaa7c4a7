"""Load a scenario file: YAML (duplicate keys refused) → ``${ENV}`` interpolation → the model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from mcpload.scenario.errors import ScenarioError
from mcpload.scenario.model import Scenario

_DROPPED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with three YAML 1.1 traps removed.

    Duplicate keys are refused instead of silently keeping the last one (two ``call:`` keys in one
    list item would drop a step without a word). As in YAML 1.2, only true/false are booleans
    (``on: [timeout]`` in a retry policy and ``answer: no`` in arguments stay strings) and dates
    stay strings (``protocol: 2025-06-18``, or a date argument, which JSON could not carry).
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[Any]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str) -> Any:
    """Parse YAML the way scenario files are read (YAML 1.2 booleans, no dates, no duplicate keys)."""
    return yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader


def load_scenario(path: str | Path, *, env: Mapping[str, str] | None = None) -> Scenario:
    """Read, interpolate and validate a scenario file.

    Relative paths inside it (data files, python agents) start at the file's folder.

    Args:
        path: The YAML file.
        env: The variables for ``${VAR}`` (default: ``os.environ``).

    Raises:
        ScenarioError: one line, ``file: path: message``; YAML syntax errors are ``file:line:col: message``.
    """
    shown = str(path)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", source=shown) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", source=shown) from None
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
    return Scenario.from_dict(data, shown, base_dir=file.parent, env=env)
