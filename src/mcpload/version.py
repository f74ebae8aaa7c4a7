"""mcpload's version, in a core module every layer may import (the package root imports its public API)."""

__version__ = "0.1.0"
