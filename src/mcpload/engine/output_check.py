"""``options.validate_output``: check a tool's ``structuredContent`` against its own ``outputSchema``
(from preflight's ``tools/list``) for every call, or an evenly spread share of them. A result that
breaks the schema becomes a ``schema_mismatch`` outcome: servers that break their own schema under
load fail in a way a plain success count does not show. Off by default (validation costs CPU)."""

from __future__ import annotations

from typing import Any

MAX_PROBLEM_CHARS = 200


class OutputCheck:
    """The session's ``output_check``: ``(tool, result) → problem or None``.

    Args:
        tools: the tools by name, as ``tools/list`` gave them; those with an ``outputSchema`` are checked.
        share: the share of their calls to check, 0 < share ≤ 1.
    """

    def __init__(self, tools: dict[str, dict[str, Any]], share: float) -> None:
        import jsonschema

        self.share = share
        self._credit = 1.0 - share  # the first call is checked
        self.checked = 0
        self.validators: dict[str, Any] = {}
        for name, tool in tools.items():
            schema = tool.get("outputSchema")
            if not isinstance(schema, dict):
                continue
            try:
                cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
                cls.check_schema(schema)
            except jsonschema.SchemaError:
                continue  # a broken schema is the server's listing problem, not each call's
            self.validators[name] = cls(schema)

    def __call__(self, tool: str | None, result: Any) -> str | None:
        validator = self.validators.get(tool) if tool is not None else None
        if validator is None:
            return None
        self._credit += self.share
        if self._credit < 1.0:
            return None
        self._credit -= 1.0
        self.checked += 1
        structured = result.get("structuredContent") if isinstance(result, dict) else None
        if structured is None:
            return "no structuredContent although the tool declares an outputSchema"
        error = next(iter(validator.iter_errors(structured)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        text = " ".join(str(error.message).split())
        problem = f"structuredContent breaks the outputSchema: {where + ': ' if where else ''}{text}"
        return problem if len(problem) <= MAX_PROBLEM_CHARS else problem[: MAX_PROBLEM_CHARS - 1] + "…"


def output_check(tools: dict[str, dict[str, Any]], share: float) -> OutputCheck | None:
    """The check for a run (None when off, or when no tool declares an outputSchema)."""
    if share <= 0:
        return None
    check = OutputCheck(tools, min(share, 1.0))
    return check if check.validators else None
