"""Latency the recording proxy adds: ``tools/call`` straight to a server vs through ``mcpload record``.

``bench/stub_server.py --mode sse`` answers at once (one SSE event, so the proxy's streaming path is
what is measured); ``mcpload record --upstream <stub>`` runs as its own process in front of it. One
client (this script: raw asyncio, one keep-alive connection per client, ``--clients`` of them,
calls back to back) alternates batches of calls straight to the stub and through the proxy, so
both see the same machine load. Added latency is the difference of the percentiles. A short run:
the machine it is written for is shared.

    python bench/proxy_latency.py                      # 2 × 3000 calls, 1 client
    python bench/proxy_latency.py --calls 5000 --clients 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}


def _request(port: int, body: bytes, sid: str | None) -> bytes:
    session = f"mcp-session-id: {sid}\r\n" if sid else ""
    head = (f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            "accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n"
            f"{session}content-length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return head, body
            body += chunk[:-2]
    length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
    return head, await reader.readexactly(length)


async def _client(port: int, calls: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    init = orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}}})  # fmt: skip
    writer.write(_request(port, init, None))
    head, _ = await _response(reader)
    sid = next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
               if line.lower().startswith(b"mcp-session-id"))  # fmt: skip
    out = []
    for i in range(calls):
        body = orjson.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                             "params": {"name": "echo", "arguments": {"message": "hello"}}})  # fmt: skip
        t0 = time.perf_counter()
        writer.write(_request(port, body, sid))
        await _response(reader)
        out.append(time.perf_counter() - t0)
    writer.close()
    return out


async def _batch(port: int, calls: int, clients: int) -> list[float]:
    results = await asyncio.gather(*(_client(port, calls // clients) for _ in range(clients)))
    return [x for r in results for x in r]


def _start(cmd: list[str], ready: bytes | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV)
    line = proc.stdout.readline() if ready else b""
    return proc, line.decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3000, help="calls each way (straight and through the proxy)")
    ap.add_argument("--clients", type=int, default=1, help="concurrent clients, one connection each")
    ap.add_argument("--rounds", type=int, default=6, help="alternating batches each way")
    args = ap.parse_args()
    stub, line = _start([sys.executable, str(ROOT / "bench" / "stub_server.py"), "--mode", "sse"], b"READY")
    stub_port = int(line.split()[1])
    proxy_port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.jsonl"
        proxy = subprocess.Popen([sys.executable, "-m", "mcpload.cli", "record", "--upstream",
                                  f"http://127.0.0.1:{stub_port}/mcp", "--listen", f"127.0.0.1:{proxy_port}",
                                  "-o", str(trace)], env=ENV, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            for _ in range(300):
                try:
                    asyncio.run(_batch(proxy_port, 10, 1))
                    break
                except OSError:
                    if proxy.poll() is not None:
                        sys.exit(f"the recording proxy exited with code {proxy.returncode}")
                    time.sleep(0.1)
            straight, through = [], []
            per = args.calls // args.rounds
            for _ in range(args.rounds):
                straight += asyncio.run(_batch(stub_port, per, args.clients))
                through += asyncio.run(_batch(proxy_port, per, args.clients))
        finally:
            proxy.terminate()
            proxy.wait(10)
            stub.terminate()
            stub.wait(10)
        lines = sum(1 for _ in trace.open())
    print(f"calls each way: {len(straight)}, clients: {args.clients}, trace lines written: {lines}")
    print("                 p50 µs    p99 µs   mean µs")
    for name, values in (("straight", straight), ("via proxy", through)):
        print(f"  {name:<12} {_pct(values, 50):8.0f}  {_pct(values, 99):8.0f}  {statistics.mean(values) * 1e6:8.0f}")
    added = [_pct(through, q) - _pct(straight, q) for q in (50, 99)]
    mean = (statistics.mean(through) - statistics.mean(straight)) * 1e6
    print(f"  {'added':<12} {added[0]:8.0f}  {added[1]:8.0f}  {mean:8.0f}")


if __name__ == "__main__":
    main()
