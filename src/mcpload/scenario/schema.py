"""The JSON Schema of the scenario format (``mcpload schema``), for editors: completion and checks.

Generated from the tables the loader itself reads — the key tuples of each section (``model.KEYS``,
``target.KEYS``, ``agents.KEYS``, the step kinds and their keys in ``workflow``), the profile registry
(``PROFILE_TYPES``: each profile's dataclass fields and the reader that each field's metadata names),
the distribution kinds, data modes, outcome kinds, protocol versions and threshold metrics — so a key
added there appears here (a test checks the committed copy against this generator). The loader stays
the authority: it checks what a schema cannot (ranges going backwards, templates, ``${VAR}``...). A
``${VAR}`` string is accepted wherever a value may come from the environment.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the copy installed with mcpload (``init`` points editors at it); the repository keeps one at schema/
PACKAGED = Path(__file__).with_name("scenario.schema.json")

_ENV = {"type": "string", "pattern": r"\$\{"}
_DURATION = r"^\s*(\d+(\.\d+)?|(\d+(\.\d+)?(ms|s|m|h)\s*)+)\s*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _env_or(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, _ENV]}


def _strict(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _defs() -> dict[str, Any]:
    from mcpload.mcp import eras
    from mcpload.outcome import KINDS, OK
    from mcpload.profiles.arrivals import DISTRIBUTIONS
    from mcpload.scenario.data import MODES as DATA_MODES
    from mcpload.scenario.distributions import KINDS as DISTRIBUTION_KINDS

    duration = {
        "description": "seconds (2, 1.5) or a string with units ms, s, m, h: 500ms, 2s, 1m30s",
        "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": _DURATION}, _ENV],
    }
    params = {
        "constant": _ref("duration"),
        "uniform": _strict({"min": _ref("duration"), "max": _ref("duration")}, ("min", "max")),
        "exponential": _strict({"mean": _ref("duration")}, ("mean",)),
        "lognormal": _strict(
            {"median": _ref("duration"), "sigma": {"type": "number", "minimum": 0}}, ("median", "sigma")
        ),
        "gamma": _strict(
            {"mean": _ref("duration"), "cv": {"type": "number", "minimum": 0.01, "maximum": 100}}, ("mean", "cv")
        ),
        "normal": _strict({k: _ref("duration") for k in ("mean", "stddev", "min", "max")}, ("mean", "stddev")),
        "empirical": {
            "anyOf": [
                {"type": "array", "items": _ref("duration"), "minItems": 1},
                _strict({"samples": {"type": "array", "items": _ref("duration"), "minItems": 1}}, ("samples",)),
            ]
        },
    }
    assert set(params) == set(DISTRIBUTION_KINDS), "a distribution kind has no schema"
    distribution = {
        "description": "a duration (constant), a range '1s..3s' (uniform), or {kind: parameters}",
        "anyOf": [
            _ref("duration"),
            {"type": "string", "pattern": r"\.\."},
            *({"type": "object", "properties": {k: v}, "required": [k], "additionalProperties": False}
              for k, v in params.items()),
        ],
    }  # fmt: skip
    count = {
        "description": "a whole number, a range '1..4', or a distribution of numbers",
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*\d+\s*\.\.\s*\d+\s*$"},
            {"type": "object", "minProperties": 1, "maxProperties": 1},
            _ENV,
        ],
    }
    retryable = [k for k in KINDS if k != OK]
    retry = {
        "anyOf": [
            {"type": "integer", "minimum": 1},
            _strict(
                {
                    "attempts": _env_or({"type": "integer", "minimum": 1}),
                    "backoff": _ref("distribution"),
                    "multiplier": _env_or({"type": "number", "minimum": 1}),
                    "on": {"anyOf": [{"enum": retryable}, {"type": "array", "items": {"enum": retryable}}]},
                    "respect_retry_after": _env_or({"type": "boolean"}),
                },
                ("attempts",),
            ),
        ]
    }
    return {
        "duration": duration,
        "distribution": distribution,
        "count": count,
        "retry": retry,
        "step": _step_schema(),
        "steps": {"type": "array", "items": _ref("step")},
        "target": _target_schema(eras.KNOWN_VERSIONS),
        "agent": _agent_schema(),
        "profile": _profiles_schema(DISTRIBUTIONS),
        "threshold": {
            "anyOf": [
                {"type": "string", "description": "'<aggregation> <operator> <value>', e.g. 'p(95) < 400ms'"},
                _strict(
                    {
                        "threshold": {"type": "string"},
                        "abort_on_fail": {"type": "boolean"},
                        "delay_abort_eval": _ref("duration"),
                    },
                    ("threshold",),
                ),
            ]
        },
        "data_source": {
            "anyOf": [
                {"type": "string", "description": "a CSV or JSON Lines file, relative to the scenario"},
                _strict({"file": {"type": "string"}, "mode": {"enum": list(DATA_MODES)}}, ("file",)),
            ]
        },
    }


def _step_schema() -> dict[str, Any]:
    from mcpload.scenario.workflow import BARE, CALL_KEYS, REQUEST_KEYS, STEP_KINDS

    request = {"timeout": _ref("duration"), "retry": _ref("retry")}
    assert set(request) == set(REQUEST_KEYS)
    args = {"type": "object", "description": "the tool's arguments; strings may be Jinja2 templates"}
    weights = {"type": "object", "description": "state (or end): relative weight",
               "additionalProperties": {"type": "number", "minimum": 0}}  # fmt: skip
    bodies: dict[str, tuple[Any, dict[str, Any]]] = {
        "call": ({"type": "string", "minLength": 1, "description": "the tool's name"}, {
            "args": args,
            "save": {"type": "object", "additionalProperties": {"type": "string"}},
            "progress": _env_or({"type": "boolean"}),
            "task": {"anyOf": [{"const": "auto"}, {"type": "boolean"}],
                     "description": "call as a task (2025-11-25): auto follows the tool's taskSupport"},
            "abandon": _strict({"share": {"type": "number", "minimum": 0, "maximum": 1}, "after": _ref("duration")},
                               ("share", "after")),
            **request,
        }),
        "think": (_ref("distribution"), {}),
        "parallel": (_ref("steps"), {}),
        "repeat": (_strict({"times": _ref("count"), "steps": _ref("steps")}, ("times", "steps")), {}),
        "choice": ({
            "type": "array",
            "minItems": 1,
            "items": _strict({"weight": {"type": "number", "exclusiveMinimum": 0}, "steps": _ref("steps")},
                             ("steps",)),
        }, {}),
        "markov": (_strict({
            "think": _ref("distribution"),
            "max_steps": {"type": "integer", "minimum": 1},
            "start": {**weights, "minProperties": 1},
            "states": {"type": "object", "minProperties": 1,
                       "additionalProperties": _strict({"steps": _ref("steps"), "next": weights}, ("steps",))},
        }, ("start", "states")), {}),
        "read_resource": ({"anyOf": [{"type": "string"}, _strict({"uri": {"type": "string"}}, ("uri",))]}, request),
        "subscribe": ({"anyOf": [{"type": "string"}, _strict({"uri": {"type": "string"}}, ("uri",))]}, request),
        "get_prompt": ({"anyOf": [
            {"type": "string"},
            _strict({"name": {"type": "string"}, "args": args}, ("name",)),
        ]}, request),
        **{kind: ({"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]}, request) for kind in BARE},
    }  # fmt: skip
    assert set(bodies) == set(STEP_KINDS), "a step kind has no schema"
    assert set(bodies["call"][1]) == set(CALL_KEYS)
    variants: list[dict[str, Any]] = [{"enum": list(BARE), "description": "a request step without arguments"}]
    for kind, (body, extra) in bodies.items():
        variants.append(_strict({kind: body, **extra}, (kind,)))
    return {"description": f"one of: {', '.join(STEP_KINDS)}", "anyOf": variants}


def _transports_help() -> str:
    from mcpload.transports.registry import TRANSPORTS

    return "auto (detected), " + ", ".join(f"{entry.name} ({entry.summary})" for entry in TRANSPORTS)


def _target_schema(versions: tuple[str, ...]) -> dict[str, Any]:
    from mcpload.scenario.target_spec import KEYS, TRANSPORTS

    strings = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}
    properties = {
        "url": {"type": "string", "pattern": "^(https?://|\\$\\{)", "description": "Streamable HTTP or legacy /sse"},
        "command": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "transport": {"enum": list(TRANSPORTS), "description": _transports_help()},
        "protocol": {"anyOf": [{"enum": ["auto", *versions]}, _ENV]},
        "headers": strings,
        "timeout": _ref("duration"),
        "connect_timeout": _ref("duration"),
        "insecure": _env_or({"type": "boolean"}),
        "ca_file": {"type": "string", "description": "a PEM file of CA certificates to trust"},
        "listen": _env_or({"type": "boolean"}),
        "oauth": _strict(
            {
                "client_id": {"type": "string"},
                "client_secret_env": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                "token_url": {"type": "string", "pattern": "^https?://"},
                "scope": {"type": "string"},
                "shared": _env_or({"type": "boolean"}),
            },
            ("client_id", "client_secret_env"),
        ),
        "env": strings,
        "inherit_env": _env_or({"type": "boolean"}),
        "max_response_bytes": _env_or({"type": "integer", "minimum": 1024}),
        "connections": {"type": "string", "pattern": "^(own|shared(:[1-9][0-9]*)?)$"},
    }
    assert list(properties) == list(KEYS), "target keys and their schema differ"
    exclusive: dict[str, Any] = {"not": {"required": ["url", "command"]}}
    return _strict(properties, (), **exclusive)


def _agent_schema() -> dict[str, Any]:
    from mcpload.scenario.agents import KEYS
    from mcpload.scenario.personas import PERSONAS

    properties = {
        "weight": _env_or({"type": "number", "exclusiveMinimum": 0}),
        "workflow": {**_ref("steps"), "minItems": 1},
        "python": {"type": "string", "description": "file.py:Class or module:Class"},
        "conversations_per_session": _env_or({"type": "integer", "minimum": 1}),
        "session_lifetime": _ref("duration"),
        "idle": _ref("distribution"),
        "tokens_per_step": _env_or({"type": "integer", "minimum": 0}),
        "persona": {"enum": list(PERSONAS), "description": "a built-in persona (docs/personas.md)"},
        "calls": {
            "type": "array",
            "minItems": 1,
            "description": "with persona: the steps its tool calls pick from (a plain step has weight 1)",
            "items": {
                "anyOf": [
                    _strict({"weight": {"type": "number", "exclusiveMinimum": 0}, "steps": _ref("steps")}, ("steps",)),
                    _ref("step"),
                ]
            },
        },
        "on_end": {
            "anyOf": [
                {"enum": ["delete", "abandon"]},
                {
                    "type": "object",
                    "properties": {"abandon": {"type": ["number", "string"]}},
                    "required": ["abandon"],
                    "additionalProperties": False,
                },
            ],
            "description": "end sessions with DELETE, or abandon them (all, or a share: {abandon: 30%})",
        },
    }
    assert list(properties) == list(KEYS), "agent keys and their schema differ"
    return _strict(properties)


def _reader_schema(reader: Callable[..., Any]) -> dict[str, Any]:
    """The schema of one profile field, from the reader its metadata names."""
    from mcpload.profiles import fields

    simple = {
        fields.read_duration: _ref("duration"),
        fields.read_count: _env_or({"type": "integer", "minimum": 0}),
        fields.read_number: _env_or({"type": "number", "minimum": 0}),
        fields.read_text: {"type": "string", "minLength": 1},
        fields.read_names: {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    }
    if reader in simple:
        return simple[reader]
    captured = inspect.getclosurevars(reader).nonlocals
    if "options" in captured:  # choice_reader
        return {"enum": list(captured["options"])}
    if "read_target" in captured:  # stages_reader
        target = _reader_schema(captured["read_target"])
        return {
            "type": "array",
            "minItems": 1,
            "items": _strict({"duration": _ref("duration"), "target": target}, ("duration", "target")),
        }
    raise TypeError(f"no schema for the profile field reader {reader!r}: add it to scenario/schema.py")


def _profiles_schema(_: tuple[str, ...]) -> dict[str, Any]:
    from mcpload.profiles.registry import PROFILE_TYPES, scenario_fields

    variants = []
    for name, cls in PROFILE_TYPES.items():
        spec = scenario_fields(cls)
        properties = {"type": {"const": name}} | {key: _reader_schema(r) for key, (r, _) in spec.items()}
        required = ("type", *(key for key, (_, req) in spec.items() if req))
        variants.append(_strict(properties, required, title=name, description=(cls.__doc__ or "").split("\n")[0]))
    return {"description": f"one of: {', '.join(PROFILE_TYPES)}", "oneOf": variants}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    from mcpload.metrics.thresholds import METRICS
    from mcpload.scenario.model import KEYS

    metric = "^\\s*(" + "|".join(METRICS) + ")\\s*(\\{.*\\})?\\s*$"
    properties = {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "seed": _env_or({"type": "integer"}),
        "target": _ref("target"),
        "allow_hosts": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "data": {"type": "object", "additionalProperties": _ref("data_source")},
        "tokens": _strict({"price_per_1k": _env_or({"type": "number", "minimum": 0})}),
        "agents": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
            "additionalProperties": _ref("agent"),
        },
        "profiles": {"anyOf": [_ref("profile"), {"type": "array", "items": _ref("profile"), "minItems": 1}]},
        "thresholds": {
            "type": "object",
            "propertyNames": {"pattern": metric},
            "additionalProperties": {
                "anyOf": [_ref("threshold"), {"type": "array", "items": _ref("threshold"), "minItems": 1}]
            },
        },
        "options": _strict(
            {
                "grace_period": _ref("duration"),
                "canary": {
                    "description": "a cheap call at a fixed rate beside the load: ping, a tool, or {call, every, args}",
                    "anyOf": [
                        {"type": "string"},
                        _strict({"call": {"type": "string"}, "every": _ref("duration"), "args": {"type": "object"}}),
                    ],
                },
                "validate_output": {
                    "description": "share of calls whose structuredContent is checked against the outputSchema",
                    "anyOf": [{"type": "boolean"}, {"type": "number", "minimum": 0, "maximum": 1}],
                },
            }
        ),
        "answers": _strict(
            {
                "sampling": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                "elicitation": {"anyOf": [{"enum": ["accept", "decline", "cancel"]}, {"type": "object"}]},
                "roots": {"type": "array"},
            }
        ),
    }
    assert list(properties) == list(KEYS), "top-level keys and their schema differ"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mcpload scenario",
        "description": "A load-test scenario for mcpload (generated by `mcpload schema`). "
        "Format: docs/scenario-format.md",
        **_strict(properties, ("agents", "profiles")),
        "$defs": _defs(),
    }


def schema_text() -> str:
    """The schema as the committed file holds it (sorted keys would scatter it: file order is kept)."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
