"""MCP protocol revisions and the two eras they belong to."""

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
KNOWN_VERSIONS = HANDSHAKE_VERSIONS + MODERN_VERSIONS
LATEST_HANDSHAKE = HANDSHAKE_VERSIONS[-1]
LATEST_MODERN = MODERN_VERSIONS[-1]

HANDSHAKE = "handshake"  # initialize → session (≤ 2025-11-25)
MODERN = "modern"  # stateless per-request envelope (2026-07-28)

META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"

UNSUPPORTED_PROTOCOL_VERSION = -32022


def era_of(version: str) -> str:
    """The era a version string belongs to (unknown versions are treated as handshake-era)."""
    return MODERN if version in MODERN_VERSIONS else HANDSHAKE


def check_protocol(value: str) -> str:
    """Validate a ``protocol`` option: ``auto`` or a known version; raises ValueError otherwise."""
    if value == "auto" or value in KNOWN_VERSIONS:
        return value
    raise ValueError(f"unknown protocol {value!r}: use auto or one of {', '.join(KNOWN_VERSIONS)}")
