"""Client overhead: CPU microseconds the load generator spends per MCP ``tools/call``.

The mcpload client is compared with a ~60-line aiohttp + orjson probe (the reference peer) against
``bench/stub_server.py``, a fast stub MCP server run as its own process (one per response mode),
so that the generator's CPU is measured apart from the server's. For each generator and mode, a
fresh worker process opens ``--concurrency`` sessions, warms up, then runs ``--calls`` echo calls
over them; the worker's process CPU time (user + sys) over the call loop only, divided by the
completed calls, is the figure. The median of ``--repeat`` runs is reported.

    python bench/client_overhead.py                   # print the table
    python bench/client_overhead.py --write-docs      # … and rewrite its section of docs/benchmarks.md
    python bench/client_overhead.py --worker mcpload --url URL --mode json --profile out.prof

Needs aiohttp for the probe (``pip install -e '.[bench]'``); without it only mcpload is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import orjson
from docs_section import replace_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "benchmarks.md"
GENERATORS = ("mcpload", "aiohttp")
MODES = ("json", "sse")
SECTION_START = "<!-- bench:client-overhead:start -->"
SECTION_END = "<!-- bench:client-overhead:end -->"
ARGS = {"message": "hi"}


# --------------------------------------------------------------------------- aiohttp + orjson probe
class Probe:
    """A minimal MCP Streamable HTTP client on aiohttp + orjson: the reference peer (handshake era)."""

    def __init__(self, http, url: str) -> None:
        self.http = http  # an aiohttp.ClientSession (keep-alive connector), shared by the probes
        self.url = url
        self.headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        self.next_id = 0

    async def _post(self, payload: dict):
        async with self.http.post(self.url, data=orjson.dumps(payload), headers=self.headers) as resp:
            body = await resp.read()
            if resp.status == 202:
                return resp, None
            if resp.status >= 300:
                raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
            if resp.content_type == "text/event-stream":  # the whole stream is read: one response
                for line in body.splitlines():
                    if line.startswith(b"data:"):
                        msg = orjson.loads(line[5:])
                        if "method" not in msg:
                            return resp, msg
                raise RuntimeError("event stream ended without a response")
            return resp, orjson.loads(body)

    async def request(self, method: str, params: dict | None = None):
        self.next_id += 1
        payload = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            payload["params"] = params
        resp, msg = await self._post(payload)
        if msg is None or msg.get("id") != self.next_id:
            raise RuntimeError(f"bad response to {method}: {msg!r}")
        return resp, msg

    async def open(self) -> None:
        client = {"name": "aiohttp-probe", "version": "1"}
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": client}
        resp, msg = await self.request("initialize", init)
        version = msg["result"]["protocolVersion"]
        sid = resp.headers.get("Mcp-Session-Id")
        self.headers = {**self.headers, "MCP-Protocol-Version": version, **({"Mcp-Session-Id": sid} if sid else {})}
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call_tool(self, name: str, arguments: dict) -> bool:
        _, msg = await self.request("tools/call", {"name": name, "arguments": arguments})
        result = msg.get("result")
        return isinstance(result, dict) and not result.get("isError")

    async def close(self) -> None:
        async with self.http.delete(self.url, headers=self.headers) as resp:
            await resp.read()


# --------------------------------------------------------------------------- worker (one measurement)
def _proc_cpu(pid: int | None) -> float | None:
    """user + sys CPU seconds of another process (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


async def _open_mcpload(url: str, n: int):
    from mcpload import Target, connect

    sessions = []
    for _ in range(n):
        session, out = await connect(Target(url=url))
        if not out.ok:
            raise SystemExit(f"mcpload: cannot open a session: {out.describe()}")
        sessions.append(session)
    probe = await sessions[0].call_tool("echo", ARGS)
    if probe.kind != "ok" or probe.result["content"][0]["text"] != ARGS["message"]:
        raise SystemExit(f"mcpload: echo check failed: {probe!r} {probe.result!r}")

    async def call(session) -> bool:
        return (await session.call_tool("echo", ARGS)).kind == "ok"

    async def close() -> None:
        for session in sessions:
            await session.close()

    return sessions, call, close


async def _open_aiohttp(url: str, n: int):
    import aiohttp

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n, keepalive_timeout=60))
    sessions = [Probe(http, url) for _ in range(n)]
    for probe in sessions:
        await probe.open()

    async def call(probe: Probe) -> bool:
        return await probe.call_tool("echo", ARGS)

    async def close() -> None:
        for probe in sessions:
            await probe.close()
        await http.close()

    return sessions, call, close


async def _drive(sessions, call, calls: int) -> tuple[int, int]:
    """``calls`` calls shared by one loop per session; returns (ok, failed)."""
    left = calls
    ok = failed = 0

    async def user(session) -> None:
        nonlocal left, ok, failed
        while left > 0:
            left -= 1
            if await call(session):
                ok += 1
            else:
                failed += 1

    await asyncio.gather(*(user(s) for s in sessions))
    return ok, failed


