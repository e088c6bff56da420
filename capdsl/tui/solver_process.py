"""Solving in a child process, so the solver can never take the TUI down.

OR-Tools is C++: a failed internal CHECK aborts the whole process, and its log lines go
straight to file descriptor 2, over the screen. So the TUI solves in one long-lived child
process (spawned on first use, reused for every later solve, so a warm re-solve pays no
start-up): the plan goes over a pipe, progress comes back as small tuples, the verified
``Solution`` comes back pickled. The child's stderr goes to a log file whose tail is
shown when the child dies.

Cancelling sets a shared event the solver polls (it then returns its best plan so far);
a solver that does not stop within ``grace`` seconds is terminated. The app calls this
from its thread worker, exactly like an in-process solve (the ``Backend.solve`` shape).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnProcess
    from multiprocessing.synchronize import Event as MpEvent

    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution


class SolverCrashed(RuntimeError):
    """The solver process died (a C++ abort, killed, out of memory)."""


class SolverFailed(RuntimeError):
    """The solver raised an exception in the child; its traceback is ``child_traceback``."""

    def __init__(self, message: str, child_traceback: str) -> None:
        super().__init__(message)
        self.child_traceback = child_traceback

    def __str__(self) -> str:
        return f"{self.args[0]}\n\n(in the solver process)\n{self.child_traceback}"


def portable(plan: Plan) -> Plan:
    """A copy of ``plan`` that pickles (its scenario rebuilder is a closure)."""
    copy = plan.model_copy()
    copy._variant = None
    return copy


class SolverProcess:
    """One child process that solves plans, one at a time."""

    def __init__(self, target: str = "capdsl.api:solve_plan", *, grace: float = 5.0) -> None:
        self.target = target
        self.grace = grace
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._proc: SpawnProcess | None = None
        self._conn: Connection | None = None
        self._stop: MpEvent | None = None
        self._log: Path | None = None
        # multiprocessing's resource tracker is started with the process's stderr; once
        # Textual runs, sys.stderr is a capture object without a file descriptor, so
        # start the tracker now, while the real stderr is in place
        with contextlib.suppress(Exception):
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> None:
        """Spawn the child now (optional: ``solve`` does it on first use)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._cleanup()
        fd, log = tempfile.mkstemp(prefix="capdsl-solver-", suffix=".log")
        os.close(fd)
        self._log = Path(log)
        with _real_std_streams():
            parent, child = self._ctx.Pipe()
            self._stop = self._ctx.Event()
            self._proc = self._ctx.Process(
                target=_serve, args=(child, self._stop, self.target, log), name="capdsl-solver", daemon=True
            )
            self._proc.start()
        child.close()
        self._conn = parent

    def solve(
        self,
        plan: Plan,
        *,
        on_progress: Callable[[Any], None] | None,
        stop: threading.Event,
        **kwargs: Any,
    ) -> Solution:
        """Solve in the child; blocks the calling (worker) thread, never the UI."""
        with self._lock:
            self._ensure()
            assert self._conn is not None and self._stop is not None and self._proc is not None
            self._stop.clear()
            self._conn.send(("solve", portable(plan), kwargs))
            stopped_at: float | None = None
            while True:
                if stop.is_set() and stopped_at is None:
                    self._stop.set()
                    stopped_at = time.monotonic()
                if stopped_at is not None and time.monotonic() - stopped_at > self.grace:
                    self._kill()
                    return _stopped(plan, f"the solver did not stop within {self.grace:g} s and was terminated")
                try:
                    ready = self._conn.poll(0.05)
                except (EOFError, OSError):
                    ready = False
                if not ready:
                    if not self._proc.is_alive():
                        raise SolverCrashed(self._crash_message())
                    continue
                try:
                    kind, *rest = self._conn.recv()
                except (EOFError, OSError):
                    self._proc.join(1.0)
                    raise SolverCrashed(self._crash_message()) from None
                if kind == "progress":
                    if on_progress is not None:
                        objective, bound, gap, elapsed = rest
                        on_progress(SimpleNamespace(objective=objective, bound=bound, gap=gap, elapsed_s=elapsed))
                elif kind == "done":
                    result: Solution = rest[0]
                    return result
                elif kind == "error":
                    name, message, tb = rest
                    raise SolverFailed(f"{name}: {message}", tb)

    def _crash_message(self) -> str:
        proc = self._proc
        code = proc.exitcode if proc is not None else None
        how = "died"
        if code is not None and code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        elif code is not None:
            how = f"exited with code {code}"
        tail = ""
        if self._log is not None:
            with contextlib.suppress(OSError):
                lines = [ln for ln in self._log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
                tail = "\n".join(lines[-12:])
        self._forget()
        return f"the solver process {how}" + (f":\n{tail}" if tail else "")

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(2.0)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(2.0)
        self._forget()

    def _forget(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
        self._proc = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.unlink()
        self._log = None

    def close(self) -> None:
        """Stop the child (the app calls this on exit)."""
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(("quit",))
            self._proc.join(1.0)
        self._kill()


@contextlib.contextmanager
def _real_std_streams() -> Iterator[None]:
    """multiprocessing passes ``sys.stderr.fileno()`` to helper processes; under Textual
    that stream is a capture without a descriptor, so use the real ones meanwhile."""
    saved = sys.stdout, sys.stderr
    try:
        if sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        if sys.__stdout__ is not None:
            sys.stdout = sys.__stdout__
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _stopped(plan: Plan, message: str) -> Solution:
    from capdsl.solve.solution import Solution

    return Solution(plan=plan.name, scenario=plan.scenario, status="unknown", currency=plan.currency,
                    message=message)


# --------------------------------------------------------------------------- the child


def _serve(conn: Connection, stop: MpEvent, target: str, log: str) -> None:
    """The child's loop: solve what arrives, report progress, return the solution."""
    # C++ writes go to fds 1 and 2: keep them off the parent's screen, in the log file
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c belongs to the TUI
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "quit":
            return
        _, plan, kwargs = message

        def on_progress(p: Any) -> None:
            conn.send(("progress", _num(getattr(p, "objective", None)), _num(getattr(p, "bound", None)),
                       _num(getattr(p, "gap", None)), float(getattr(p, "elapsed_s", 0.0) or 0.0)))

        try:
            solution = fn(plan, on_progress=on_progress, stop=stop, **kwargs)
        except Exception as exc:
            conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
        else:
            conn.send(("done", solution))


def _num(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None
