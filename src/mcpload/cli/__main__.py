"""``python -m mcpload.cli``: the console script, for subprocesses that must use this interpreter."""

from mcpload.cli import main

main()
