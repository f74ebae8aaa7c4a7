"""mcpload's version: a leaf, so that a module naming the version imports only this (``mcpload``'s
``__init__`` names every public class for type checkers)."""

__version__ = "0.1.0"
