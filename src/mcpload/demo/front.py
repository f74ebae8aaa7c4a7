"""A round-robin TCP front for several demo server replicas, without session affinity: each new
connection goes to the next replica. Clients that share a pool of connections between sessions (a
gateway; mcpload's ``connections: shared``) then send requests of one session to replicas that never
saw it, the failure the ``session-affinity`` finding reads."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence

CHUNK = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


async def serve_front(host: str, port: int, backends: Sequence[tuple[str, int]]) -> None:
    """Accept on ``host:port`` and splice each connection to the next backend, until cancelled."""
    turn = itertools.cycle(backends)

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        backend = next(turn)
        try:
            server_reader, server_writer = await asyncio.open_connection(*backend)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    server = await asyncio.start_server(handle, host, port, reuse_address=True)
    async with server:
        await server.serve_forever()
