"""Memory per agent: mcpload's engine holding N concurrent agent sessions with idle gaps.

Each agent holds its own MCP session over its own keep-alive connection, runs a one-call
conversation (``tools/call echo``), then idles 5–10 s, again and again. The agents ramp up over
``--ramp`` seconds and are held for ``--hold`` seconds against ``bench/stub_server.py`` (JSON mode).
The generator runs in ``--processes`` worker processes (default: one per 8,000 agents, because of
the 20,000 open-files limit per process), each with its own stub server on its own loopback
address (127.0.0.1, 127.0.0.2, …; ~28,000 ephemeral ports per destination address). The workers'
RSS (psutil, summed over the workers) is sampled twice a second.

Reported: peak RSS (all worker processes), the RSS of the same processes just before their agents
start (interpreter + mcpload imported), bytes per agent = (peak − that baseline) ÷ N, calls/s and
the success rate (from the engine's results), sessions opened and failed.

    python bench/agents_memory.py --agents 1000 5000          # print the table
    python bench/agents_memory.py --agents 5000 --write-docs  # ... and rewrite its docs section
    python bench/agents_memory.py --agents 5000 --tracemalloc 20   # top allocation sites at the hold
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from docs_section import replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:agents-memory:start -->"
SECTION_END = "<!-- bench:agents-memory:end -->"
PER_PROCESS = 10000


def scenario_dict(url: str, agents: int, ramp: float, hold: float) -> dict:
    return {
        "name": "agents-memory",
        "seed": 1,
        "target": {"url": url, "transport": "http", "protocol": "2025-11-25", "timeout": "30s"},
        "agents": {
            "idler": {"idle": "5s..10s", "workflow": [{"call": "echo", "args": {"message": "hi"}}]},
        },
        "profiles": {
            "type": "ramping-agents",
            "stages": [{"duration": f"{ramp}s", "target": agents}, {"duration": f"{hold}s", "target": agents}],
        },
        "options": {"grace_period": "5s"},
    }


# --------------------------------------------------------------------------- worker
def _short(filename: str) -> str:
    return filename.split("site-packages/")[-1].split("src/")[-1]


def worker(args: argparse.Namespace) -> None:
    from mcpload._loop import run
    from mcpload.engine.execute import run_scenario
    from mcpload.scenario import Scenario

    scenario = Scenario.from_dict(scenario_dict(args.url, args.agents[0], args.ramp, args.hold))
    snap: list = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(1)

        def take() -> None:  # once the agents are all up, mid-hold
            time.sleep(args.ramp + args.hold / 2)
            snap.append(tracemalloc.take_snapshot())

        threading.Thread(target=take, daemon=True).start()
    rss0 = psutil.Process().memory_info().rss
    print(f"BASE {rss0}", file=sys.stderr, flush=True)

    async def main():
        return await run_scenario(scenario)

    report = run(main())
    r = report.results
    out = {"totals": r["totals"], "sessions": r["sessions"], "duration_s": r["duration_s"], "base_rss": rss0}
    if snap:
        stats = snap[0].statistics("lineno")
        total = sum(s.size for s in stats)
        out["tracemalloc_total"] = total
        out["tracemalloc_top"] = [
            {"where": f"{_short(s.traceback[0].filename)}:{s.traceback[0].lineno}", "size": s.size, "count": s.count}
            for s in stats[: args.tracemalloc]
        ]
    print(json.dumps(out), flush=True)


# --------------------------------------------------------------------------- orchestration
def start_stub(host: str) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, str(HERE / "stub_server.py"), "--mode", "json", "--host", host, "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"stub server on {host} did not start: {line!r}")
    return proc, int(line.split()[1])


def measure(n: int, args: argparse.Namespace) -> dict:
    procs = args.processes or math.ceil(n / PER_PROCESS)
    stubs = [start_stub(f"127.0.0.{i + 1}") for i in range(procs)]
    shares = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    workers = []
    try:
        for i, (share, (_, port)) in enumerate(zip(shares, stubs, strict=True)):
            url = f"http://127.0.0.{i + 1}:{port}/mcp"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--url", url,
                   "--agents", str(share), "--ramp", str(args.ramp), "--hold", str(args.hold)]  # fmt: skip
            if args.tracemalloc:
                cmd += ["--tracemalloc", str(args.tracemalloc)]
            workers.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        handles = [psutil.Process(w.pid) for w in workers]
        peak = 0
        timeline = []
        t0 = time.monotonic()
        while any(w.poll() is None for w in workers):
            total = 0
            for h in handles:
                with contextlib.suppress(psutil.Error):
                    total += h.memory_info().rss
            peak = max(peak, total)
            timeline.append((time.monotonic() - t0, total))
            time.sleep(0.5)
        outs = []
        for w in workers:
            stdout, stderr = w.communicate()
            if w.returncode != 0:
                raise SystemExit(f"worker failed ({w.returncode}):\n{stderr[-3000:]}")
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        for proc, _ in stubs:
            proc.terminate()
            proc.wait(timeout=10)
    base = sum(o["base_rss"] for o in outs)
    calls = sum(o["totals"]["calls"] for o in outs)
    ok = sum(o["totals"]["ok"] for o in outs)
    dur = max(o["duration_s"] for o in outs)
    res = {
        "agents": n,
        "processes": procs,
        "peak_rss": peak,
        "base_rss": base,
        "bytes_per_agent": (peak - base) / n,
        "calls": calls,
        "calls_per_s": calls / dur if dur else 0.0,
        "success_rate": ok / calls if calls else 0.0,
        "sessions_started": sum(o["sessions"]["started"] for o in outs),
        "sessions_failed": sum(o["sessions"]["failed"] for o in outs),
        "duration_s": dur,
    }
    if args.tracemalloc:
        res["tracemalloc"] = [{k: o[k] for k in ("tracemalloc_total", "tracemalloc_top")} for o in outs]
    return res


def table(rows: list[dict]) -> str:
    lines = [
        "| agents | worker processes | peak RSS MiB (all workers) | baseline RSS MiB | bytes per agent | calls/s "
        "| success rate | sessions opened (failed) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['agents']:,} | {r['processes']} | {r['peak_rss'] / 2**20:.0f} | {r['base_rss'] / 2**20:.0f} "
            f"| {r['bytes_per_agent']:,.0f} | {r['calls_per_s']:,.0f} | {r['success_rate']:.4f} "
            f"| {r['sessions_started']:,} ({r['sessions_failed']:,}) |"
        )
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path``, keeping any other sections."""
    replace_section(path, SECTION_START, SECTION_END, text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--ramp", type=float, default=20.0, help="seconds to ramp up to N agents")
    ap.add_argument("--hold", type=float, default=60.0, help="seconds to hold N agents")
    ap.add_argument("--processes", type=int, default=0, help=f"worker processes (default: one per {PER_PROCESS})")
    ap.add_argument("--tracemalloc", type=int, default=0, help="print the top K allocation sites mid-hold")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    rows = []
    for n in args.agents:
        r = measure(n, args)
        rows.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    print(table(rows))
    if args.write_docs:
        import client_overhead as co

        facts = "\n".join(f"- {k}: {v}" for k, v in co.machine())
        cmd = shlex.join(["python", "bench/agents_memory.py", *sys.argv[1:]])
        write_docs(
            args.docs,
            f"""{SECTION_START}
## Memory per agent: N concurrent agent sessions with idle gaps

mcpload's engine (`Scenario.from_dict` + `run_scenario`, uvloop) runs N agents of one type: each holds
its own MCP session over its own keep-alive connection and loops over a one-call conversation
(`tools/call echo`) followed by an idle gap of 5–10 s. A `ramping-agents` profile ramps to N over
{args.ramp:.0f} s, then holds N for {args.hold:.0f} s; the target is `bench/stub_server.py` (JSON mode). Worker
processes: one per {PER_PROCESS:,} agents (each process may open 20,000 files), each with its own
stub server on its own loopback address (127.0.0.1, 127.0.0.2, …). Peak RSS is the sum over the
worker processes (psutil, sampled every 0.5 s; the stub servers are not counted); the baseline is
the same processes' RSS just before their agents start (interpreter + mcpload imported); bytes per
agent = (peak − baseline) ÷ N. calls/s and success rate are over the whole run (ramp included).

Machine:

{facts}

Command:

```sh
{cmd}
```

{table(rows)}
{SECTION_END}
""",
        )
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
