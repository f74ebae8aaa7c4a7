"""What grew between two moments of a run: live bytes per allocation stack in a memray capture.

memray's own reports answer "what is live at the peak" or "what was never freed"; a soak asks what
grew *while the load ran*. This reads a capture's temporal records (every allocation with the memory
snapshots between which it was made and freed), takes the snapshots nearest to ``--from`` and
``--to`` seconds, and lists the stacks whose live bytes grew most between them, with the tracked
heap and RSS over the run.

    python bench/soak.py --duration 240 --memray /tmp/soak.bin        # capture (native frames)
    python bench/memray_growth.py /tmp/soak.bin --from 60 --to 235     # what grew in between

Stacks are grouped by their Python frames (``--depth`` innermost ones, native frames left out) so that
one line of ours is one row; ``--native`` shows the first stacks with their native frames instead.
A capture made with ``--trace-python-allocators`` (``--memray-python``) sees every Python object;
without it, pymalloc's 1 MiB arenas and everything that goes to malloc directly.
"""

from __future__ import annotations

import argparse
import collections
import sys


def _live(interval, k: int) -> bool:
    freed = interval.deallocated_before_snapshot
    return interval.allocated_before_snapshot <= k and (freed is None or freed > k)


def growth(path: str, t_from: float, t_to: float, depth: int, rows: int, native: bool) -> None:
    from memray import FileReader

    reader = FileReader(path)
    snaps = list(reader.get_memory_snapshots())
    if len(snaps) < 2:
        raise SystemExit(f"{path}: fewer than two memory snapshots")
    t0 = snaps[0].time
    ts = [(s.time - t0) / 1000 for s in snaps]
    a = min(range(len(ts)), key=lambda i: abs(ts[i] - t_from))
    b = min(range(len(ts)), key=lambda i: abs(ts[i] - t_to))
    mib = 2**20
    print(f"{path}: {len(snaps)} snapshots over {ts[-1]:.0f} s")
    step = max(1, len(snaps) // 12)
    for i in [*range(0, len(snaps), step), len(snaps) - 1]:
        print(f"  t = {ts[i]:5.0f} s  rss {snaps[i].rss / mib:7.2f} MiB  tracked heap {snaps[i].heap / mib:7.2f} MiB")
    print(
        f"from t = {ts[a]:.0f} s to t = {ts[b]:.0f} s: rss {(snaps[b].rss - snaps[a].rss) / mib:+.2f} MiB, "
        f"tracked heap {(snaps[b].heap - snaps[a].heap) / mib:+.2f} MiB"
    )
    table: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    samples: dict[tuple, object] = {}
    for record in reader.get_temporal_allocation_records(merge_threads=True):
        bytes_a = count_a = bytes_b = count_b = 0
        for interval in record.intervals:
            if _live(interval, a):
                bytes_a += interval.n_bytes
                count_a += interval.n_allocations
            if _live(interval, b):
                bytes_b += interval.n_bytes
                count_b += interval.n_allocations
        if bytes_a == bytes_b and count_a == count_b:
            continue
        frames = record.stack_trace(max_stacks=depth)
        key = tuple(f"{fn} {file.rsplit('/', 1)[-1]}:{line}" for fn, file, line in frames) or (f"<{record.allocator}>",)
        row = table[key]
        row[0] += bytes_a
        row[1] += bytes_b
        row[2] += count_a
        row[3] += count_b
        samples.setdefault(key, record)
    ordered = sorted(table.items(), key=lambda kv: kv[1][0] - kv[1][1])
    print(f"live bytes by stack, grown most first (sum {sum(r[1] - r[0] for _, r in ordered) / mib:+.2f} MiB):")
    for key, (bytes_a, bytes_b, count_a, count_b) in ordered[:rows]:
        print(
            f"  {(bytes_b - bytes_a) / 1024:+9.1f} KiB {count_b - count_a:+7d} allocations  "
            f"({bytes_a / 1024:.1f} → {bytes_b / 1024:.1f} KiB)  " + " ← ".join(key)
        )
        if native:
            for fn, file, line in samples[key].hybrid_stack_trace(max_stacks=40):
                print(f"        {fn}  {file}:{line}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture", help="a memray capture file (memray run -o FILE, or bench/soak.py --memray FILE)")
    ap.add_argument("--from", dest="t_from", type=float, default=60.0, help="seconds into the capture (default 60)")
    ap.add_argument("--to", dest="t_to", type=float, required=True, help="seconds into the capture")
    ap.add_argument("--depth", type=int, default=6, help="Python frames per stack (default 6)")
    ap.add_argument("--rows", type=int, default=20, help="stacks listed (default 20)")
    ap.add_argument("--native", action="store_true", help="print each listed stack with its native frames")
    args = ap.parse_args(argv)
    try:
        import memray  # noqa: F401
    except ImportError:
        raise SystemExit("memray is not installed: pip install memray (Linux and macOS)") from None
    growth(args.capture, args.t_from, args.t_to, args.depth, args.rows, args.native)


if __name__ == "__main__":
    sys.exit(main())
