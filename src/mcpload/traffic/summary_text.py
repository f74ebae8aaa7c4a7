"""The analysis as a short text summary for the terminal (the JSON and HTML hold everything)."""

from __future__ import annotations

from typing import Any


def _ms(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds < 10 else f"{seconds:.1f}s"


def _fit(block: dict[str, Any]) -> str:
    if not block.get("n"):
        return "none"
    best, s = block["best"], block["summary"]
    params = ", ".join(f"{k}={_ms(v) if k in ('median', 'mean', 'value') else round(v, 3)}"
                       for k, v in best["params"].items() if k != "samples")  # fmt: skip
    return (f"n={block['n']} p50 {_ms(s['p50'])} p90 {_ms(s['p90'])} p99 {_ms(s['p99'])} → "
            f"{best['kind']}({params}) KS {best['ks']} (5 % critical {block['ks_critical_5pct']})")  # fmt: skip


def text_summary(a: dict[str, Any]) -> list[str]:
    """Lines for the terminal."""
    t, s, b, c = a["trace"], a["sessions"], a["burstiness"], a["conversations"]
    th = a["idle_threshold"]
    lines = [
        f"trace {t['path']}: {t['calls']} tool calls in {t['duration_s']:.1f}s"
        + (f" ({t['skipped_lines']} damaged lines skipped)" if t["skipped_lines"] else ""),
        f"sessions {s['count']}  arrivals {s['arrival_rate_per_s']}/s (gap CV {s['arrival_gap_cv']})"
        f"  concurrency max {s['concurrency']['max']} mean {s['concurrency']['mean']}",
        f"idle threshold {_ms(th['seconds']) if th['seconds'] is not None else 'none (one conversation per session)'}"
        f" ({th['set_by']}; separation {th['separation']})",
        f"conversations {c['count']}  calls/conversation p50 {c['calls'].get('p50', 0):g}"
        f"  chain length p50 {c['chain_length'].get('p50', 0):g}",
        f"think: {_fit(a['gaps']['think'])}",
        f"idle:  {_fit(a['gaps']['idle'])}",
        f"burstiness: gap CV {b['gap_cv']} (Poisson 1.0)"
        + "".join(
            f"; {w}: dispersion {v['dispersion']}, peak/mean {v['peak_to_mean']} (Poisson {v['poisson_peak_to_mean']})"
            for w, v in b["windows"].items()
        ),
        f"parallel batches: {a['batches']['parallel_share'] * 100:.1f} % of steps, sizes {a['batches']['sizes']}",
        "tools:",
    ]
    for name, tool in a["tools"].items():
        share, errors = tool["share"] * 100, tool["errors"] * 100
        lines.append(
            f"  {name:<28} {share:5.1f} %  {tool['calls']:>6} calls  errors {errors:.1f} %"
            f"  p50 {_ms(tool['latency_s']['p50'])}  distinct args {tool['argument_variety']['distinct']}"
        )
    lines.append("personas:")
    for p in a["personas"]:
        lines.append(
            f"  {p['name']:<28} {p['share'] * 100:5.1f} %  {p['sessions']} sessions  tools {', '.join(p['tools'])}"
        )
    return lines
