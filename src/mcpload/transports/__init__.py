"""Transports: move JSON-RPC messages to the target over HTTP, legacy SSE or stdio."""
