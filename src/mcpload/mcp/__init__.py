"""The MCP layer: JSON-RPC framing, outcomes, protocol eras and the session state machine."""
