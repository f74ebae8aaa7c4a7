"""``serve-demo --flaw`` parsing: each flaw by name, its value checked, bad ones named in the error."""

from __future__ import annotations

import pytest

from mcpload.demo.flaws import FLAW_NAMES, Flaws, parse_flaws


def test_each_flaw_parses_and_needs_the_app_wrapped_but_blocking_tool():
    assert parse_flaws([]) == Flaws() and not Flaws().needs_wrapping
    specs = {
        "leak-sessions=1MiB": Flaws(leak_session_bytes=1 << 20),
        "blocking-tool": Flaws(blocking_tool="search_docs"),
        "unknown-session-400": Flaws(unknown_session_status=400),
        "timeout-at=500ms": Flaws(timeout_at_s=0.5),
        "max-connections 7": Flaws(max_connections=7),
        "ignore-delete": Flaws(ignore_delete=True),
        "no-origin-check": Flaws(no_origin_check=True),
    }
    assert {spec.partition("=")[0].partition(" ")[0] for spec in specs} == set(FLAW_NAMES)  # every flaw named
    for spec, flaws in specs.items():
        assert parse_flaws([spec]) == flaws
        assert flaws.needs_wrapping == (flaws.blocking_tool is None)
    both = parse_flaws(["ignore-delete", "no-origin-check"])
    assert both.ignore_delete and both.no_origin_check


@pytest.mark.parametrize(
    "spec", ["ignore-delete=yes", "no-origin-check=1", "unknown-session-400=x", "leak-sessions=0", "nope"]
)
def test_a_bad_flaw_is_named(spec):
    with pytest.raises(ValueError, match="--flaw"):
        parse_flaws([spec])
