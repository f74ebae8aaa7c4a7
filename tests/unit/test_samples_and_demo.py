import pytest

import mcpload
from mcpload.demo.behaviour import Behaviour, SpecError
from mcpload.mcp import eras
from mcpload.mcp.samples import sample_arguments


def test_sample_arguments_follow_schema():
    tool = {
        "inputSchema": {
            "type": "object",
            "properties": {
                "q": {"type": "string", "minLength": 6},
                "n": {"type": "integer", "minimum": 3},
                "mode": {"enum": ["fast", "slow"]},
                "d": {"type": "number", "default": 2.5},
                "flag": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "opt": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
                "nested": {
                    "type": "object",
                    "properties": {"x": {"type": "string", "format": "uri"}},
                    "required": ["x"],
                },
                "ignored": {"type": "string"},
            },
            "required": ["q", "n", "mode", "d", "flag", "tags", "opt", "nested"],
        }
    }
    assert sample_arguments(tool) == {
        "q": "testte",
        "n": 3,
        "mode": "fast",
        "d": 2.5,
        "flag": False,
        "tags": ["test"],
        "opt": 1,
        "nested": {"x": "https://example.com/"},
    }


def test_sample_arguments_without_schema():
    assert sample_arguments({}) == {}
    assert sample_arguments({"inputSchema": {"type": "object"}}) == {}


def test_behaviour_specs():
    b = Behaviour.from_specs("30,search_docs=120", "send_message=1", seed=1)
    assert b.latency_ms == 30 and b.tool_latency_ms == {"search_docs": 120}
    assert b.fails("send_message") and not b.fails("get_doc")
    delays = [b.delay_s("search_docs") for _ in range(2000)]
    assert 0.09 < sorted(delays)[1000] < 0.15  # median near 120 ms
    assert Behaviour.from_specs("0").delay_s("x") == 0


@pytest.mark.parametrize(("lat", "fail"), [("abc", ""), ("", "x=2"), ("-5", "")])
def test_behaviour_bad_specs(lat, fail):
    with pytest.raises(SpecError):
        Behaviour.from_specs(lat, fail)


def test_public_api_is_explicit():
    for name in mcpload.__all__:
        assert hasattr(mcpload, name), name
    assert set(mcpload.KINDS) >= {
        "ok",
        "tool_error",
        "rpc_error",
        "http_error",
        "timeout",
        "transport",
        "protocol",
        "session_expired",
    }


def test_protocol_check():
    assert eras.check_protocol("auto") == "auto"
    with pytest.raises(ValueError):
        eras.check_protocol("2020-01-01")
    assert eras.era_of("2026-07-28") == "modern" and eras.era_of("2025-06-18") == "handshake"
