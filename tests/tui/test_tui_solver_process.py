"""The solver's child process: results, progress, cancel, a stubborn solver, a C++ abort."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_fakes import built

from capdsl.tui.solver_process import SolverCrashed, SolverFailed, SolverProcess, portable


@pytest.fixture
def plan() -> Any:
    p = built().plan
    assert p is not None
    return p


@pytest.fixture
def process(request: pytest.FixtureRequest) -> Iterator[SolverProcess]:
    proc = SolverProcess(
        f"tui_fakes:{request.param}", grace=1.0, extra_path=[str(Path(__file__).parent)]
    )
    yield proc
    proc.close()


def test_portable_plans_pickle(plan: Any) -> None:
    import pickle

    with pytest.raises((AttributeError, pickle.PicklingError, TypeError)):
        pickle.dumps(plan)  # the scenario rebuilder is a closure
    copy = pickle.loads(pickle.dumps(portable(plan)))
    assert copy.model_dump() == plan.model_dump()
    assert plan.variant("aggressive").scenario == "aggressive"  # the original keeps it


@pytest.mark.parametrize("process", ["child_solve"], indirect=True)
def test_solves_in_the_child_and_streams_progress(process: SolverProcess, plan: Any) -> None:
    seen: list[Any] = []
    solution = process.solve(plan, on_progress=seen.append, stop=threading.Event(), time_limit=1)
    assert solution.status == "optimal" and solution.totals is not None
    assert [(p.objective, p.bound, p.gap) for p in seen] == [(123.5, 100.0, 0.19)]
    pid = process.pid
    assert pid is not None and pid != os.getpid()
    assert os.getsid(pid) != os.getsid(0), "its own session: the terminal's ctrl+c is the TUI's"
    # the child is reused: a second solve pays no start-up
    again = process.solve(plan, on_progress=None, stop=threading.Event())
    assert again.totals == solution.totals and process.pid == pid


@pytest.mark.parametrize("process", ["child_slow"], indirect=True)
def test_cancel_returns_the_best_so_far(process: SolverProcess, plan: Any) -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    solution = process.solve(plan, on_progress=None, stop=stop)
    assert solution.status == "feasible"
    assert time.monotonic() - t0 < 5
    # the stop is per solve: the next one runs until its own stop
    stop2 = threading.Event()
    threading.Timer(0.3, stop2.set).start()
    assert process.solve(plan, on_progress=None, stop=stop2).status == "feasible"


@pytest.mark.parametrize("process", ["child_slow"], indirect=True)
def test_a_stop_sent_before_the_child_started_holds(process: SolverProcess, plan: Any) -> None:
    # Cancelled at once, on a cold child: the stop arrives right behind the solve, while the
    # child is still importing. It must reach that solve (not be cleared as it starts), and
    # the start-up must not count against the 1 s grace.
    stop = threading.Event()
    stop.set()
    solution = process.solve(plan, on_progress=None, stop=stop)
    assert solution.status == "feasible", solution.message
    assert process.pid is not None, "the child was not terminated"


@pytest.mark.parametrize("process", ["child_stubborn"], indirect=True)
def test_a_solver_that_ignores_stop_is_terminated(process: SolverProcess, plan: Any) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    solution = process.solve(plan, on_progress=None, stop=stop)
    assert solution.status == "unknown"
    assert "terminated" in solution.message
    assert process.pid is None


@pytest.mark.parametrize("process", ["child_abort"], indirect=True)
def test_a_cpp_abort_is_an_exception_with_the_log_tail(process: SolverProcess, plan: Any) -> None:
    with pytest.raises(SolverCrashed) as info:
        process.solve(plan, on_progress=None, stop=threading.Event())
    message = str(info.value)
    assert "SIGABRT" in message
    assert "Check failed: heuristics.fixed_search != nullptr" in message
    # a new child is started for the next solve
    with pytest.raises(SolverCrashed):
        process.solve(plan, on_progress=None, stop=threading.Event())


def test_close_while_solving_ends_the_solve(plan: Any) -> None:
    process = SolverProcess("tui_fakes:child_stubborn", extra_path=[str(Path(__file__).parent)])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            process.solve(plan, on_progress=None, stop=threading.Event())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.0)
    pid = process.pid
    assert pid is not None
    process.close()
    worker.join(10)
    assert not worker.is_alive()
    assert errors and isinstance(errors[0], SolverCrashed)


@pytest.mark.parametrize("process", ["child_raise"], indirect=True)
def test_an_exception_in_the_child_comes_back_with_its_traceback(
    process: SolverProcess, plan: Any
) -> None:
    with pytest.raises(SolverFailed) as info:
        process.solve(plan, on_progress=None, stop=threading.Event())
    assert info.value.args[0] == "ValueError: the model has no variables (fake)"
    assert "child_raise" in info.value.child_traceback
