"""The two errors of the scenario package: a bad scenario (load time) and a bad render (run time).

::

    ValueError
     └── ScenarioError        the scenario cannot be loaded; str() is one line: file: path: message
    Exception
     └── TemplateRenderError  an argument template failed while an agent ran (the step fails)
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be loaded.

    ``str()`` is always one line, ``<source>: <path>: <message>``, where ``source`` is the scenario
    file (or ``<python>``) and ``path`` the place in it, such as ``agents.researcher.workflow[2].call``.

    Attributes:
        message: What is wrong, without source or path.
        path: Where in the scenario (empty for problems of the whole file).
        source: The scenario file, ``<python>``, or ``file:line:col`` for YAML syntax errors.
    """

    def __init__(self, message: str, path: str = "", source: str | None = None) -> None:
        # One line, always: the CLI prints str(error) as is and tests compare it exactly.
        self.message = " ".join(str(message).split())
        self.path = path
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.path, self.message) if part)

    def with_source(self, source: str) -> ScenarioError:
        """The same error, attributed to ``source`` (the loader knows the file, the parsers do not)."""
        return ScenarioError(self.message, self.path, source)


class TemplateRenderError(Exception):
    """An argument template that failed to render for one agent (an undefined name, a bad call…).

    The engine counts it as a failed step of that conversation; ``str()`` is ``<path>: <message>``.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = " ".join(str(message).split())
        super().__init__(f"{path}: {self.message}" if path else self.message)
