"""The demo MCP server (built on the official SDK) that `mcpload demo` and the tests run against."""
