"""The recorder: every call outcome, session, conversation and arrival of a run, counted and timed
per interval and for the whole run. One per event loop, no locks; ``record`` is the hot path.
"""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

from mcpload.metrics.counters import Counters, OpStats, merged
from mcpload.metrics.histogram import (
    EXACT_BELOW_US,
    HIGHEST_US,
    LOWEST_US,
    STANDARD_PERCENTILES,
    SUB_BUCKET_BITS,
    Timing,
)
from mcpload.metrics.semconv import SemconvTimings, attempt_histograms, error_type
from mcpload.metrics.summary import operation_summary, run_summary
from mcpload.outcome import OK, Outcome

MAX_MESSAGES = 200  # distinct (kind, operation, message) triples kept; later ones count as "other"
MAX_MESSAGE_CHARS = 200
MAX_OPERATIONS = 1000  # distinct operations timed; later ones share "<method> (other)"
OTHER = "other"
FAILURE_PERCENTILES = (10.0, 50.0, 90.0, 99.0)  # a cliff is a narrow p10 … p90


class Recorder:
    """Counts and times everything a run measures, per interval and cumulatively.

    The runner owns one and sets the gauges ``active_agents`` and ``target_agents``; agents call
    ``record`` per call and the session/conversation hooks; open profiles call ``arrival``.
    """

    def __init__(self) -> None:
        self.active_agents = 0
        self.target_agents = 0
        self._all = Timing()  # first attempts of every operation (fed by the per-op timings)
        self._retries_all = Timing()
        self._corrected = Timing()  # open models: latency from the intended start
        self._setup = Timing()
        self._late = Timing()
        self._ops: dict[str, OpStats] = {}
        self._retry_ops: dict[str, OpStats] = {}
        self._now = Counters()  # this interval
        self._run = Counters()  # earlier intervals
        self._messages: dict[tuple[str, str, str], int] = {}
        # latency of failed calls per outcome kind (findings: a timeout cliff); not in out_of_range,
        # as each of these values is also in an operation's timing
        self._failed: dict[str, Timing] = {}
        self.semconv = SemconvTimings()  # OpenTelemetry's MCP metrics: failures by error.type, session lifetimes
        self._last_t = 0.0
        self._extras: dict[str, dict[str, float]] = {}  # per operation: tasks, progress, cancelled (note)

    # --- the hot path -------------------------------------------------------------------------

    def record(self, outcome: Outcome, *, retry: bool = False, intended_start: float | None = None) -> None:
        """Count and time one call.

        Args:
            outcome: the call's outcome.
            retry: True when the call repeats a failed one; timed apart from first attempts.
            intended_start: open models: the ``perf_counter`` time the call was scheduled for; its
                latency from then (coordinated-omission corrected, as wrk2) is kept apart.
        """
        op = outcome.operation
        table = self._retry_ops if retry else self._ops
        stats = table.get(op)
        if stats is None:
            if len(table) >= MAX_OPERATIONS:  # bounded, whatever names scripted agents make up
                op = f"{outcome.method} ({OTHER})"
                stats = table.get(op)
            if stats is None:
                stats = table[op] = OpStats(self._retries_all if retry else self._all)
        timing = stats.timing
        # Timing.add, inlined: this runs 20k+ times a second.
        us = int(outcome.latency * 1e6 + 0.5)
        if us < LOWEST_US or us > HIGHEST_US:
            timing.out_of_range += 1
            us = LOWEST_US if us < LOWEST_US else HIGHEST_US
        index = us
        if us >= EXACT_BELOW_US:
            shift = us.bit_length() - SUB_BUCKET_BITS
            index = (shift << (SUB_BUCKET_BITS - 1)) + (us >> shift)
        pending = timing.pending
        pending[index] = pending.get(index, 0) + 1
        timing.pending_sum += us
        kind = outcome.kind
        kinds = stats.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        now = self._now
        now.bytes_sent += outcome.bytes_sent
        now.bytes_received += outcome.bytes_received
        if kind != OK:
            self._count_message(kind, op, _message(outcome))
            failed = self._failed.get(kind)
            if failed is None:
                failed = self._failed[kind] = Timing()
            failed.add(outcome.latency)
            self.semconv.call_failed(op, error_type(outcome), outcome.latency)
        if intended_start is not None:
            self._corrected.add(outcome.started + outcome.latency - intended_start)

    def _count_message(self, kind: str, op: str, message: str, n: int = 1) -> None:
        key = (kind, op, message)
        messages = self._messages
        if key in messages:
            messages[key] += n
        elif len(messages) < MAX_MESSAGES:
            messages[key] = n
        else:
            # Bounded memory when a server puts ids or timestamps in every message.
            other = (kind, op, OTHER)
            messages[other] = messages.get(other, 0) + n

    def note(self, op: str, key: str, value: float = 1) -> None:
        """Add ``value`` to a run-wide figure of operation ``op`` beyond its calls (``task_polls``,
        ``progress_notifications``, ``cancelled`` …); a key ending in ``_max`` keeps the largest value.
        Only steps that ask for tasks, progress or cancellation note anything."""
        table = self._extras.get(op)
        if table is None:
            if len(self._extras) >= MAX_OPERATIONS:
                return
            table = self._extras[op] = {}
        if key.endswith("_max"):
            table[key] = max(table.get(key, value), value)
        else:
            table[key] = table.get(key, 0) + value

    def _merge_extras(self, extras: dict[str, dict[str, float]]) -> None:
        for op, table in extras.items():
            for key, value in table.items():
                self.note(op, key, value)

    # --- sessions, conversations, arrivals ----------------------------------------------------

    def session_opened(self, ok: bool, setup_s: float, kind: str | None = None) -> None:
        """Count one session attempt; the setup time (initialize … ready) is timed when ``ok``; a failed
        attempt is a session that ended with the error ``kind`` (its outcome kind) after ``setup_s``."""
        self._now.sessions_started += 1
        if ok:
            self._setup.add(setup_s)
        else:
            self._now.sessions_failed += 1
            if kind is not None:
                self.semconv.session_ended(setup_s, kind)

    def session_closed(self, lifetime_s: float | None = None) -> None:
        """Count one session closed (completed); ``lifetime_s``: from its start to its close."""
        self._now.sessions_closed += 1
        if lifetime_s is not None:
            self.semconv.session_ended(lifetime_s)

    def conversation_finished(self, ok: bool, tokens: int = 0, wasted_tokens: int = 0) -> None:
        """Count one finished conversation and the model tokens it used (and wasted on failures)."""
        now = self._now
        if ok:
            now.conversations_ok += 1
        else:
            now.conversations_failed += 1
        now.tokens += tokens
        now.wasted_tokens += wasted_tokens

    def arrival(self, started: bool, late_s: float = 0.0) -> None:
        """Count one scheduled arrival of an open profile: started (``late_s`` after its time) or dropped."""
        self._now.arrivals += 1
        if started:
            # On time (0) is the usual case, not an out-of-range value: floor it at 1 µs.
            self._late.add(max(late_s, 1e-6))
        else:
            self._now.dropped += 1

    # --- reading --------------------------------------------------------------------------------

    def _timings(self) -> list[Timing]:
        # Children first, so that their flush reaches the parents before the parents are read.
        out = [s.timing for s in self._ops.values()]
        out += [s.timing for s in self._retry_ops.values()]
        out += [self._all, self._retries_all, self._corrected, self._setup, self._late]
        return out

    def _flush(self) -> None:
        for timing in self._timings():
            timing.flush()
        for timing in self._failed.values():
            timing.flush()
        self.semconv.flush()

    @property
    def out_of_range(self) -> int:
        """Values clamped into 1 µs … 1 h (or refused by hdrh) over the run, all timings together."""
        # Each timing counts its own events (clamped on record, refused on flush): no double count.
        return sum(t.out_of_range for t in self._timings())

    def interval(self, t: float) -> dict[str, Any]:
        """Cut the current interval and return its aggregate.

        Args:
            t: seconds since the run started, now; the interval runs from the previous cut (or 0).

        Returns:
            The interval dict described in docs/results-format.md.
        """
        self._flush()
        length = t - self._last_t
        calls = ok = retries = 0
        errors: dict[str, int] = {}
        ops: dict[str, dict[str, Any]] = {}
        for name in sorted(self._ops.keys() | self._retry_ops.keys()):
            first, again = self._ops.get(name), self._retry_ops.get(name)
            kinds = merged(first.kinds if first else {}, again.kinds if again else {})
            op_calls = sum(kinds.values())
            if not op_calls:
                continue
            op_ok = kinds.get(OK, 0)
            latency = first.timing.summary((95.0,), interval_only=True) if first else None
            ops[name] = {
                "calls": op_calls,
                "ok": op_ok,
                "failed": op_calls - op_ok,
                "p95_ms": latency["p95"] if latency else None,
            }
            calls += op_calls
            ok += op_ok
            retries += sum(again.kinds.values()) if again else 0
            for kind, n in kinds.items():
                if kind != OK:
                    errors[kind] = errors.get(kind, 0) + n
        latency = self._all.summary((50.0, 95.0, 99.0), interval_only=True) or {}
        now = self._now
        out: dict[str, Any] = {
            "t": round(t, 3),
            "calls": calls,
            "ok": ok,
            "failed": calls - ok,
            "errors": errors,
            "retries": retries,
            "calls_per_s": round(calls / length, 3) if length > 0 else None,
            "p50_ms": latency.get("p50"),
            "p95_ms": latency.get("p95"),
            "p99_ms": latency.get("p99"),
            "max_ms": latency.get("max"),
            "active_agents": self.active_agents,
            "target_agents": self.target_agents,
            "sessions_started": now.sessions_started,
            "sessions_failed": now.sessions_failed,
            "conversations_ok": now.conversations_ok,
            "conversations_failed": now.conversations_failed,
            "arrivals": now.arrivals,
            "dropped": now.dropped,
            "bytes_sent": now.bytes_sent,
            "bytes_received": now.bytes_received,
            "ops": ops,
        }
        self._cut(t)
        return out

    def _cut(self, t: float) -> None:
        for timing in (*self._timings(), *self._failed.values()):
            timing.cut()
        for stats in (*self._ops.values(), *self._retry_ops.values()):
            if stats.kinds:
                stats.total_kinds = stats.run_kinds()
                stats.kinds = {}
        self._run.add(self._now)
        self._now = Counters()
        self._last_t = t

    def snapshot(self, elapsed_s: float | None = None, *, percentiles: tuple[float, ...] = ()) -> dict[str, Any]:
        """The cumulative summary of the run so far (the results document without meta,
        intervals, thresholds and histograms).

        Args:
            elapsed_s: run time for the rates; the ``t`` of the last interval cut when None.
            percentiles: extra latency percentiles wanted (thresholds with ``p(97.5)``), keyed as
                ``histogram.percentile_key`` says.

        Returns:
            A plain dict, see docs/results-format.md.
        """
        self._flush()
        elapsed = self._last_t if elapsed_s is None else elapsed_s
        wanted = tuple(dict.fromkeys((*STANDARD_PERCENTILES, *percentiles)))
        operations: dict[str, dict[str, Any]] = {}
        for name in sorted(self._ops.keys() | self._retry_ops.keys()):
            first, again = self._ops.get(name), self._retry_ops.get(name)
            operations[name] = operation_summary(
                first.run_kinds() if first else {},
                again.run_kinds() if again else {},
                first.timing.summary(wanted) if first else None,
                again.timing.summary() if again else None,
                elapsed,
            )
        summary = run_summary(
            operations=operations,
            counters=self._run.plus(self._now),
            elapsed_s=elapsed,
            latency=self._all.summary(wanted),
            corrected=self._corrected.summary(wanted),
            retry_latency=self._retries_all.summary(),
            setup=self._setup.summary((50.0, 95.0)),
            late=self._late.summary((99.0,)),
            messages=self._messages,
            out_of_range=self.out_of_range,
        )
        if self._extras:
            summary["operation_extras"] = {op: _extras_summary(t) for op, t in sorted(self._extras.items())}
        if self._failed:
            summary["failure_latency_ms"] = {
                kind: timing.summary(FAILURE_PERCENTILES) for kind, timing in sorted(self._failed.items())
            }
        return summary

    def attempt_histograms(self) -> dict[str, tuple[list[HdrHistogram], int]]:
        """Every request of each operation, first attempts and retries: ``{op: ([histograms], sum µs)}``
        (the OTLP semantic-conventions output's durations)."""
        return attempt_histograms(self._ops, self._retry_ops)

    def histograms(self) -> dict[str, HdrHistogram]:
        """Run-so-far HdrHistograms (µs): first attempts per operation, ``__all__``, and
        ``__retries__`` / ``__corrected__`` when they hold data."""
        self._flush()
        out: dict[str, HdrHistogram] = {name: stats.timing.cumulative() for name, stats in sorted(self._ops.items())}
        out["__all__"] = self._all.cumulative()
        if self._retries_all.count:
            out["__retries__"] = self._retries_all.cumulative()
        if self._corrected.count:
            out["__corrected__"] = self._corrected.cumulative()
        return out

    # --- workers ------------------------------------------------------------------------------

    def drain(self) -> dict[str, Any]:
        """Take everything recorded since the last drain, as plain data (JSON- and pickle-safe).

        A worker process (or a Ray actor) drains its recorder once a second and ships the result to
        the coordinator, which ``absorb``s it: latencies travel as histogram bucket counts, so the
        coordinator's histograms are exactly those of a single process that recorded every call. A
        drained recorder must not be read (no ``interval``, ``snapshot``): reading would move values
        out of the buffers that ``drain`` takes.
        """
        out: dict[str, Any] = {"active": self.active_agents, "target": self.target_agents}
        for key, table in (("ops", self._ops), ("retry_ops", self._retry_ops)):
            ops: dict[str, dict[str, Any]] = {}
            for name, stats in table.items():
                timing = stats.timing.drain()
                if timing is not None or stats.kinds:
                    ops[name] = {"t": timing, "k": stats.kinds}
                    stats.kinds = {}
            out[key] = ops
        for key in ("_corrected", "_setup", "_late"):
            drained = getattr(self, key).drain()
            if drained is not None:
                out[key[1:]] = drained
        now = self._now
        failed = {kind: drained for kind, t in self._failed.items() if (drained := t.drain()) is not None}
        if failed:
            out["failed"] = failed
        semconv = self.semconv.drain()
        if semconv:
            out["semconv"] = semconv
        out["counters"] = {name: getattr(now, name) for name in Counters.__slots__ if getattr(now, name)}
        self._now = Counters()
        out["messages"] = [[kind, op, message, n] for (kind, op, message), n in self._messages.items()]
        self._messages = {}
        if self._extras:
            out["extras"], self._extras = self._extras, {}
        return out

    def absorb(self, drained: dict[str, Any]) -> None:
        """Add what a worker's ``drain`` took to this recorder's current interval (gauges excepted:
        the coordinator sums the workers' latest ``active``/``target`` itself)."""
        for key, table, parent in (("ops", self._ops, self._all), ("retry_ops", self._retry_ops, self._retries_all)):
            for name, part in drained.get(key, {}).items():
                stats = table.get(name)
                if stats is None:
                    stats = table[name] = OpStats(parent)
                if part["t"] is not None:
                    stats.timing.absorb(part["t"])
                kinds = stats.kinds
                for kind, n in part["k"].items():
                    kinds[kind] = kinds.get(kind, 0) + n
        for key in ("corrected", "setup", "late"):
            if key in drained:
                getattr(self, f"_{key}").absorb(drained[key])
        for kind, part in drained.get("failed", {}).items():
            timing = self._failed.get(kind)
            if timing is None:
                timing = self._failed[kind] = Timing()
            timing.absorb(part)
        if "semconv" in drained:
            self.semconv.absorb(drained["semconv"])
        now = self._now
        for name, n in drained.get("counters", {}).items():
            setattr(now, name, getattr(now, name) + n)
        for kind, op, message, n in drained.get("messages", ()):
            self._count_message(kind, op, message, n)
        self._merge_extras(drained.get("extras", {}))

    # --- merging ------------------------------------------------------------------------------

    def add(self, other: Recorder) -> None:
        """Merge another recorder into this one exactly (histograms, counters, messages, gauges).

        Interval parts merge into the current interval, earlier parts into the run; gauges add up
        (each recorder measured its own share of the agents). Only error messages are not exact
        once this recorder's message table is full: the excess counts as "other".
        """
        other._flush()
        self._flush()
        for mine, theirs, parent in (
            (self._ops, other._ops, self._all),
            (self._retry_ops, other._retry_ops, self._retries_all),
        ):
            for name, src in theirs.items():
                dst = mine.get(name)
                if dst is None:
                    dst = mine[name] = OpStats(parent)
                dst.timing.merge(src.timing)
                dst.kinds = merged(dst.kinds, src.kinds)
                dst.total_kinds = merged(dst.total_kinds, src.total_kinds)
        for attr in ("_all", "_retries_all", "_corrected", "_setup", "_late"):
            getattr(self, attr).merge(getattr(other, attr))
        for kind, timing in other._failed.items():
            failed = self._failed.get(kind)
            if failed is None:
                failed = self._failed[kind] = Timing()
            failed.merge(timing)
        self.semconv.merge(other.semconv)
        self._now.add(other._now)
        self._run.add(other._run)
        for (kind, op, message), n in other._messages.items():
            self._count_message(kind, op, message, n)
        self._merge_extras(other._extras)
        self.active_agents += other.active_agents
        self.target_agents += other.target_agents
        self._last_t = max(self._last_t, other._last_t)


def _message(outcome: Outcome) -> str:
    """The error text of a failed call, without its kind (``HTTP 503``, ``code -32602 bad arg``)."""
    parts = []
    if outcome.http_status is not None:
        parts.append(f"HTTP {outcome.http_status}")
    if outcome.error_code is not None:
        parts.append(f"code {outcome.error_code}")
    if outcome.error_message:
        # one line: tool errors and tracebacks come with newlines (cut first: messages can be long)
        parts.append(" ".join(outcome.error_message[: MAX_MESSAGE_CHARS * 2].split()))
    return " ".join(parts)[:MAX_MESSAGE_CHARS]


def _extras_summary(table: dict[str, float]) -> dict[str, float]:
    """The noted figures of one operation, with means where a sum and its count were noted."""
    out = {key: round(value, 3) for key, value in sorted(table.items()) if not key.endswith("_sum")}
    firsts = table.get("first_progress_calls")
    if firsts:
        out["first_progress_ms_mean"] = round(table.get("first_progress_ms_sum", 0.0) / firsts, 3)
    tasks = table.get("task_calls")
    if tasks:
        out["task_polls_mean"] = round(table.get("task_polls", 0) / tasks, 3)
    return out
