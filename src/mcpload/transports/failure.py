"""``CallFailure``: a request that did not produce a JSON-RPC response, with its outcome kind.

A leaf of the transports package: the transport contract (``base``) and the HTTP/1.1 connection
(``http1``, whose ``Pool`` the contract names) both use it, and neither imports the other for it.
"""

from __future__ import annotations


class CallFailure(Exception):
    """A request that did not produce a JSON-RPC response. ``kind`` is an outcome kind."""

    def __init__(
        self,
        kind: str,
        message: str,
        http_status: int | None = None,
        error_code: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.body = body
        self.retry_after: float | None = None  # seconds from an HTTP Retry-After header
        self.bytes_sent = 0
        self.bytes_received = 0
