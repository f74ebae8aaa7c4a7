"""The scenario's ``answers``: canned results for what servers ask clients (``sampling/createMessage``,
``elicitation/create``, ``roots/list``). Each one given is declared as a client capability, so that
tools which ask the client are offered and can be load tested; a request without an answer is declined.

.. code-block:: yaml

    answers:
      sampling: "Paris is the capital of France."     # or a whole CreateMessageResult
      elicitation: {action: accept, content: {interpretation: technical}}   # or decline / cancel
      roots: [{uri: "file:///srv/project", name: project}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpload.scenario.checks import check_keys, expect_list, expect_mapping, expect_str, join
from mcpload.scenario.errors import ScenarioError

KEYS = ("sampling", "elicitation", "roots")
ELICITATION_ACTIONS = ("accept", "decline", "cancel")


def parse_answers(value: Any, path: str = "answers") -> dict[str, dict[str, Any]]:
    """The server-request method → result mapping a ``Session`` answers with (``server_answers``)."""
    if value is None:
        return {}
    body = expect_mapping(value, path, "a mapping of sampling, elicitation, roots")
    check_keys(body, KEYS, path)
    out: dict[str, dict[str, Any]] = {}
    if body.get("sampling") is not None:
        out["sampling/createMessage"] = _sampling(body["sampling"], join(path, "sampling"))
    if body.get("elicitation") is not None:
        out["elicitation/create"] = _elicitation(body["elicitation"], join(path, "elicitation"))
    if body.get("roots") is not None:
        out["roots/list"] = {"roots": _roots(body["roots"], join(path, "roots"))}
    return out


def _sampling(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {
            "role": "assistant",
            "content": {"type": "text", "text": value},
            "model": "mcpload-canned",
            "stopReason": "endTurn",
        }
    result = dict(expect_mapping(value, path, "a text, or a CreateMessageResult {role, content, model}"))
    check_keys(result, ("role", "content", "model", "stopReason", "_meta"), path, required=("content",))
    content = expect_mapping(result["content"], join(path, "content"), "a content block {type: text, text}")
    if not isinstance(content.get("type"), str):
        raise ScenarioError("a content block needs a type (text, image, audio)", join(path, "content"))
    result.setdefault("role", "assistant")
    result.setdefault("model", "mcpload-canned")
    return result


def _elicitation(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"action": value}
    body = expect_mapping(value, path, "accept, decline, cancel, or {action, content}")
    check_keys(body, ("action", "content"), path, required=("action",))
    action = body["action"]
    if action not in ELICITATION_ACTIONS:
        raise ScenarioError(f"action must be one of {', '.join(ELICITATION_ACTIONS)}, got {action!r}", path)
    result: dict[str, Any] = {"action": action}
    if body.get("content") is not None:
        if action != "accept":
            raise ScenarioError("content goes with action accept only", join(path, "content"))
        result["content"] = dict(expect_mapping(body["content"], join(path, "content")))
    return result


def _roots(value: Any, path: str) -> list[dict[str, str]]:
    roots = []
    for i, item in enumerate(expect_list(value, path)):
        at = join(path, i)
        root = expect_mapping(item, at, "a root {uri, name}")
        check_keys(root, ("uri", "name"), at, required=("uri",))
        uri = expect_str(root["uri"], join(at, "uri"))
        if not uri.startswith("file://"):
            raise ScenarioError(f"a root's uri is a file:// URI, got {uri!r}", join(at, "uri"))
        entry = {"uri": uri}
        if root.get("name") is not None:
            entry["name"] = expect_str(root["name"], join(at, "name"))
        roots.append(entry)
    return roots


def describe(answers: Mapping[str, Any]) -> list[str]:
    """The capabilities the answers declare (for messages)."""
    return [m.partition("/")[0] for m in answers]
