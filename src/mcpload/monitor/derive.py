"""From resource samples and a run's results: peaks and means, CPU per call, memory per session,
and a linear extrapolation to more agents, stated with its assumptions."""

from __future__ import annotations

from typing import Any

FIELDS = ("cpu_percent", "rss_bytes", "threads", "fds", "connections", "processes")
GIB = 1024**3

ASSUMPTIONS = (
    "linear: CPU grows with calls at the measured CPU seconds per call",
    "linear: memory grows with sessions at the measured RSS per active session, above the idle baseline",
    "the same agent mix, think and idle times, so calls per agent per second stay as measured",
    "no new bottleneck (locks, database, network, GC pauses) appears at the larger size",
    "the server can use that many cores (one Python or Node process uses about one: run several)",
)


def summarize(samples: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """``{field: {"peak", "mean"}}`` over ``samples`` for every sampled figure (None without data)."""
    out: dict[str, dict[str, float | None]] = {}
    for name in FIELDS:
        values = [s[name] for s in samples if s.get(name) is not None]
        out[name] = {
            "peak": max(values) if values else None,
            "mean": round(sum(values) / len(values), 2) if values else None,
        }
    return out


def derive(
    samples: list[dict[str, Any]], baseline: dict[str, Any] | None, results: dict[str, Any], agents: int | None = None
) -> dict[str, Any]:
    """Derived figures of one run.

    Args:
        samples: the samples taken during the run (``t`` ≥ 0), oldest first, with ``cpu_s``.
        baseline: the last sample before the load began (idle server), or None.
        results: the run's results document (totals, intervals, duration).
        agents: how many agents to extrapolate to (default: 10 × the peak of active agents).

    Returns:
        ``{"cpu_seconds", "cpu_seconds_per_1k_calls", "baseline_rss_bytes",
        "rss_per_active_session_bytes", "peak_active_agents", "calls_per_agent_s", "startup",
        "steady_state_s", "extrapolation"}``; a figure without the data it needs is None. When the run
        opened its first sessions in a window of its own (see ``startup_end``), ``startup`` holds that
        window's seconds, sessions, calls and CPU seconds, and the CPU and call figures (per call, per
        agent-second, the extrapolation) are the steady state's after it: a stdio target spawns a
        process per session, whose start-up cost says nothing about the cost of a call.
    """
    calls = (results.get("totals") or {}).get("calls") or 0
    intervals = results.get("intervals") or []
    start = baseline if baseline is not None else (samples[0] if samples else None)
    cpu_s = samples[-1]["cpu_s"] - start["cpu_s"] if samples and start is not None else None
    peak_agents = max((iv.get("active_agents") or 0 for iv in intervals), default=0)
    startup = None
    steady_from = 0.0  # run time the steady state begins (the end of start-up, when set apart)
    end = startup_end(intervals)
    # the idle baseline stands for the CPU at the run's start, when no sample was taken before the end
    points = ([{"t": 0.0, "cpu_s": start["cpu_s"]}] if start is not None else []) + samples
    at_end = cpu_at(points, end) if end is not None and cpu_s is not None else None
    if at_end is not None and start is not None and end is not None:  # (at_end needs both)
        # Start-up (spawning stdio servers, initialize) apart: the per-call figures are the steady state's.
        startup_cpu = max(0.0, at_end - start["cpu_s"])
        before = [iv for iv in intervals if iv["t"] <= end]
        startup = {
            "seconds": round(end, 3),
            "sessions": sum(iv.get("sessions_started") or 0 for iv in before),
            "calls": sum(iv.get("calls") or 0 for iv in before),
            "cpu_seconds": round(startup_cpu, 3),
        }
        calls -= startup["calls"]
        cpu_s = max(0.0, cpu_s - startup_cpu)
        intervals = [iv for iv in intervals if iv["t"] > end]
        steady_from = end
    agent_s, last_t = 0.0, steady_from
    for iv in intervals:
        agent_s += (iv.get("active_agents") or 0) * max(0.0, iv["t"] - last_t)
        last_t = iv["t"]
    base_rss = baseline["rss_bytes"] if baseline is not None else None
    peak_rss = max((s["rss_bytes"] for s in samples if s.get("rss_bytes") is not None), default=None)
    per_session = None
    if peak_rss is not None and peak_agents:
        per_session = max(0.0, (peak_rss - (base_rss or 0)) / peak_agents)
    cpu_per_call = cpu_s / calls if cpu_s is not None and calls else None
    calls_per_agent_s = calls / agent_s if agent_s > 0 else None
    derived: dict[str, Any] = {
        "cpu_seconds": None if cpu_s is None else round(cpu_s, 3),
        "cpu_seconds_per_1k_calls": None if cpu_per_call is None else round(cpu_per_call * 1000, 4),
        "baseline_rss_bytes": base_rss,
        "rss_per_active_session_bytes": None if per_session is None else round(per_session),
        "peak_active_agents": peak_agents,
        "calls_per_agent_s": None if calls_per_agent_s is None else round(calls_per_agent_s, 4),
    }
    derived["startup"] = startup
    derived["steady_state_s"] = round(last_t - steady_from, 3) if startup is not None else None
    derived["extrapolation"] = extrapolate(
        agents or 10 * peak_agents, cpu_per_call, calls_per_agent_s, base_rss or 0, per_session
    )
    return derived


def extrapolate(
    agents: int,
    cpu_per_call: float | None,
    calls_per_agent_s: float | None,
    base_rss: float,
    rss_per_session: float | None,
) -> dict[str, Any] | None:
    """Cores and memory for ``agents`` agents, linear in calls and in sessions; None without data."""
    if not agents or cpu_per_call is None or calls_per_agent_s is None or rss_per_session is None:
        return None
    calls_per_s = calls_per_agent_s * agents
    cores = cpu_per_call * calls_per_s
    memory = base_rss + rss_per_session * agents
    return {
        "agents": agents,
        "calls_per_s": round(calls_per_s, 1),
        "cores": round(cores, 2),
        "memory_bytes": round(memory),
        "memory_gib": round(memory / GIB, 2),
        "statement": (
            f"to serve {agents:,} agents at this mix (≈ {calls_per_s:,.0f} calls/s) you need about "
            f"{cores:.1f} cores and {memory / GIB:.1f} GiB"
        ),
        "assumptions": list(ASSUMPTIONS),
    }


def startup_end(intervals: list[dict[str, Any]]) -> float | None:
    """The end (``t``) of the run's start-up: the leading intervals in which sessions were opened (and
    those before the first one opened, when spawning a server takes longer than an interval).

    None when there is no such window, or no steady state after it (sessions opened in every
    interval: open profiles, whose every arrival is a new session, or a run shorter than its start-up).
    """
    end, opened = None, False
    for i, iv in enumerate(intervals):
        if iv.get("sessions_started"):
            opened = True
        elif opened or iv.get("calls"):
            if not opened or not any(later.get("calls") for later in intervals[i:]):
                return None
            return end
        end = iv["t"]  # (intervals before the first session opened, a slow spawn, are start-up too)
    return None


def cpu_at(samples: list[dict[str, Any]], t: float) -> float | None:
    """The cumulative ``cpu_s`` at run time ``t``, interpolated between the samples around it."""
    before = [s for s in samples if s["t"] <= t]
    after = [s for s in samples if s["t"] > t]
    if not before or not after:
        return None
    a, b = before[-1], after[0]
    cpu: float = a["cpu_s"]
    if b["t"] == a["t"]:
        return cpu
    later: float = b["cpu_s"]
    share: float = (t - a["t"]) / (b["t"] - a["t"])
    return cpu + (later - cpu) * share
