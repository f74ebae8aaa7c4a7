"""``--workers auto`` under a load that saturates one generator process: ``--workers 1`` vs ``auto``.

``bench/stub_server.py --delay-ms D`` (JSON mode) holds every response D ms on a timer, so the server
spends little CPU; the real CLI runs N constant agents calling ``echo`` back to back (ad-hoc mode), enough
to keep one mcpload process busy. With ``--workers 1`` that process stays the bottleneck; with
``--workers auto`` (it starts with one process: N is under 1,000) it should hand half of its agents to a
new worker after 2 hot seconds. Per run: the change(s) auto made, calls/s over the steady part, the
event-loop lag of the process(es) running agents per second before and after the first change, and the
intervals marked generator-bound.

    python bench/auto_workers.py                   # print the table (about 1 minute)
    python bench/auto_workers.py --write-docs      # ... and rewrite its section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from docs_section import replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:auto-workers:start -->"
SECTION_END = "<!-- bench:auto-workers:end -->"
WARMUP_S = 3  # seconds left out of calls/s (sessions opening)


def start_stub(delay_ms: float) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, str(HERE / "stub_server.py"), "--mode", "json", "--port", "0", "--delay-ms", str(delay_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "READY":
        proc.kill()
        raise SystemExit(f"stub server did not start: {line}")
    return proc, int(line[1])


def run(port: int, agents: int, duration: float, workers: str, out: Path) -> dict:
    cmd = [
        str(Path(sys.executable).parent / "mcpload"), "run", "--url", f"http://127.0.0.1:{port}/mcp",
        "--tool", "echo", "--args", '{"message": "hi"}', "--agents", str(agents), "--duration", f"{duration:g}s",
        "--workers", workers, "--seed", "1", "-q", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    if not out.exists():
        raise SystemExit(f"mcpload {workers}: no results (exit {done.returncode}): {done.stderr[-500:]}")
    return json.loads(out.read_text())


def figures(results: dict, workers: str) -> dict:
    intervals = [iv for iv in results["intervals"] if iv.get("t", 0) >= 1]
    adaptive = results["execution"].get("adaptive") or {}
    changes = [c for c in adaptive.get("changes", []) if "failed" not in c]
    first = changes[0]["at_s"] if changes else None
    steady = [iv for iv in intervals if WARMUP_S < iv["t"] <= results["duration_s"] - 1]

    def lag(iv: dict) -> float:
        return max(iv.get("loop_lag_ms", 0.0), iv.get("workers_loop_lag_ms", 0.0))

    before = [lag(iv) for iv in steady if first is None or iv["t"] <= first]
    after = [lag(iv) for iv in steady if first is not None and iv["t"] > first + 1]
    rate = [iv.get("calls_per_s", iv["calls"]) for iv in steady]
    rate_after = [iv.get("calls_per_s", iv["calls"]) for iv in steady if first is not None and iv["t"] > first + 1]
    return {
        "workers": workers,
        "changes": [f"{c['to'][-1]['name']} at {c['at_s']:g} s ({c['reason']})" for c in changes],
        "failed": [c["failed"] for c in adaptive.get("changes", []) if "failed" in c],
        "processes": results["execution"].get("workers", 1),
        "calls_per_s": round(statistics.median(rate)) if rate else 0,
        "calls_per_s_after": round(statistics.median(rate_after)) if rate_after else None,
        "lag_before_ms": round(statistics.median(before), 1) if before else None,
        "lag_after_ms": round(statistics.median(after), 1) if after else None,
        "generator_bound": sum(1 for iv in intervals if iv.get("generator_bound")),
        "intervals": len(intervals),
        "success": results["totals"].get("success_rate"),
    }


def table(rows: list[dict]) -> str:
    out = [
        "| --workers | processes at the end | workers added | calls/s (median, steady) | calls/s after the change "
        "| loop lag before (median ms) | loop lag after | generator-bound seconds | success |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        added = "; ".join(r["changes"]) or ("failed: " + "; ".join(r["failed"]) if r["failed"] else "none")

        def fmt(v: object) -> str:
            return "–" if v is None else f"{v:,}" if isinstance(v, int) else str(v)

        out.append(
            f"| {r['workers']} | {r['processes']} | {added} | {fmt(r['calls_per_s'])} | {fmt(r['calls_per_s_after'])} "
            f"| {fmt(r['lag_before_ms'])} | {fmt(r['lag_after_ms'])} | {r['generator_bound']} of {r['intervals']} "
            f"| {r['success']} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=300)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--delay-ms", type=float, default=5.0)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import client_overhead as co

    facts = "\n".join(f"- {k}: {v}" for k, v in co.machine(os.getloadavg()))
    stub, port = start_stub(args.delay_ms)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in ("1", "auto"):
                t0 = time.monotonic()
                results = run(port, args.agents, args.duration, workers, Path(tmp) / f"{workers}.json")
                rows.append(figures(results, workers))
                print(f"--workers {workers}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
    finally:
        stub.kill()
    print(table(rows))
    if args.write_docs:
        cmd = shlex.join(["python", "bench/auto_workers.py", *(argv if argv is not None else sys.argv[1:])])
        text = f"""{SECTION_START}
## `--workers auto` adding a worker during a run

One mcpload process saturated on purpose: {args.agents} constant agents call `echo` back to back against
`bench/stub_server.py --delay-ms {args.delay_ms:g}` (JSON mode; the delay is a timer, so the server spends
little CPU), {args.duration:g} s, the same run with `--workers 1` and with `--workers auto` (which starts with one
process: {args.agents} agents are under 1,000). `auto` reads each process's CPU and event-loop lag every second and
hands half of a process's agents to a new worker once it has been hot (≥ 80 % of a core or ≥ 25 ms lag)
for 2 s. Loop lag is the worst of the processes running agents per second (`loop_lag_ms`,
`workers_loop_lag_ms`), median over the steady seconds ({WARMUP_S} s after start to 1 s before the end) before
the first change and from 1 s after it. Server and generator share the machine's cores, so calls/s
say what this machine did, not what a bigger one would.

Machine:

{facts}

Command:

```sh
{cmd}
```

{table(rows)}
{SECTION_END}
"""
        replace_section(args.docs, SECTION_START, SECTION_END, text)
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
