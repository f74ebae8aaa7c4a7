"""Memory per agent: mcpload holding N concurrent agent sessions with idle gaps.

Each agent holds its own MCP session over its own keep-alive connection, runs a one-call
conversation (``tools/call echo``), then idles 5–10 s, again and again. The agents ramp up over
``--ramp`` seconds and are held for ``--hold`` seconds against ``bench/stub_server.py`` (JSON mode).

``--via cli`` (the default) measures the product: ``mcpload run scenario.yaml --workers W -q --out
…`` with the scenario in a temporary file, W = ``--processes`` or one worker process per 10,000
agents (the 20,000 open-files limit per process; W = 1 runs the agents in the CLI process itself).
All agents connect to one address and port (~28,000 ephemeral ports per destination address), where
one stub server per 8,000 agents listens with SO_REUSEPORT (a stub process, too, may open only
20,000 files). RSS and PSS are summed over the ``mcpload`` process and all its children (the
coordinator and its forked workers; the stub servers are not counted), twice a second. The
baseline is a run of the same command with one agent per process; bytes per agent = (peak RSS −
baseline peak RSS) ÷ (N − those agents). If the CLI run fails, the row is measured by the engine path.

``--via engine`` (the earlier measurement) runs its own worker processes calling the engine
(``Scenario.from_dict`` + ``run_scenario``), one per 10,000 agents, each with its own stub server on
its own loopback address (127.0.0.1, 127.0.0.2, …); its baseline is the workers' RSS just before
their agents start.

Reported: peak RSS (all processes), peak PSS (forked workers share pages with the coordinator, which
summed RSS counts once per process), the baseline, bytes per agent, calls/s and the success rate
(from the results), sessions opened and failed.

    python bench/agents_memory.py --agents 1000 5000          # print the table
    python bench/agents_memory.py --agents 5000 --write-docs  # ... and rewrite its docs section
    python bench/agents_memory.py --agents 5000 --via engine --tracemalloc 20   # allocation sites mid-hold
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from docs_section import replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:agents-memory:start -->"
SECTION_END = "<!-- bench:agents-memory:end -->"
PER_PROCESS = 10000
MEM_KEYS = ("rss_mib", "pss_mib", "uss_mib")
PER_STUB = 8000  # connections per stub server process (--via cli), under its 20,000 open files


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


def measure_engine(n: int, args: argparse.Namespace) -> dict:
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
        "via": "engine",
        "processes": procs,
        "peak_rss": peak,
        "peak_pss": None,
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


# --------------------------------------------------------------------------- the real CLI (--via cli)
def start_stubs(count: int) -> tuple[list[subprocess.Popen], int]:
    """``count`` stub servers on one port of 127.0.0.1 (SO_REUSEPORT); (processes, port)."""
    procs: list[subprocess.Popen] = []
    port = 0
    try:
        for _ in range(count):
            cmd = [sys.executable, str(HERE / "stub_server.py"), "--mode", "json", "--port", str(port), "--reuse-port"]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            procs.append(proc)
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("READY "):
                raise RuntimeError(f"stub server did not start: {line!r}")
            port = int(line.split()[1])
    except Exception:
        stop_stubs(procs)
        raise
    return procs, port


def stop_stubs(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _tree_memory(root: psutil.Process, peaks: dict[int, list[int]]) -> tuple[int, int, int]:
    """(RSS, PSS, processes) summed over ``root`` and all its children; ``peaks[pid]``: each
    process's own peak [RSS, PSS, USS]."""
    rss = pss = count = 0
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            full = p.memory_full_info()
            rss += full.rss
            pss += getattr(full, "pss", full.rss)
            count += 1
            own = (full.rss, getattr(full, "pss", full.rss), getattr(full, "uss", full.rss))
            peaks[p.pid] = [max(a, b) for a, b in zip(peaks.get(p.pid, (0, 0, 0)), own, strict=True)]
    return rss, pss, count


