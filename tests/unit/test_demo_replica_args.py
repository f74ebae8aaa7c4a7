"""``serve-demo --replicas``: every replica gets the front's own behaviour options, and only those given."""

from mcpload.demo.launch import replica_args

BASE = dict(latency="20", failure_rate="0", latency_sigma=0.5, seed=None, max_concurrency=None, queue_timeout=None,
            reject_above=None, stateless=False, json_response=False, flaws=[])  # fmt: skip


def test_defaults_pass_only_the_behaviour():
    assert replica_args(**BASE) == ["--latency", "20", "--failure-rate", "0", "--latency-sigma", "0.5"]


def test_every_given_option_reaches_the_replicas():
    args = replica_args(
        **{
            **BASE,
            "seed": 7,
            "max_concurrency": 4,
            "queue_timeout": 1.5,
            "reject_above": 9,
            "stateless": True,
            "json_response": True,
            "flaws": ["ignore-delete", "timeout-at=2s"],
        }
    )
    assert args[6:] == [
        "--seed",
        "7",
        "--max-concurrency",
        "4",
        "--queue-timeout",
        "1.5",
        "--reject-above",
        "9",
        "--stateless",
        "--json-response",
        "--flaw",
        "ignore-delete",
        "--flaw",
        "timeout-at=2s",
    ]
