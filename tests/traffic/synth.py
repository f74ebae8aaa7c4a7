"""Synthetic traces with known behaviour, for the analysis tests (no network, no clock)."""

from __future__ import annotations

import random
from pathlib import Path

import orjson

from mcpload.traffic.trace import FORMAT


def synth_trace(
    path: Path,
    sessions: int = 40,
    seed: int = 1,
    think_median: float = 0.5,
    think_sigma: float = 0.5,
    idle_median: float = 20.0,
    conversations: int = 3,
    arrival_gap: float = 2.0,
) -> Path:
    """Sessions of two kinds: 'research' (search → parallel get ×2) and 'notify' (send → report),
    lognormal think inside conversations, lognormal idle between them, Poisson session arrivals."""
    rng = random.Random(seed)
    lines = [{"type": "header", "format": FORMAT, "started": 0, "source": "synthetic"}]
    t0 = 0.0
    for s in range(sessions):
        t0 += rng.expovariate(1 / arrival_gap)
        sid = f"s-{s:04d}"
        lines.append({"type": "session_start", "t": t0, "session": sid})
        t = t0 + 0.01
        research = rng.random() < 0.67
        for conv in range(conversations):
            if research:
                steps = [["search_docs"], ["get_doc", "get_doc"]]
            else:
                steps = [["send_message"], ["get_delivery_report"]]
            for i, batch in enumerate(steps):
                if i:
                    t += rng.lognormvariate(0, think_sigma) * think_median
                end = t
                for tool in batch:
                    latency = 0.01 + rng.random() * 0.01
                    args = (
                        {"query": rng.choice(["a", "b", "c"])} if tool == "search_docs" else {"id": str(rng.random())}
                    )
                    lines.append({"type": "call", "t": t, "session": sid, "direction": "client",
                                  "method": "tools/call", "tool": tool, "arguments": args,
                                  "latency": latency, "outcome": "ok", "status": 200})  # fmt: skip
                    end = max(end, t + latency)
                t = end
            if conv < conversations - 1:
                t += rng.lognormvariate(0, 0.5) * idle_median
        lines.append({"type": "session_end", "t": t + 0.01, "session": sid, "reason": "delete"})
    lines[1:] = sorted(lines[1:], key=lambda line: line["t"])
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path
