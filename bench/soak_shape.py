"""The soak's scenario: two agent types whose conversations save values, render templates, run calls in
parallel, think, and open and close sessions all along. One definition for ``bench/soak.py`` and for
``tests/integration/test_no_cyclic_garbage.py``, which runs the same shape for a few seconds.
"""

from __future__ import annotations

from typing import Any


def soak_scenario(
    url: str,
    agents: int,
    duration: str,
    idle: str,
    conversations: int,
    think: str = "200ms..600ms",
    grace_period: str = "10s",
) -> dict[str, Any]:
    """The scenario document (``Scenario.from_dict`` or YAML) of ``agents`` constant agents for ``duration``."""
    common = {"idle": idle, "conversations_per_session": conversations}
    return {
        "name": "soak",
        "seed": 1,
        "target": {"url": url, "timeout": "10s"},
        "agents": {
            "researcher": {
                "weight": 2,
                **common,
                "workflow": [
                    {
                        "call": "search_docs",
                        "args": {"query": "{{ random_choice(['retries', 'latency', 'sessions']) }}", "limit": 3},
                        "save": {
                            "first": "structuredContent.results[0].id",
                            "second": "structuredContent.results[1].id",
                        },
                    },
                    {"think": think},
                    {
                        "parallel": [
                            {"call": "get_doc", "args": {"doc_id": "{{ saved.first }}"}},
                            {"call": "get_doc", "args": {"doc_id": "{{ saved.second }}"}},
                        ]
                    },
                ],
            },
            "notifier": {
                "weight": 1,
                **common,
                "workflow": [
                    {
                        "call": "send_message",
                        "args": {"to": "oncall-{{ random_int(1, 5) }}", "text": "Incident {{ uuid() }}"},
                        "save": {"message_id": "structuredContent.message_id"},
                    },
                    {"think": think},
                    {"call": "get_delivery_report", "args": {"message_id": "{{ saved.message_id }}"}},
                ],
            },
        },
        "profiles": {"type": "constant-agents", "agents": agents, "duration": duration},
        "options": {"grace_period": grace_period},
    }
