"""mcpload: a load tester for MCP servers that emulates bursty LLM agents."""

__version__ = "0.1.0"
