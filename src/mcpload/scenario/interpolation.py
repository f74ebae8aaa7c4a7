"""``${VAR}`` and ``${VAR:-default}`` in scenario strings, resolved from the environment at load time.

Values taken from the environment are collected as secrets so that outputs can redact them (a
bearer token must never reach a results file). ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mcpload.scenario.checks import join
from mcpload.scenario.errors import ScenarioError

_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")


def interpolate(value: Any, env: Mapping[str, str], path: str = "") -> tuple[Any, frozenset[str]]:
    """Replace references in every string of a JSON-like value (mapping keys are left alone).

    ``${VAR:-default}`` uses the default when VAR is unset or empty, as the shell does.

    Returns:
        The new value and the set of non-empty values that came from the environment.

    Raises:
        ScenarioError: a variable is unset and has no default, or a reference is malformed.
    """
    secrets: set[str] = set()
    return _walk(value, env, path, secrets), frozenset(secrets)


def _walk(value: Any, env: Mapping[str, str], path: str, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return _string(value, env, path, secrets) if "${" in value else value
    if isinstance(value, Mapping):
        return {key: _walk(item, env, join(path, str(key)), secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, env, join(path, i), secrets) for i, item in enumerate(value)]
    return value


def _string(text: str, env: Mapping[str, str], path: str, secrets: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        whole, name, default = match.group(0), match.group(1), match.group(2)
        if whole == "$${":
            return "${"
        if name is None:
            raise ScenarioError("malformed ${...}: expected ${NAME} or ${NAME:-default} ($${ is a literal ${)", path)
        found = env.get(name)
        if found:
            secrets.add(found)
            return found
        if default is not None:
            return default
        if found is None:
            raise ScenarioError(f"environment variable {name} is not set (or use ${{{name}:-default}})", path)
        return found

    return _REFERENCE.sub(replace, text)
