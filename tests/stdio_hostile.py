"""A hostile stdio MCP server: ``python tests/stdio_hostile.py SLOT VARIANT``.

``SLOT`` ``init``/``list``/``call`` takes its variant from ``tests/hostile.py``; ``stream`` variants
attack the line reader. The ``call`` and ``stream`` slots are hostile for the first ``tools/call``
only: later calls are answered well, so a test sees the reader survive.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from tests import hostile

BIG = 2 << 20  # the tests cap lines at 64 KiB


def stream(variant: str, rid: int) -> bytes:
    ok = hostile.OK_CALL(rid)
    if variant == "oversize-id-first":
        return ok[:-1] + b',"pad":"' + b"p" * BIG + b'"}\n'
    if variant == "oversize-id-last":
        return b'{"result":{"content":[],"pad":"' + b"p" * BIG + b'"},"id":' + orjson.dumps(rid) + b"}\n"
    if variant == "oversize-no-id":
        return b"x" * BIG + b"\n"
    if variant == "oversize-no-newline-then-ok":  # an over-long line, then the response on the next line
        return b"y" * BIG + b"\n" + ok + b"\n"
    if variant == "stray-log":  # a log line on stdout before the response: the call still succeeds
        return b"INFO server is starting up\n\n" + ok + b"\n"
    if variant == "invalid-utf8":
        return ok.replace(b'"ok"', b'"\xc3\x28"') + b"\n"
    if variant == "crlf":
        return ok + b"\r\n"
    if variant == "batch":  # the response inside a JSON-RPC batch, with a stray entry
        return b"[" + ok + b',"x"]\n'
    raise ValueError(variant)


def main() -> None:
    slot, variant = sys.argv[1], sys.argv[2]
    calls = 0
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        msg = orjson.loads(line)
        if msg.get("method") == "tools/call":
            calls += 1
        rid = msg.get("id")
        if rid is None:
            continue
        if slot == "stream" and msg.get("method") == "tools/call" and calls == 1:
            out.write(stream(variant, rid))
        elif slot == "call" and calls > 1:
            out.write(hostile.answer("", "", msg) + b"\n")
        else:
            out.write(hostile.answer(slot, variant, msg) + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
