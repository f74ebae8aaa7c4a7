"""The outcome kinds: one enum, its values the names in results, metrics and thresholds."""

import orjson

from mcpload import outcome
from mcpload.outcome import KINDS, OK, Outcome, OutcomeKind


def test_kinds_are_the_enum_values_in_report_order():
    assert [kind.value for kind in OutcomeKind] == list(KINDS)
    assert KINDS[0] == OK == "ok"
    assert len(set(KINDS)) == len(KINDS)


def test_module_constants_are_exact_strings_that_orjson_takes_as_keys():
    # The recorder keys dicts by kind and those dicts reach the intervals JSON (orjson: str keys only).
    for kind in OutcomeKind:
        constant = getattr(outcome, kind.name)
        assert type(constant) is str and constant == kind
    counts = {Outcome(kind, "tools/call", "x").kind: 1 for kind in KINDS}
    assert orjson.loads(orjson.dumps(counts)) == dict.fromkeys(KINDS, 1)
