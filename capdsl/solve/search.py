"""Running CP-SAT on a formulation: parameters, time limits, progress, cancellation.

Reproducibility. CP-SAT's parallel portfolio is not deterministic under a wall-clock limit
(which worker finds what first depends on timing). capdsl therefore stops every search on a
*deterministic* time limit (``max_deterministic_time``, CP-SAT's own work counter) derived from
the time limit, and runs several workers only in *interleaved* mode (``interleave_search``:
the portfolio's subsolvers run in fixed-size batches that synchronise in a fixed order); a
single worker is deterministic by itself. Same plan + same seed + same parameters -> the
same search -> the same Solution, under any load and on any machine of the same speed (the
deterministic limits come from ``time_limit x speed``: ``speed.py``; with ``CAPDSL_SPEED``
fixed, on every machine). The time limit is also
set as a wall-clock limit, a safety net with headroom (x5 + 2 s) that only fires on a slow
or loaded machine; ``RunResult.stopped_by`` says which limit ended a search, and only a
wall-clock stop (or ``stop``) can make two runs differ. A proven optimum is reproducible
either way.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from capdsl.solve.formulate import Formulation
from capdsl.solve.progress import Progress

# Deterministic-time units CP-SAT does per wall-clock second on one core of a modest
# machine (measured on the 2-core benchmark box, see benchmarks/RESULTS.md); the
# deterministic limit is time_limit x this, so a search usually ends by it, reproducibly.
DTIME_PER_SECOND = 0.4

# For the decomposition's block models (a few hundred variables, reservations fixed, one
# worker, searched for a few hundredths of a second each): no cutting planes and a light
# presolve. Measured on 64 blocks of the M and L benchmark plans at the same deterministic
# limit: the cuts (hundreds of LP iterations re-solved per cut round) cost more wall time per
# unit of search than anything else and buy a bound the decomposition does not use (its
# bound comes from the monthly LPs); without them the blocks' plans are 2-3% cheaper in less
# wall time (M: 80,872 vs 83,532 in 51 vs 54 ms a block; L: 59,282 vs 59,890 in 42 vs 59 ms).
BLOCK_PARAMS: dict[str, bool | int | float] = {
    "add_cg_cuts": False,
    "add_mir_cuts": False,
    "add_zero_half_cuts": False,
    "add_clique_cuts": False,
    "max_presolve_iterations": 1,
    "cp_model_probing_level": 0,
    "symmetry_level": 0,
}
# A single worker's search is also capped at this many conflicts per second of its time
# limit: CP-SAT's deterministic time misses some searches' work. A chain month of the M
# benchmark with one level a month (seed 3: 69 variables, limit 0.1 s) ran 9,539 conflicts
# in 1.87 s for 0.04 of deterministic time, where the other units of M (seeds 0, 3, 5) and L
# (seed 0) run at most 19,000 per second of their limits; one worker runs 5,000-7,000 a
# second of wall time. Several workers count conflicts together: not capped
CONFLICTS_PER_SECOND = 25_000
# Deterministic time per wall-clock second of one worker on those models with those
# parameters (the LP at every node makes a unit of CP-SAT's work counter cost more wall time
# than in the whole-plan search), measured on the same box: blocks of the M and L plans
# 0.16-0.22, whole months of the L plan 0.12 (of the M plan 0.6-0.9, of the S plan 0.3).
# Values near the lower end are taken, so that a unit rarely runs past its share of the time
# limit.
BLOCK_DTIME_PER_SECOND = 0.17
MONTH_DTIME_PER_SECOND = 0.12


@dataclass
class RunResult:
    status: str  # optimal | feasible | infeasible | unknown | error
    use: dict[tuple[str, str, str, str, int, int], int] = field(default_factory=dict)
    buy: dict[tuple[str, int, int], int] = field(default_factory=dict)
    objective: float | None = None  # money (plan currency), fleet constant included
    bound: float | None = None
    wall_s: float = 0.0
    dtime: float = 0.0
    stopped_by: str = ""  # "optimal", "gap", "deterministic limit", "time limit", "stop"
    message: str = ""
    workers: int = 0
    best_times: list[tuple[float, float, float | None]] = field(
        default_factory=list
    )  # (t, obj, bound)
    # the solver's objective value (model units) and every variable's value, kept only when
    # asked for (``run_model(keep_values=True)``), for ``lean``
    raw_objective: int | None = None
    values: list[int] = field(default_factory=list, repr=False)
    conflicts: int = 0  # CP-SAT's conflicts (deterministic on one worker)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class _Watch(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        form: Formulation,
        on_progress: Callable[[Progress], None] | None,
        stop: threading.Event | None,
        started: float,
    ) -> None:
        super().__init__()
        self.form = form
        self.on_progress = on_progress
        self.stop = stop
        self.started = started
        self.trace: list[tuple[float, float, float | None]] = []

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        obj = self.form.to_money(self.objective_value)
        bound = self.form.to_money(self.best_objective_bound)
        gap = relative_gap(obj, bound)
        self.trace.append((elapsed, obj, bound))
        if self.on_progress is not None:
            self.on_progress(Progress(obj, bound, gap, elapsed))
        if self.stop is not None and self.stop.is_set():
            self.stop_search()


def safe_hint(form: Formulation, *, seed: int, time_limit: float) -> None:
    """Make a hinted model safe for CP-SAT: a complete, feasible hint, or none at all.

    OR-Tools 9.15 aborts the process (SIGABRT, "Check failed: heuristics.fixed_search !=
    nullptr", cf. google/or-tools#5025) when ``interleave_search`` meets a hint that, once
    completed by presolve, violates the model: it then tries to repair the hint with a
    subsolver the interleaved mode never creates. Every infeasible plan solved with a
    previous plan as hint hits it (and so does an empty hint message). So a hint is
    checked first, on one worker with the hinted variables fixed (a small, deterministic
    search): when it extends to a feasible solution, that complete solution becomes the hint
    and the portfolio runs as usual; when it does not (or the check is inconclusive), the hint
    is dropped and the search starts cold. Single-worker models (the decomposition's blocks)
    do not abort, but are checked too: the completed hint is worth its small solve (measured
    on the examples: retail 15,805 vs 15,883, saas-growth 53,547 vs 54,532 without it)."""
    check = cp_model.CpSolver()
    prm = check.parameters
    prm.num_workers = 1
    prm.random_seed = seed
    prm.fix_variables_to_their_hinted_value = True
    prm.stop_after_first_solution = True
    prm.max_deterministic_time = max(0.01, min(1.0, time_limit * DTIME_PER_SECOND * 0.1))
    prm.max_time_in_seconds = max(0.5, time_limit)
    code = check.solve(form.model)
    model = form.model
    # not model.clear_hints(): that leaves an empty hint message behind, and an empty hint
    # aborts the interleaved search just the same
    model.proto.clear_solution_hint()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return
    values = list(check.response_proto.solution)
    # written into the proto at once (``add_hint`` per variable was a quarter of a block
    # unit's Python time)
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if objective <= 0:
        return 0.0 if bound >= objective - 1e-9 else None
    return max(0.0, (objective - bound) / abs(objective))


def run_model(
    form: Formulation,
    *,
    time_limit: float,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    seed: int = 0,
    workers: int | None = None,
    gap_limit: float | None = None,
    deterministic: bool = True,
    assumptions: list[cp_model.IntVar] | None = None,
    params: Mapping[str, bool | int | float] | None = None,
    dtime_per_second: float = DTIME_PER_SECOND,
    keep_values: bool = False,
) -> RunResult:
    """Solve a formulation; never raises for solver outcomes. ``params``: further CP-SAT
    parameters by name (``BLOCK_PARAMS`` for the decomposition's small block models);
    ``keep_values``: the result keeps the solver's objective value and every variable's
    value (for ``lean``). A deterministic search ends at its deterministic time and, on one
    worker, its conflicts (``CONFLICTS_PER_SECOND``) for ``time_limit``; the wall clock only
    at five times that, plus two seconds (a safety net)."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    n_workers = workers or default_workers()
    if form.model.proto.has_solution_hint():
        safe_hint(form, seed=seed, time_limit=time_limit)
    prm.num_workers = n_workers
    prm.random_seed = seed
    prm.max_time_in_seconds = max(0.05, time_limit * 5.0 + 2.0 if deterministic else time_limit)
    if deterministic:
        prm.interleave_search = n_workers > 1
        prm.max_deterministic_time = max(0.005, time_limit * dtime_per_second)
        if n_workers == 1:
            prm.max_number_of_conflicts = max(1000, round(time_limit * CONFLICTS_PER_SECOND))
    if gap_limit is not None:
        prm.relative_gap_limit = gap_limit
    for name, value in (params or {}).items():
        setattr(prm, name, value)
    if assumptions:
        form.model.clear_assumptions()
        form.model.add_assumptions(assumptions)
    started = time.perf_counter()
    watch = _Watch(form, on_progress, stop, started)
    done = threading.Event()

    def watch_stop() -> None:
        # waits on ``done`` (not on ``stop``) so that the watcher ends the moment the search
        # does: the decomposition runs hundreds of short searches, and a watcher sleeping out
        # its poll interval after each one more than doubled their wall time
        assert stop is not None
        while not done.wait(0.05):
            if stop.is_set():
                solver.stop_search()
                return

    watcher = None
    if stop is not None:
        if stop.is_set():
            return RunResult(
                "unknown", message="stopped before the search started", workers=n_workers
            )
        watcher = threading.Thread(target=watch_stop, name="capdsl-solve-stop", daemon=True)
        watcher.start()
    try:
        code = solver.solve(form.model, watch)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    wall = time.perf_counter() - started
    res = RunResult(
        "unknown",
        wall_s=wall,
        dtime=solver.deterministic_time,
        workers=n_workers,
        conflicts=solver.num_conflicts,
        best_times=watch.trace,
    )
    bound = solver.best_objective_bound
    if math.isfinite(bound) and code != cp_model.INFEASIBLE:
        res.bound = form.to_money(bound)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = solver.response_proto.solution
        res.use = {k: int(values[v.index]) for k, v in form.use.items() if values[v.index]}
        res.buy = {k: int(values[v.index]) for k, v in form.buy.items() if values[v.index]}
        res.objective = form.to_money(solver.objective_value)
        if keep_values:
            res.raw_objective = round(solver.objective_value)
            res.values = list(values)
        res.bound = form.to_money(solver.best_objective_bound)
        proven = code == cp_model.OPTIMAL and (
            gap_limit is None or solver.objective_value <= solver.best_objective_bound
        )
        res.status = "optimal" if proven else "feasible"
    elif code == cp_model.INFEASIBLE:
        res.status = "infeasible"
    elif code == cp_model.MODEL_INVALID:
        res.status = "error"
        res.message = (
            f"internal error: the solver rejected the model ({form.model.validate() or 'invalid'})"
        )
    if stop is not None and stop.is_set():
        res.stopped_by = "stop"
    elif code == cp_model.OPTIMAL:
        res.stopped_by = "optimal" if res.status == "optimal" else "gap"
    elif code == cp_model.INFEASIBLE:
        res.stopped_by = "proof"
    elif deterministic and (
        solver.deterministic_time >= prm.max_deterministic_time * 0.999
        or (n_workers == 1 and solver.num_conflicts >= prm.max_number_of_conflicts)
    ):
        res.stopped_by = "deterministic limit"
    else:
        res.stopped_by = "time limit"
    if res.status == "unknown" and not res.message:
        res.message = (
            "stopped before any plan was found"
            if res.stopped_by == "stop"
            else f"no plan found within the {res.stopped_by} ({time_limit:g} s)"
        )
    return res


# ``lean``: CP-SAT parameters for re-solving a block from its own plan (no presolve: the
# plan is a complete hint, and presolving a block cost more than the search it feeds)
LEAN_PARAMS: dict[str, bool | int | float] = {**BLOCK_PARAMS, "cp_model_presolve": False}


def lean(
    form: Formulation,
    found: RunResult,
    keys: list[tuple[str, str, str, str, int, int]],
    *,
    dtime: float,
    seed: int = 0,
    spent: list[float] | None = None,
) -> dict[tuple[str, str, str, str, int, int], int] | None:
    """The plan ``found`` (of ``form``, solved with ``keep_values``) with fewer instances
    on the lanes ``keys`` at no more cost: the model re-solved from that plan with its
    objective capped at the plan's and the instances on ``keys`` minimised, for at most
    ``dtime`` of CP-SAT's deterministic time. None when no leaner plan is found. ``spent``
    gets the deterministic time the search took (when it ran).

    The decomposition's blocks with reservations fixed pay nothing for a reserved instance,
    so a block's optimum may run any number of them beyond its needs (CP-SAT keeps what its
    hint ran); the usage the reservations are then rescheduled for would pay them off, and
    the rounds would buy them again. Modifies ``form``'s model (a block's model is used
    once)."""
    model = form.model
    obj = model.proto.objective
    if found.raw_objective is None or not found.values or not keys or obj.offset:
        return None
    before = sum(found.use.get(k, 0) for k in keys)
    if before == 0:
        return None
    model.add(form.objective <= found.raw_objective)
    model.minimize(cp_model.LinearExpr.sum([form.use[k] for k in keys]))
    model.proto.clear_solution_hint()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(found.values)))
    hint.values.extend(found.values)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = seed
    prm.max_deterministic_time = max(0.0005, dtime)
    prm.max_time_in_seconds = max(0.5, dtime * 50)  # a safety net: the limit is deterministic
    for name, value in LEAN_PARAMS.items():
        setattr(prm, name, value)
    code = solver.solve(model)
    if spent is not None:
        spent.append(solver.deterministic_time)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value >= before:
        return None
    values = solver.response_proto.solution
    return {k: int(values[v.index]) for k, v in form.use.items() if values[v.index]}