def run_cli(agents: int, workers: int, ramp: float, hold: float, port: int, tmp: Path, conns: str) -> dict:
    """One ``mcpload run scenario.yaml --workers W``; its peak memory (sampled) and results."""
    scenario = tmp / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(scenario_dict(f"http://127.0.0.1:{port}/mcp", agents, ramp, hold)))
    out = tmp / "results.json"
    cli = str(Path(sys.executable).parent / "mcpload")
    cmd = [cli, "run", str(scenario), "--workers", str(workers), "--connections", conns, "-q", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = procs = 0
    peaks: dict[int, list[int]] = {}
    while proc.poll() is None:
        rss, pss, count = _tree_memory(root, peaks)
        peak_rss, peak_pss, procs = max(peak_rss, rss), max(peak_pss, pss), max(procs, count)
        time.sleep(0.5)
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"mcpload run exited {proc.returncode}:\n{stdout[-3000:]}")
    per_process = [
        {
            "role": "cli" if pid == proc.pid else "worker",
            **{k: round(x / 2**20) for k, x in zip(MEM_KEYS, v, strict=True)},
        }
        for pid, v in peaks.items()
    ]
    return {"peak_rss": peak_rss, "peak_pss": peak_pss, "processes": procs, "per_process": per_process,
            "results": json.loads(out.read_text())}  # fmt: skip


def measure_cli(n: int, args: argparse.Namespace) -> dict:
    workers = args.processes or (1 if args.connections != "own" else math.ceil(n / PER_PROCESS))
    # a shared pool sends one session's requests over any of its connections, so one stub process must
    # hold every session (the stubs behind SO_REUSEPORT do not share sessions); a pool needs few files
    stubs, port = start_stubs(1 if args.connections != "own" else math.ceil(n / PER_STUB))
    try:
        with tempfile.TemporaryDirectory() as d:
            # the baseline: the same command and processes, one agent per process, briefly
            base = run_cli(workers, workers, 1.0, 3.0, port, Path(d), args.connections)
            run = run_cli(n, workers, args.ramp, args.hold, port, Path(d), args.connections)
    finally:
        stop_stubs(stubs)
    r = run["results"]
    calls, ok = r["totals"]["calls"], r["totals"]["ok"]
    dur = r["duration_s"]
    return {
        "agents": n,
        "via": "cli",
        "workers": workers,
        "connections": args.connections,
        "stubs": len(stubs),
        "per_process": run["per_process"],
        "processes": run["processes"],
        "peak_rss": run["peak_rss"],
        "peak_pss": run["peak_pss"],
        "base_rss": base["peak_rss"],
        "base_pss": base["peak_pss"],
        "bytes_per_agent": (run["peak_rss"] - base["peak_rss"]) / max(n - workers, 1),
        "calls": calls,
        "calls_per_s": calls / dur if dur else 0.0,
        "success_rate": ok / calls if calls else 0.0,
        "sessions_started": r["sessions"]["started"],
        "sessions_failed": r["sessions"]["failed"],
        "duration_s": dur,
        "execution": r.get("execution"),
        "top_errors": (r.get("top_errors") or [])[:3],
    }


def measure(n: int, args: argparse.Namespace) -> dict:
    if args.via == "engine" or args.tracemalloc:
        return measure_engine(n, args)
    try:
        return measure_cli(n, args)
    except Exception as exc:  # keep the earlier path available: say so, measure it that way
        print(f"{n} agents via the CLI failed ({exc}); measuring via the engine instead", file=sys.stderr)
        row = measure_engine(n, args)
        row["via"] = "engine (CLI failed)"
        return row