async def _measure(args: argparse.Namespace) -> dict:
    opener = _open_mcpload if args.worker == "mcpload" else _open_aiohttp
    sessions, call, close = await opener(args.url, args.concurrency)
    await _drive(sessions, call, max(args.concurrency * 10, args.calls // 20))  # warm-up
    gc.collect()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    srv0 = _proc_cpu(args.server_pid)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ok, failed = await _drive(sessions, call, args.calls)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    srv1 = _proc_cpu(args.server_pid)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    await close()
    done = max(ok, 1)
    return {
        "generator": args.worker,
        "mode": args.mode,
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "calls": args.calls,
        "ok": ok,
        "failed": failed,
        "cpu_s": cpu,
        "wall_s": wall,
        "us_per_call": cpu / done * 1e6,
        "calls_per_s": ok / wall if wall > 0 else 0.0,
        "server_us_per_call": (srv1 - srv0) / done * 1e6 if srv0 is not None and srv1 is not None else None,
    }


def run_worker(args: argparse.Namespace) -> None:
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.no_uvloop:
        result = asyncio.run(_measure(args))
    else:
        from mcpload._loop import run

        result = run(_measure(args))  # uvloop where installed, for both generators
    print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------- orchestration
def _cpu_plan() -> tuple[int | None, int | None]:
    """(server CPU, worker CPU): pinned apart when the machine has two CPUs or more."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[-1], cpus[0]) if len(cpus) >= 2 else (None, None)


def start_server(mode: str, chunked: bool, cpu: int | None) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, str(HERE / "stub_server.py"), "--mode", mode, "--port", "0"]
    if chunked:
        cmd.append("--chunked")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"stub server ({mode}) did not start: {line!r}")
    return proc, int(line.split()[1])


def run_one(args: argparse.Namespace, generator: str, mode: str, port: int, pid: int, cpu: int | None) -> dict:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--worker", generator, "--mode", mode,
        "--url", f"http://127.0.0.1:{port}/mcp", "--server-pid", str(pid),
        "--calls", str(args.calls), "--concurrency", str(args.concurrency),
    ]  # fmt: skip
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    if args.no_uvloop:
        cmd.append("--no-uvloop")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"worker {generator}/{mode} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(results: list[dict]) -> list[dict]:
    rows = []
    for mode in MODES:
        for generator in GENERATORS:
            runs = [r for r in results if r["generator"] == generator and r["mode"] == mode]
            if not runs:
                continue
            srv = [r["server_us_per_call"] for r in runs if r["server_us_per_call"] is not None]
            rows.append(
                {
                    "generator": generator,
                    "mode": mode,
                    "us": statistics.median(r["us_per_call"] for r in runs),
                    "us_min": min(r["us_per_call"] for r in runs),
                    "us_max": max(r["us_per_call"] for r in runs),
                    "rate": statistics.median(r["calls_per_s"] for r in runs),
                    "server_us": statistics.median(srv) if srv else None,
                    "failed": sum(r["failed"] for r in runs),
                    "runs": len(runs),
                }
            )
    peers = {row["mode"]: row["us"] for row in rows if row["generator"] == "aiohttp"}
    for row in rows:
        row["ratio"] = row["us"] / peers[row["mode"]] if row["mode"] in peers else None
    return rows


LABELS = {"mcpload": "mcpload client", "aiohttp": "aiohttp + orjson probe"}


def table(rows: list[dict]) -> str:
    lines = [
        "| generator | mode | CPU µs/call (median) | min – max | calls/s (median) | server CPU µs/call | "
        "mcpload ÷ probe |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = "" if r["generator"] != "mcpload" or r["ratio"] is None else f"**{r['ratio']:.2f}×**"
        server = "n/a" if r["server_us"] is None else f"{r['server_us']:.0f}"
        failed = f" ({r['failed']} failed)" if r["failed"] else ""
        lines.append(
            f"| {LABELS[r['generator']]}{failed} | {r['mode']} | {r['us']:.0f} | {r['us_min']:.0f} – {r['us_max']:.0f}"
            f" | {r['rate']:,.0f} | {server} | {ratio} |"
        )
    return "\n".join(lines)


def machine(load: tuple[float, float, float] | None = None) -> list[tuple[str, str]]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for pkg in ("mcpload", "httptools", "orjson", "uvloop", "aiohttp"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    return [
        ("CPU", f"{model}, {os.cpu_count()} logical CPUs ({usable} usable)"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Packages", ", ".join(versions)),
        *([("Load average at start", " / ".join(f"{x:.2f}" for x in load))] if load else []),
    ]


def section(args: argparse.Namespace, rows: list[dict], command: str, loop: str, pinned: bool, load=None) -> str:
    facts = "\n".join(f"- {k}: {v}" for k, v in machine(load))
    ratios = ", ".join(f"{r['mode']} {r['ratio']:.2f}×" for r in rows if r["generator"] == "mcpload" and r["ratio"])
    sse = "chunked" if args.chunked else "Content-Length"
    runs = f"{args.repeat} run{'s' if args.repeat != 1 else ''}"
    pin = "the worker and the stub server pinned to different CPUs" if pinned else "no CPU pinning"
    return f"""{SECTION_START}
## Client overhead: CPU per `tools/call`

What one call costs the *load generator*, not the server: the worker process's CPU time (user +
sys) over the measured call loop, divided by the completed calls. The mcpload client
(`connect(Target(url))` then `Session.call_tool`) is compared with a ~60-line aiohttp + orjson
probe (`Probe` in `bench/client_overhead.py`), the reference peer. Lower is better; the last column
is mcpload ÷ probe{f" ({ratios})" if ratios else ""}.

Setup:

- Server: `bench/stub_server.py` (asyncio + httptools, one process per response mode) answering
  `echo` in JSON (`application/json`) or as one SSE event (`text/event-stream`, {sse}).
- Generators: each generator × mode × repeat in a fresh worker process, {loop} event loop, {pin}.
- Load: {args.concurrency} sessions opened and warmed up, then {args.calls:,} `tools/call echo` calls
  shared by them (one call in flight per session); only that loop is measured. Medians of {runs}.
- calls/s hold for this setup only (server and generator share the machine). All figures rise on a
  busy machine (fewer responses per event-loop wake-up) and on the plain asyncio loop
  (`--no-uvloop`): compare ratios, not absolute figures, across machines.

Machine:

{facts}

Command:

```sh
{command}
```

{table(rows)}

Reproduce with `make bench` (prints the table) or the command above (rewrites this section);
profile one worker with `--worker mcpload --url URL --mode json --profile out.prof`.
{SECTION_END}
"""


def write_docs(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path``, keeping any other sections."""
    replace_section(path, SECTION_START, SECTION_END, text)


def run_bench(args: argparse.Namespace) -> None:
    generators = [g for g in args.generators.split(",") if g]
    modes = [m for m in args.modes.split(",") if m]
    if "aiohttp" in generators:
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            print("aiohttp not installed (pip install -e '.[bench]'): measuring mcpload only", file=sys.stderr)
            generators.remove("aiohttp")
    server_cpu, worker_cpu = (None, None) if args.no_pin else _cpu_plan()
    servers = {mode: start_server(mode, args.chunked, server_cpu) for mode in modes}
    results: list[dict] = []
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    try:
        for rep in range(args.repeat):
            for mode in modes:  # interleaved, so that drift hits every generator alike
                proc, port = servers[mode]
                for generator in generators:
                    r = run_one(args, generator, mode, port, proc.pid, worker_cpu)
                    results.append(r)
                    print(
                        f"run {rep + 1}/{args.repeat} {generator:8} {mode:4} {r['us_per_call']:7.1f} µs/call "
                        f"{r['calls_per_s']:8.0f} calls/s  ok {r['ok']} failed {r['failed']}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    rows = summarise(results)
    print(table(rows))
    print(f"\n({len(results)} runs in {time.perf_counter() - started:.0f} s)")
    if args.write_docs:
        command = shlex.join(["python", "bench/client_overhead.py", *sys.argv[1:]])
        loop = results[0]["loop"] if results else "asyncio"
        write_docs(args.docs, section(args, rows, command, loop, worker_cpu is not None, load))
        print(f"wrote {args.docs}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20_000, help="measured calls per run (default 20000)")
    ap.add_argument("--concurrency", type=int, default=20, help="concurrent sessions (default 20)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per generator and mode; the median is reported")
    ap.add_argument("--generators", default=",".join(GENERATORS), help="comma list of mcpload, aiohttp")
    ap.add_argument("--modes", default=",".join(MODES), help="comma list of json, sse")
    ap.add_argument("--chunked", action="store_true", help="SSE answers with chunked transfer encoding")
    ap.add_argument("--no-uvloop", action="store_true", help="plain asyncio loop for the generators")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the worker and the server to separate CPUs")
    ap.add_argument("--write-docs", action="store_true", help=f"rewrite the client-overhead section of {DOCS}")
    ap.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    # worker mode (one measurement, JSON on stdout)
    ap.add_argument("--worker", choices=GENERATORS, help="run one measurement in this process")
    ap.add_argument("--url", help="worker: the stub server's MCP endpoint")
    ap.add_argument("--mode", choices=MODES, default="json", help="worker: the server's response mode (a label)")
    ap.add_argument("--server-pid", type=int, help="worker: the server's pid, to report its CPU per call")
    ap.add_argument("--cpu", type=int, help="worker: pin this process to one CPU")
    ap.add_argument("--profile", help="worker: write cProfile stats of the measured loop to this file")
    args = ap.parse_args(argv)
    if args.worker:
        if not args.url:
            ap.error("--worker needs --url")
        run_worker(args)
    else:
        run_bench(args)


if __name__ == "__main__":
    main()
