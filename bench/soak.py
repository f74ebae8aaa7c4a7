"""Soak: `mcpload run` for 10 minutes at moderate load; does the generator's memory or fd count grow?

The demo server (`mcpload serve-demo`, official MCP Python SDK, Streamable HTTP on 127.0.0.1) is
started, then `mcpload run` as a subprocess of the CLI: ``--agents`` constant agents of the demo's two
kinds (search → think → two documents in parallel; send → think → delivery report), each idle
``--idle`` between conversations and closing its session after ``--conversations`` conversations (a new
agent session takes its place, so sessions and connections are opened and closed all along). The
generator process's RSS and open file descriptors (psutil) are sampled every ``--every`` seconds.

Reported: RSS after ``--warmup`` seconds vs at the end of the load (growth %, target < 10 %), the
least-squares RSS slope after the warm-up, fds after the warm-up, at the end and at most (target: no
growth), calls, calls/s, success rate and sessions (from the results file).

    python bench/soak.py                         # 10 minutes, print the figures
    python bench/soak.py --duration 30 --warmup 10   # a quick check
    python bench/soak.py --write-docs            # ... and rewrite its section of docs/benchmarks.md
    python bench/soak.py --duration 240 --memray /tmp/soak.bin   # a memray capture of the run
    python bench/memray_growth.py /tmp/soak.bin --from 60 --to 235   # ... and what grew in it
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from docs_section import replace_section  # noqa: E402
from soak_shape import soak_scenario  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:soak:start -->"
SECTION_END = "<!-- bench:soak:end -->"
RSS_TARGET = 0.10


def scenario_dict(url: str, args: argparse.Namespace) -> dict:
    return soak_scenario(url, args.agents, f"{args.duration}s", args.idle, args.conversations)


def _sample(proc: psutil.Process) -> tuple[int, int] | None:
    with contextlib.suppress(psutil.Error):
        return proc.memory_info().rss, proc.num_fds()
    return None


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope (bytes per second) of (t, rss) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mr = sum(r for _, r in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (r - mr) for t, r in points) / den if den else 0.0


def _per_minute(samples: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """The last sample within each minute."""
    out: dict[int, tuple[float, int, int]] = {}
    for s in samples:
        out[int(s[0] // 60)] = s
    return list(out.values())


def soak(args: argparse.Namespace) -> dict:
    from mcpload.demo.launch import demo_server

    with tempfile.TemporaryDirectory(prefix="mcpload-soak-") as tmp, demo_server() as url:
        scenario = Path(tmp) / "soak.yaml"
        scenario.write_text(yaml.safe_dump(scenario_dict(url, args), sort_keys=False))
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "mcpload.cli", "run", str(scenario), "--quiet", "--out", str(out)]
        if args.memray:
            # the same process under memray's tracker (native frames): bench/memray_growth.py reads it
            tracker = ["-m", "memray", "run", "--native", "-q", "-f", "-o", str(args.memray)]
            if args.memray_python:
                tracker.append("--trace-python-allocators")
            cmd[1:1] = tracker
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = open(Path(tmp) / "run.log", "w+")  # noqa: SIM115 - read back below
        run = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        handle = psutil.Process(run.pid)
        samples: list[tuple[float, int, int]] = []  # (t, rss, fds)
        t0 = time.monotonic()
        next_at = t0
        try:
            while run.poll() is None:
                t = time.monotonic() - t0
                s = _sample(handle)
                if s is not None:
                    samples.append((t, *s))
                    if args.verbose:
                        print(f"{t:6.0f} s  rss {s[0] / 2**20:6.1f} MiB  fds {s[1]}", file=sys.stderr, flush=True)
                next_at += args.every
                with contextlib.suppress(subprocess.TimeoutExpired):
                    run.wait(max(0.0, next_at - time.monotonic()))
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        log.seek(0)
        output = log.read()
        log.close()
        if run.returncode not in (0, 99) or not out.exists():
            raise SystemExit(f"mcpload run failed ({run.returncode}):\n{output[-3000:]}")
        results = json.loads(out.read_text())
    # the load runs for `duration` seconds after start-up and preflight; "the end" is the last sample
    # taken while agents were still running (before the grace period and the results are written)
    load = [s for s in samples if s[0] <= args.duration]
    after = [s for s in load if s[0] >= args.warmup]
    if len(after) < 2:
        raise SystemExit(f"too few samples after the {args.warmup} s warm-up: {len(after)}")
    warm, end = after[0], after[-1]
    totals = results["totals"]
    return {
        "agents": args.agents,
        "duration_s": results.get("duration_s"),
        "samples": len(samples),
        "warmup_s": round(warm[0], 1),
        "end_s": round(end[0], 1),
        "rss_per_minute": [r for t, r, _ in _per_minute(load)],
        "rss_warm": warm[1],
        "rss_end": end[1],
        "rss_peak_after_warmup": max(s[1] for s in after),
        "rss_growth": (end[1] - warm[1]) / warm[1],
        "rss_slope_mib_per_min": _slope([(t, r) for t, r, _ in after]) * 60 / 2**20,
        "fds_warm": warm[2],
        "fds_end": end[2],
        "fds_max_after_warmup": max(s[2] for s in after),
        "fds_min_after_warmup": min(s[2] for s in after),
        "calls": totals["calls"],
        "ok": totals["ok"],
        "success_rate": totals["ok"] / totals["calls"] if totals["calls"] else 0.0,
        "calls_per_s": totals["calls"] / results["duration_s"] if results.get("duration_s") else 0.0,
        "sessions": results.get("sessions", {}),
        "exit_code": run.returncode,
    }


def table(r: dict) -> str:
    sessions = r["sessions"]
    opened = f"{sessions.get('started', 0):,} ({sessions.get('failed', 0):,})" if sessions else "n/a"
    verdict_rss = "yes" if r["rss_growth"] < RSS_TARGET else "no"
    verdict_fds = "yes" if r["fds_end"] <= r["fds_warm"] else "no"
    return "\n".join(
        [
            "| figure | value |",
            "|---|---:|",
            f"| agents (constant) | {r['agents']} |",
            f"| run length (results `duration_s`) | {r['duration_s']:.0f} s |",
            f"| RSS after warm-up (t = {r['warmup_s']:.0f} s) | {r['rss_warm'] / 2**20:.1f} MiB |",
            f"| RSS at the end of the load (t = {r['end_s']:.0f} s) | {r['rss_end'] / 2**20:.1f} MiB |",
            f"| RSS growth, warm-up → end (target < 10 %) | {r['rss_growth'] * 100:+.1f} % ({verdict_rss}) |",
            f"| RSS peak after warm-up | {r['rss_peak_after_warmup'] / 2**20:.1f} MiB |",
            f"| RSS slope after warm-up (least squares) | {r['rss_slope_mib_per_min']:+.3f} MiB/min |",
            f"| RSS at the end of each minute | {', '.join(f'{x / 2**20:.0f}' for x in r['rss_per_minute'])} MiB |",
            f"| open fds after warm-up → end (target: no growth) | {r['fds_warm']} → {r['fds_end']} ({verdict_fds}) |",
            f"| open fds after warm-up, min – max | {r['fds_min_after_warmup']} – {r['fds_max_after_warmup']} |",
            f"| calls | {r['calls']:,} |",
            f"| calls/s | {r['calls_per_s']:.1f} |",
            f"| success rate | {r['success_rate']:.4f} |",
            f"| sessions opened (failed) | {opened} |",
        ]
    )


def _options(ap: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The options that change the measurement and differ from their defaults, as command-line words."""
    words = []
    for name in ("duration", "warmup", "agents", "idle", "conversations", "every"):
        value = getattr(args, name)
        if value != ap.get_default(name):
            words += [f"--{name}", f"{value:g}" if isinstance(value, float) else str(value)]
    return words


