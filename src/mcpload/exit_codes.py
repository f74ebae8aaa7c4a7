"""mcpload's exit codes, in one place: the CLI, the watchdog, the recorder and the preflight all point here.

0 success · 1 a diagnose check failed, or a capacity search stopped because mcpload itself was the
bottleneck · 2 bad input (usage, options, scenario, a scenario that does not fit the server) · 3 target
unreachable or not an MCP server · 4 the run finished but an output file could not be written ·
99 a threshold (or a ``compare --assert``) failed · 130 interrupted (results still written).

Plain ints (not an enum): they go to ``sys.exit``, ``os._exit``, subprocess return codes and JSON alike.
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
#: ``diagnose``: a check failed
FAILED: Final = 1
#: ``capacity``: stopped early because mcpload itself was the bottleneck (no trustworthy ceiling)
GENERATOR_BOUND: Final = 1
#: bad input: usage, options, a scenario (or one that does not fit the server)
USAGE: Final = 2
#: the target is unreachable or not an MCP server
UNREACHABLE: Final = 3
#: the run finished, but an output file could not be written (each lost one is named in a line)
OUTPUT_LOST: Final = 4
#: a threshold, or a ``compare --assert``, failed
THRESHOLDS: Final = 99
#: interrupted (Ctrl-C, SIGTERM, a stall the watchdog could not break): what was measured is still written
INTERRUPTED: Final = 130
