"""Each agent's own random generator, small enough for 20,000 agents per process.

``random.Random`` keeps the Mersenne Twister's 624-word state: ~2.5 KB per instance, plus ~0.3 KB of
seeding garbage — about a tenth of an idle agent's memory. ``AgentRandom`` keeps one 64-bit word
(SplitMix64, Steele, Lea & Flood 2014: statistically sound for simulation draws, not for secrets) and
borrows every distribution from ``random.Random`` (``uniform``, ``choice``, ``expovariate``,
``gammavariate``, …), which only ever call ``random()`` and ``getrandbits()``. Draws cost ~0.3 µs
instead of ~0.05 µs; an agent draws a handful per conversation.
"""

from __future__ import annotations

import hashlib
import random as _stdlib_random
from typing import TYPE_CHECKING

_Random = _stdlib_random.Random
if TYPE_CHECKING:
    # For the type checker an AgentRandom is a random.Random: it has every drawing method, taken
    # from random.Random itself below (only getstate/setstate are missing, and nothing calls them).
    _Base = _stdlib_random.Random
else:
    _Base = object
_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TWO_M53 = 2.0**-53


def seed_word(seed: object) -> int:
    """A 64-bit state from any seed (ints, strings): the same on every machine and Python run."""
    if isinstance(seed, int):
        return seed & _MASK
    return int.from_bytes(hashlib.blake2b(str(seed).encode(), digest_size=8).digest(), "little")


class AgentRandom(_Base):
    """A seeded generator with ``random.Random``'s drawing methods (no ``getstate``/``setstate``)."""

    __slots__ = ("_state", "gauss_next")

    def __init__(self, seed: object = 0) -> None:
        self.seed(seed)

    def seed(self, a: object = 0, version: int = 2) -> None:
        """Restart from seed ``a`` (any int or string; ``version`` is random.Random's, unused)."""
        self._state = seed_word(a)
        self.gauss_next = None

    def _next(self) -> int:
        self._state = z = (self._state + _GAMMA) & _MASK
        z = ((z ^ (z >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1), 53 random bits."""
        return (self._next() >> 11) * _TWO_M53

    def getrandbits(self, k: int) -> int:
        """An int with ``k`` random bits."""
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        out, have = 0, 0
        while have < k:
            out |= self._next() << have
            have += 64
        return out & ((1 << k) - 1)

    # every distribution of random.Random, written against random() and getrandbits() only
    # private in CPython and absent from typeshed, yet what randrange, choice, … call for ints
    _randbelow = _Random._randbelow_with_getrandbits  # type: ignore[attr-defined]
    randbytes = _Random.randbytes
    randrange = _Random.randrange
    randint = _Random.randint
    choice = _Random.choice
    shuffle = _Random.shuffle
    sample = _Random.sample
    choices = _Random.choices
    uniform = _Random.uniform
    triangular = _Random.triangular
    normalvariate = _Random.normalvariate
    gauss = _Random.gauss
    lognormvariate = _Random.lognormvariate
    expovariate = _Random.expovariate
    vonmisesvariate = _Random.vonmisesvariate
    gammavariate = _Random.gammavariate
    betavariate = _Random.betavariate
    paretovariate = _Random.paretovariate
    weibullvariate = _Random.weibullvariate