def table(rows: list[dict]) -> str:
    lines = [
        "| agents | measured via | processes | peak RSS MiB (all processes) | peak PSS MiB | baseline RSS MiB "
        "| bytes per agent | calls/s | success rate | sessions opened (failed) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["via"] == "cli":
            conns = "" if r["connections"] == "own" else f" --connections {r['connections']}"
            via = f"`mcpload run --workers {r['workers']}{conns}`"
            procs = f"{r['processes']}" + (" (1 coordinator + workers)" if r["workers"] > 1 else "")
        else:
            via, procs = f"engine workers{' (CLI failed)' if 'failed' in r['via'] else ''}", f"{r['processes']}"
        pss = "n/a" if r.get("peak_pss") is None else f"{r['peak_pss'] / 2**20:.0f}"
        lines.append(
            f"| {r['agents']:,} | {via} | {procs} | **{r['peak_rss'] / 2**20:.0f}** | {pss} "
            f"| {r['base_rss'] / 2**20:.0f} | {r['bytes_per_agent']:,.0f} | {r['calls_per_s']:,.0f} "
            f"| {r['success_rate']:.4f} | {r['sessions_started']:,} ({r['sessions_failed']:,}) |"
        )
    return "\n".join(lines)


CLI_TEXT = """The product, as a user runs it: `mcpload run scenario.yaml --workers W -q --out results.json`, the
scenario (written to a temporary file) holding N agents of one type: each holds its own MCP session
over its own keep-alive connection (`connections: own`, the default) and loops over a one-call
conversation (`tools/call echo`) followed by an idle gap of 5–10 s. A `ramping-agents` profile ramps
to N over {ramp:.0f} s, then holds N for {hold:.0f} s. W is one worker process per {per:,} agents (each
process may open 20,000 files; W = 1 runs the agents in the CLI process, W > 1 forks W workers after
preflight and the CLI process coordinates). Every agent connects to one address and port,
127.0.0.1:PORT (~28,000 ephemeral ports per destination address), where `bench/stub_server.py`
(JSON mode) listens in one process per {stub:,} agents with SO_REUSEPORT (a stub process, too, may open
only 20,000 files).

Peak RSS is the sum over the `mcpload` process and all its children (psutil, sampled every 0.5 s;
the stub servers are not counted). Forked workers share pages with the coordinator (the interpreter,
the imported modules), which summed RSS counts once per process, so peak PSS (each shared page split
between the processes that map it) is shown beside it. The baseline is the peak RSS of the same
command and processes running one agent per process for 4 s; bytes per agent = (peak RSS − baseline)
÷ (N − those agents). calls/s (initialize included) and success rate are from the results file, over
the whole run (ramp included)."""

ENGINE_TEXT = """mcpload's engine (`Scenario.from_dict` + `run_scenario`, uvloop) runs N agents of one type: each holds
its own MCP session over its own keep-alive connection and loops over a one-call conversation
(`tools/call echo`) followed by an idle gap of 5–10 s. A `ramping-agents` profile ramps to N over
{ramp:.0f} s, then holds N for {hold:.0f} s; the target is `bench/stub_server.py` (JSON mode). Worker
processes: one per {per:,} agents (each process may open 20,000 files), each with its own
stub server on its own loopback address (127.0.0.1, 127.0.0.2, …). Peak RSS is the sum over the
worker processes (psutil, sampled every 0.5 s; the stub servers are not counted); the baseline is
the same processes' RSS just before their agents start (interpreter + mcpload imported); bytes per
agent = (peak − baseline) ÷ N. calls/s and success rate are over the whole run (ramp included)."""


def verdict(rows: list[dict]) -> str:
    big = [r for r in rows if r["agents"] >= 20000]
    if not big:
        return ""
    r = big[-1]
    mib = r["peak_rss"] / 2**20
    pss = "" if r.get("peak_pss") is None else f" (PSS {r['peak_pss'] / 2**20:.0f} MiB)"
    ok = "within" if mib < 512 else "over"
    parts = ""
    if len(r.get("per_process") or []) > 1:
        each = "; ".join(
            f"{'CLI process (coordinator)' if p['role'] == 'cli' else 'worker'} {p['rss_mib']} / {p['pss_mib']} / "
            f"{p['uss_mib']}"
            for p in sorted(r["per_process"], key=lambda p: p["role"])
        )
        parts = f" Each process's own peak RSS / PSS / USS in MiB (not simultaneous): {each}."
    return (
        f"\n\n{r['agents']:,} agents: peak RSS {mib:.0f} MiB summed over all the generator's processes{pss}, "
        f"**{ok}** issue 5's 512 MiB target.{parts}"
    )


def write_docs(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path``, keeping any other sections."""
    replace_section(path, SECTION_START, SECTION_END, text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--ramp", type=float, default=20.0, help="seconds to ramp up to N agents")
    ap.add_argument("--hold", type=float, default=60.0, help="seconds to hold N agents")
    ap.add_argument("--via", choices=("cli", "engine"), default="cli", help="mcpload run (default) or the engine")
    ap.add_argument("--connections", default="own", help="--via cli: own (default) or shared[:N]; shared: 1 process")
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
        cmd = shlex.join(["python", "bench/agents_memory.py", *(argv if argv is not None else sys.argv[1:])])
        fmt = {"ramp": args.ramp, "hold": args.hold, "per": PER_PROCESS, "stub": PER_STUB}
        texts = []
        if any(r["via"] == "cli" for r in rows):
            texts.append(CLI_TEXT.format(**fmt))
        if any(r["via"] != "cli" for r in rows):
            lead = (
                "" if not texts else "Rows measured via the engine (the earlier path, used where the CLI run failed): "
            )
            texts.append(lead + ENGINE_TEXT.format(**fmt))
        body = "\n\n".join(texts)
        write_docs(
            args.docs,
            f"""{SECTION_START}
## Memory per agent: N concurrent agent sessions with idle gaps

{body}

Machine:

{facts}

Command:

```sh
{cmd}
```

{table(rows)}{verdict(rows)}
{SECTION_END}
""",
        )
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
