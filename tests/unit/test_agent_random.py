"""The agents' small generator: deterministic per seed on every machine, and a full drop-in for the
``random.Random`` methods that workflows, distributions and Python agents use."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from mcpload.engine.rng import AgentRandom


def test_a_seed_gives_one_sequence_everywhere():
    a, b = AgentRandom("7:agent:3"), AgentRandom("7:agent:3")
    assert [a.random() for _ in range(50)] == [b.random() for _ in range(50)]
    assert AgentRandom("7:agent:4").random() != AgentRandom("7:agent:3").random()
    # str seeds hash with blake2b, not Python's randomized hash(): another process draws the same
    code = "from mcpload.engine.rng import AgentRandom; print(repr(AgentRandom('7:agent:3').random()))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert float(other) == AgentRandom("7:agent:3").random()


def test_draws_are_uniform_and_in_range():
    r = AgentRandom(1)
    xs = [r.random() for _ in range(50_000)]
    assert min(xs) >= 0.0 and max(xs) < 1.0
    assert statistics.mean(xs) == pytest.approx(0.5, abs=0.01)
    assert statistics.pstdev(xs) == pytest.approx(12**-0.5, abs=0.01)
    counts = [0] * 6
    for _ in range(60_000):
        counts[r.randint(1, 6) - 1] += 1
    assert all(abs(c - 10_000) < 600 for c in counts)
    for k in (1, 7, 64, 65, 128, 200):
        assert all(r.getrandbits(k) < 2**k for _ in range(200))
    assert r.getrandbits(0) == 0
    with pytest.raises(ValueError):
        r.getrandbits(-1)


def test_every_distribution_works():
    r = AgentRandom("d")
    assert r.choice("abc") in "abc"
    assert sorted(r.sample(range(10), 10)) == list(range(10))
    seq = list(range(20))
    r.shuffle(seq)
    assert sorted(seq) == list(range(20))
    assert len(r.choices([1, 2, 3], weights=[1, 0, 0], k=5)) == 5 and set(r.choices([1, 2, 3], [1, 0, 0], k=5)) == {1}
    assert 2 <= r.uniform(2, 3) <= 3 and 0 <= r.randrange(5) < 5 and len(r.randbytes(9)) == 9
    assert statistics.mean(r.expovariate(2.0) for _ in range(20_000)) == pytest.approx(0.5, rel=0.05)
    assert statistics.mean(r.gammavariate(0.25, 4.0) for _ in range(20_000)) == pytest.approx(1.0, rel=0.1)
    for draw in (r.gauss, r.normalvariate, r.lognormvariate):
        assert isinstance(draw(0.0, 1.0), float)
    assert isinstance(r.triangular(0, 1, 0.5) + r.betavariate(2, 3) + r.paretovariate(3), float)
    assert isinstance(r.weibullvariate(1, 2) + r.vonmisesvariate(0, 1), float)
