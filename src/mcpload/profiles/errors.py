"""``ProfileError``: every problem found in a profile, each with the path where it was found."""

from __future__ import annotations

from collections.abc import Iterable

Problem = tuple[str, str]
"""One problem: ``(path, message)``, e.g. ``("profiles[0].stages[1].target", "must not be negative")``."""


def join_path(base: str, sub: str) -> str:
    """Append ``sub`` to ``base``: ``("profiles[0]", "stages[1]")`` → ``"profiles[0].stages[1]"``."""
    if not base:
        return sub
    if not sub:
        return base
    return f"{base}{sub}" if sub.startswith("[") else f"{base}.{sub}"


class ProfileError(ValueError):
    """A profile that cannot run, with every problem found at once (as k6's ``Validate()`` returns them).

    ``str()`` is one line: ``path: message`` for each problem, joined by ``"; "``.

    Attributes:
        problems: the ``(path, message)`` pairs, in the order they were found.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in self.problems))

    def under(self, path: str) -> ProfileError:
        """The same problems with ``path`` put in front of each of their paths."""
        return ProfileError((join_path(path, sub), message) for sub, message in self.problems)
