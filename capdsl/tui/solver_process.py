"""Solving in a child process, so the solver can never take the TUI down.

OR-Tools is C++: a failed internal CHECK aborts the whole process, and its log lines go
straight to file descriptors 1 and 2, over the screen. So the TUI solves in one
long-lived child process (``python -m capdsl.tui.solver_process``, started on first use
and reused, so a warm re-solve pays no start-up): requests go over one pipe, progress and
the verified ``Solution`` come back pickled over another. The child's stdout and stderr
go to a log file whose tail is shown when it dies. It runs in its own session, so the
terminal's ctrl+c stays with the TUI.

Cancelling sends ``stop``: the solver returns its best plan so far; a solver that does
not stop within ``grace`` seconds of starting to solve is terminated (a child still
starting up, importing OR-Tools on a busy machine, gets ``startup`` seconds more). The
app calls this from its thread worker, exactly like an in-process solve (the
``Backend.solve`` shape).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution

SUPPORTED = os.name == "posix"  # pass_fds and signals; elsewhere the app solves in-process


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

    def __init__(
        self,
        target: str = "capdsl.api:solve_plan",
        *,
        grace: float = 5.0,
        startup: float = 60.0,
        extra_path: Sequence[str] = (),
    ) -> None:
        self.target = target
        self.grace = grace
        self.startup = startup
        self.extra_path = list(extra_path)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._log: Path | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the child now (optional: ``solve`` does it on first use)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._alive():
            return
        self._forget()
        fd, log = tempfile.mkstemp(prefix="capdsl-solver-", suffix=".log")
        self._log = Path(log)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "capdsl.tui.solver_process",
                    self.target,
                    str(req_r),
                    str(resp_w),
                    *self.extra_path,
                ],
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                pass_fds=(req_r, resp_w),
                start_new_session=True,
            )
        finally:
            os.close(fd)
            os.close(req_r)
            os.close(resp_w)
        self._send = Connection(req_w, readable=False)
        self._recv = Connection(resp_r, writable=False)

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
            assert self._send is not None and self._recv is not None and self._proc is not None
            try:
                self._send.send(("solve", portable(plan), kwargs))
            except OSError:
                raise SolverCrashed(self._crash_message()) from None
            stopped_at: float | None = None
            started_at: float | None = None  # when the child began this solve
            while True:
                if stop.is_set() and stopped_at is None:
                    stopped_at = time.monotonic()
                    with contextlib.suppress(OSError):
                        self._send.send(("stop",))
                if stopped_at is not None:
                    now = time.monotonic()
                    if started_at is not None and now - max(stopped_at, started_at) > self.grace:
                        self._kill()
                        return _stopped(
                            plan,
                            f"the solver did not stop within {self.grace:g} s and was terminated",
                        )
                    if started_at is None and now - stopped_at > self.startup:
                        self._kill()
                        return _stopped(
                            plan,
                            f"the solver process did not start within {self.startup:g} s "
                            "and was terminated",
                        )
                try:
                    ready = self._recv.poll(0.05)
                except OSError:
                    ready = False
                if not ready:
                    if not self._alive():
                        raise SolverCrashed(self._crash_message())
                    continue
                try:
                    kind, *rest = self._recv.recv()
                except (EOFError, OSError):
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._proc.wait(1.0)
                    raise SolverCrashed(self._crash_message()) from None
                if kind == "started":
                    started_at = time.monotonic()
                elif kind == "progress":
                    if on_progress is not None:
                        objective, bound, gap, elapsed = rest
                        on_progress(
                            SimpleNamespace(
                                objective=objective, bound=bound, gap=gap, elapsed_s=elapsed
                            )
                        )
                elif kind == "done":
                    result: Solution = rest[0]
                    return result
                elif kind == "error":
                    name, message, tb = rest
                    raise SolverFailed(f"{name}: {message}", tb)

    def _crash_message(self) -> str:
        code = self._proc.poll() if self._proc is not None else None
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
                text = self._log.read_text(encoding="utf-8", errors="replace")
                tail = "\n".join([ln for ln in text.splitlines() if ln.strip()][-12:])
        self._forget()
        return f"the solver process {how}" + (f":\n{tail}" if tail else "")

    def _kill(self) -> None:
        if self._alive():
            assert self._proc is not None
            self._proc.terminate()
            try:
                self._proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(2.0)
        self._forget()

    def _forget(self) -> None:
        for conn in (self._send, self._recv):
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
        self._send = self._recv = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(1.0)
        self._proc = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.unlink()
        self._log = None

    def close(self) -> None:
        """Stop the child (the app calls this on exit); safe while a solve runs."""
        send = self._send
        if send is not None:
            with contextlib.suppress(OSError):
                send.send(("quit",))
        if self._lock.acquire(timeout=1.0):
            try:
                self._kill()
            finally:
                self._lock.release()
        elif self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # a solve holds the lock: its loop sees the child gone


def _stopped(plan: Plan, message: str) -> Solution:
    from capdsl.solve.solution import Solution

    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status="unknown",
        currency=plan.currency,
        message=message,
    )


# --------------------------------------------------------------------------- the child


def serve(target: str, requests: Connection, responses: Connection) -> None:
    """The child's loop: solve what arrives, report progress, return the solution."""
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    stop = threading.Event()
    inbox: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            responses.send(message)

    def read() -> None:
        while True:
            try:
                message = requests.recv()
            except (EOFError, OSError):
                inbox.put(None)
                stop.set()
                return
            if message[0] == "stop":
                stop.set()
            elif message[0] == "quit":
                stop.set()
                inbox.put(None)
                return
            else:
                # Cleared here, not when the solve is taken from the inbox: a stop sent
                # right behind its solve (while the child was still starting) must hold.
                stop.clear()
                inbox.put(message)

    threading.Thread(target=read, name="requests", daemon=True).start()
    while (message := inbox.get()) is not None:
        _, plan, kwargs = message
        send(("started",))

        def on_progress(p: Any) -> None:
            send(
                (
                    "progress",
                    _num(getattr(p, "objective", None)),
                    _num(getattr(p, "bound", None)),
                    _num(getattr(p, "gap", None)),
                    float(getattr(p, "elapsed_s", 0.0) or 0.0),
                )
            )

        try:
            solution = fn(plan, on_progress=on_progress, stop=stop, **kwargs)
        except Exception as exc:
            send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
        else:
            send(("done", solution))


def _num(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def main(argv: Sequence[str]) -> None:
    target, req_fd, resp_fd, *extra = argv
    sys.path[:0] = extra
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c belongs to the TUI
    serve(target, Connection(int(req_fd), writable=False), Connection(int(resp_fd), readable=False))


if __name__ == "__main__":
    main(sys.argv[1:])