def write_docs(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path``, keeping any other sections."""
    replace_section(path, SECTION_START, SECTION_END, text)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds before the RSS baseline (default 60)")
    ap.add_argument("--agents", type=int, default=30, help="constant agents (default 30)")
    ap.add_argument("--idle", default="1s..3s", help="idle between conversations (default 1s..3s)")
    ap.add_argument("--conversations", type=int, default=10, help="conversations per session (default 10)")
    ap.add_argument("--every", type=float, default=5.0, help="sampling period in seconds (default 5)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each sample")
    ap.add_argument(
        "--memray",
        type=Path,
        metavar="FILE",
        help="run mcpload under memray (native frames) into FILE; read it with bench/memray_growth.py "
        "(memray's overhead is in the RSS figures then: no --write-docs)",
    )
    ap.add_argument(
        "--memray-python", action="store_true", help="with --memray: trace every Python object (pymalloc) too"
    )
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    return ap


def main(argv: list[str] | None = None) -> None:
    ap = parser()
    args = ap.parse_args(argv)
    if args.warmup >= args.duration:
        ap.error("--warmup must be shorter than --duration")
    if args.memray and args.write_docs:
        ap.error("--memray distorts the RSS figures: not with --write-docs")
    if args.memray_python and not args.memray:
        ap.error("--memray-python needs --memray FILE")
    if args.memray:
        try:
            import memray  # noqa: F401
        except ImportError:
            ap.error("--memray needs memray: pip install memray (Linux and macOS)")
    load0 = os.getloadavg()
    r = soak(args)
    print(json.dumps(r), file=sys.stderr, flush=True)
    print(table(r))
    if args.write_docs:
        import client_overhead as co

        facts = "\n".join(f"- {k}: {v}" for k, v in co.machine(load0))
        cmd = shlex.join(["python", "bench/soak.py", *_options(ap, args), "--write-docs"])
        write_docs(
            args.docs,
            f"""{SECTION_START}
## Soak: `mcpload run` for {args.duration / 60:g} minutes at moderate load

Does the load generator leak? The demo server (`mcpload serve-demo`, official MCP Python SDK,
Streamable HTTP, default latency ~20 ms) runs on 127.0.0.1; `mcpload run --quiet` (the CLI, a
separate process) drives it with {args.agents} constant agents of two kinds (search → think → two
documents in parallel; send → think → delivery report), each idle {args.idle} between
conversations and closing its session after {args.conversations} conversations (a new session takes
its place, so sessions and connections open and close all along). The generator process's RSS and
open file descriptors are sampled every {args.every:g} s (psutil). "After warm-up" is the first
sample at or after {args.warmup:.0f} s; "the end" is the last sample while the agents still run
(before the grace period and the results file). Targets (issue 7): RSS growth < 10 %, no fd growth.

Machine:

{facts}

Command:

```sh
{cmd}
```

{table(r)}
{SECTION_END}
""",
        )
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
