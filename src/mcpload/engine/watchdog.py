"""The last guard of "a run always ends": a thread that watches the event loop and breaks a stall.

Agents, templates and the clock share one thread. The engine never spins (agents back off, templates
have a budget), but a Python agent can: ``while True: pass`` never gives the loop back, so neither the
run's end nor Ctrl-C nor SIGTERM (whose handlers run on the loop) can act. The watchdog sees it from
its own thread: the loop beats every ``BEAT_S``; when it has not beaten for ``STALL_S`` while the run
is past its end (or a stop was asked for), it halts the agents (``SharedRunState.halted``: each leaves at
its next step) and raises ``Stalled`` in the stalled code (``PyThreadState_SetAsyncExc``, at its next
bytecode): the agent ends, counted, and the loop runs the stop. If the loop stays stalled anyway (the
agent swallows the exception, or is stuck inside C code), after ``HARD_EXIT_S`` (or a third signal) the
process exits: what the interval log already holds is kept, and the line says so.

Signals go through ``signal.signal`` rather than the loop's handlers, so that they are seen even while
the loop is stalled; they hand the stop to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from mcpload import exit_codes

BEAT_S = 0.1
STALL_S = 2.0  # the loop has not run for so long: stalled
HARD_EXIT_S = 10.0  # stalled so long after the stop was due, the process exits
EXIT_CODE = exit_codes.INTERRUPTED

_clock = time.perf_counter


class Stalled(BaseException):
    """Raised in code that stalled the event loop past the end of the run (a ``BaseException``, so that
    an agent's ``except Exception`` does not swallow it)."""


class Watchdog:
    """Watches the event loop of one run.

    Args:
        halt: called from the watchdog's thread when it breaks a stall (sets ``SharedRunState.halted``).
        note: a line for the user when the process must exit (where the intervals are).
    """

    def __init__(self, halt: Callable[[], None] | None = None, note: str = "") -> None:
        self._halt = halt
        self._note = note
        self._loop: Any = None
        self._thread_id = 0
        self._beat = _clock()
        self._due: float | None = None  # when a stalled loop starts to count as a stall to break
        self._fired_at = 0.0
        self.fired = 0
        self._signals = 0
        self._previous: dict[int, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the run's side -----------------------------------------------------------------------

    def start(self, loop: Any) -> None:
        """Begin watching ``loop`` (call from its thread)."""
        self._loop = loop
        self._thread_id = threading.get_ident()
        self._beat = _clock()
        loop.call_soon(self._tick)
        self._thread = threading.Thread(target=self._watch, name="mcpload-watchdog", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching and give back the signal handlers."""
        self._stop.set()
        self._due = None
        for sig, previous in self._previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, previous)
        self._previous.clear()

    def due_at(self, when: float | None) -> None:
        """From ``when`` (a ``perf_counter`` time) on, a stalled loop is broken; None: never (the load
        has ended, the results are being built: long work there is not a stall)."""
        self._due = when

    def handle_signals(self, on_stop: Callable[[], None], signals: tuple[int, ...]) -> None:
        """Route ``signals`` to ``on_stop`` on the loop, and to the watchdog when the loop is stalled."""

        def handler(signum: int, frame: Any) -> None:
            self._signals += 1
            now = _clock()
            if self._due is None or self._due > now:
                self._due = now
            self._loop.call_soon_threadsafe(on_stop)
            stalled = now - self._beat > STALL_S
            if stalled and self._signals >= 3:
                self._exit("stopped at once by a third signal while an agent blocks the event loop")
            if stalled and self._signals >= 2:
                self._halted(now)
                raise Stalled  # we are in the stalled code itself: end it here

        for sig in signals:
            with contextlib.suppress(ValueError, OSError):  # not the main thread
                self._previous[sig] = signal.signal(sig, handler)

    # --- the watching -------------------------------------------------------------------------

    def _tick(self) -> None:
        self._beat = _clock()
        if not self._stop.is_set():
            self._loop.call_later(BEAT_S, self._tick)

    def _watch(self) -> None:
        while not self._stop.wait(BEAT_S):
            due, now = self._due, _clock()
            if due is None or now < due or now - self._beat < STALL_S:
                continue
            if now - max(due, self._beat) > HARD_EXIT_S:
                self._exit(f"an agent has blocked the event loop for over {HARD_EXIT_S:g} s past the end of the run")
            if now - self._fired_at >= STALL_S:
                self._break(now)

    def _halted(self, now: float) -> None:
        self.fired += 1
        self._fired_at = now
        if self._halt is not None:
            self._halt()

    def _break(self, now: float) -> None:
        self._halted(now)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id), ctypes.py_object(Stalled))

    def _exit(self, why: str) -> None:
        sys.stderr.write(f"mcpload: {why}: exiting{self._note}\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE)
