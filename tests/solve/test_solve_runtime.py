"""Determinism, cancellation, warm start, progress, and the month-by-month path's bound."""

from __future__ import annotations

import json
import threading
import time

import pytest
from solve_factory import offering, plan, workload

from capdsl.model.plan import Plan, SpotPolicy
from capdsl.solve import Progress, solve, verify
from capdsl.solve.solution import Solution


def medium(months: int = 6, families: int = 2) -> Plan:
    offs = [
        offering(
            f"f{i}.{size}",
            od=f"{0.05 * mult * (1 + i / 10):.4f}",
            vcpu=2 * mult,
            spot={
                "z1": f"{0.02 * mult:.4f}",
                "z2": f"{0.021 * mult:.4f}",
                "z3": f"{0.022 * mult:.4f}",
            },
            reserved={"1y-no_upfront": ("0", f"{0.032 * mult * (1 + i / 10):.4f}")},
            zones=("z1", "z2", "z3"),
        )
        for i in range(families)
        for size, mult in (("large", 1), ("xlarge", 2), ("2xlarge", 4))
    ]
    caps = [(o, 90 * o.offering.vcpu**1.1) for o in offs]
    a = workload(
        "api",
        caps,
        headroom=0.3,
        redundancy=1,
        survive_zones=1,
        spot=SpotPolicy(max_share=0.3, per_pool=0.15),
    )
    b = workload("web", caps, headroom=0.2, survive_zones=1)
    demand = []
    for m in range(months):
        g = 1 + 0.05 * m
        demand.append(
            {
                "api": [v * g for v in [900] * 6 + [2500] * 10 + [1600] * 8],
                "web": [v * g for v in [1500] * 8 + [700] * 8 + [1200] * 8],
            }
        )
    return plan(offs, [a, b], demand, options=["1y-no_upfront"])


def canonical(sol: Solution) -> str:
    d = sol.model_dump(mode="json")
    d["stats"].pop("solve_s")
    d["stats"].pop("build_s")
    return json.dumps(d, sort_keys=True)


def test_same_seed_same_solution() -> None:
    p = medium(3)
    first, second = solve(p, time_limit=1.5, seed=7), solve(p, time_limit=1.5, seed=7)
    assert first.status in ("optimal", "feasible")
    assert canonical(first) == canonical(second)


def test_month_by_month_path_is_deterministic_and_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    import capdsl.solve.solver as solver

    monkeypatch.setattr(solver, "WHOLE_PLAN_MAX_VARIABLES", 0)
    p = medium(6)
    first, second = solve(p, time_limit=3), solve(p, time_limit=3)
    assert "month by month" in first.stats.passes["search"]
    assert first.status in ("optimal", "feasible")
    assert verify(p, first).ok
    assert (
        first.bound is not None and first.objective is not None and first.bound <= first.objective
    )
    assert canonical(first) == canonical(second)


def test_decomposition_bound_is_a_lower_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    p = medium(2, families=1)
    exact = solve(p, time_limit=5)
    assert exact.status in ("optimal", "feasible") and "whole plan" in exact.stats.passes["search"]
    import capdsl.solve.solver as solver

    monkeypatch.setattr(solver, "WHOLE_PLAN_MAX_VARIABLES", 0)
    split = solve(p, time_limit=4)
    assert "month by month" in split.stats.passes["search"]
    assert verify(p, split).ok
    assert split.bound is not None and exact.objective is not None and split.objective is not None
    assert exact.bound is not None
    # each bound is below every plan: the optimum lies in both intervals
    assert split.bound <= exact.objective
    assert exact.bound <= split.objective


def test_progress_reports_objective_bound_and_time() -> None:
    seen: list[Progress] = []
    sol = solve(medium(2), time_limit=3, on_progress=seen.append)
    assert sol.status in ("optimal", "feasible")
    assert seen and all(p.elapsed_s >= 0 for p in seen)
    last = seen[-1]
    assert last.objective is not None and last.bound is not None and last.gap is not None
    assert last.bound <= last.objective + 1e-6


def test_stop_before_start_returns_unknown() -> None:
    stop = threading.Event()
    stop.set()
    sol = solve(medium(2), time_limit=30, stop=stop)
    assert sol.status == "unknown"
    assert "stopped" in sol.message


@pytest.mark.parametrize("split", [False, True])
def test_stop_ends_the_search_early(split: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import capdsl.solve.solver as solver

    if split:
        monkeypatch.setattr(solver, "WHOLE_PLAN_MAX_VARIABLES", 0)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    started = time.perf_counter()
    timer.start()
    try:
        sol = solve(medium(6), time_limit=60, stop=stop)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 20  # far below the 60 s limit
    assert sol.status in ("optimal", "feasible", "unknown")


class _RecordingEvent(threading.Event):
    """A stop event that records how often someone slept on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(timeout)


def test_a_stop_event_never_holds_a_finished_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop watcher waits on the search's end, not on the stop event: a watcher that
    slept out its poll interval on ``stop`` after every search held each of the
    decomposition's hundreds of block searches for up to 50 ms (retail-sale in the TUI: 16.5 s
    instead of 7 s for the same plan). Same plan with and without a stop event, too."""
    import capdsl.solve.solver as solver

    monkeypatch.setattr(solver, "WHOLE_PLAN_MAX_VARIABLES", 0)
    stop = _RecordingEvent()
    with_stop = solve(medium(2), time_limit=5, stop=stop, seed=3)
    assert with_stop.status in ("optimal", "feasible")
    assert stop.waits == 0
    without = solve(medium(2), time_limit=5, seed=3)
    assert with_stop.objective == without.objective
    assert with_stop.allocations == without.allocations


def test_warm_start_after_a_small_edit() -> None:
    a = offering(
        "w.large",
        od="0.1000",
        reserved={"1y-no_upfront": ("0", "0.0600")},
        zones=("z1", "z2", "z3"),
    )
    b = offering("w.xlarge", od="0.1900", zones=("z1", "z2", "z3"))
    w = workload("web", [(a, 100), (b, 200)], redundancy=1, survive_zones=1)
    p = plan([a, b], [w], [{"web": [300] * 12 + [800] * 12}] * 2, options=["1y-no_upfront"])
    before = solve(p, time_limit=10)
    edited = p.model_copy(
        update={
            "demand": [
                md.model_copy(
                    update={
                        "blocks": [
                            b.model_copy(
                                update={"level": {k: v * 1.02 for k, v in b.level.items()}}
                            )
                            for b in md.blocks
                        ],
                        "hourly": {k: [x * 1.02 for x in v] for k, v in md.hourly.items()},
                    }
                )
                for md in p.demand
            ]
        }
    )
    warm = solve(edited, time_limit=10, hint=before)
    cold = solve(edited, time_limit=10)
    assert warm.stats.warm_start and not cold.stats.warm_start
    assert warm.status == cold.status == "optimal"
    assert warm.objective == cold.objective
    assert verify(edited, warm).ok


def test_a_small_whole_plan_is_proven_by_one_worker_before_the_portfolio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the TUI's tiny plans: one worker proves them in a fraction of the time two interleaved
    # workers take; the optimum is the portfolio's
    import capdsl.solve.solver as solver_mod

    small = offering("m.large", od="0.10", vcpu=2, reserved={"1y-no_upfront": ("0", "0.06")})
    big = offering("m.4xlarge", od="0.38", vcpu=16, reserved={"1y-no_upfront": ("0", "0.23")})
    api = workload("api", [(small, 10.0), (big, 85.0)], redundancy=1)
    p = plan(
        [small, big],
        [api],
        [{"api": [40.0 + 30.0 * (6 <= h < 22) for h in range(24)]}],
        options=("1y-no_upfront",),
    )
    probed = solve(p, time_limit=10, workers=2)
    assert probed.status == "optimal" and probed.stats is not None
    assert "1 worker;" in probed.stats.passes["search"]
    monkeypatch.setattr(solver_mod, "PROBE_SHARE", 0.0)  # no probe: the portfolio alone
    portfolio = solve(p, time_limit=10, workers=2)
    assert portfolio.status == "optimal" and portfolio.stats is not None
    assert "2 workers;" in portfolio.stats.passes["search"]
    assert probed.objective == portfolio.objective
    assert verify(p, probed).ok


def test_a_stop_during_the_one_worker_probe_keeps_its_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    # warm-started (no quick month-by-block pass): a stop that lands while the probe runs must
    # return the probe's plan, not "stopped before the search started" from the portfolio
    import capdsl.solve.solver as solver_mod

    p = medium(6)
    first = solve(p, time_limit=4)
    assert first.status in ("optimal", "feasible")
    stop = threading.Event()
    calls: list[str] = []
    real = solver_mod.run_model

    def probe_then_stop(*a: object, **k: object) -> object:
        res = real(*a, **k)  # type: ignore[arg-type]
        calls.append(res.status)
        stop.set()
        return res

    monkeypatch.setattr(solver_mod, "run_model", probe_then_stop)
    sol = solve(p, time_limit=4, hint=first, stop=stop, workers=2)
    assert len(calls) == 1, "the portfolio did not start after the stop"
    assert sol.status in ("optimal", "feasible"), sol.message
    assert sol.objective is not None and verify(p, sol).ok


def test_month_by_month_progress_gives_a_bound_before_any_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lower bound is reported as soon as it is known (from capacity prices, then the
    monthly LPs), before the first plan; reported bounds never go down."""
    import capdsl.solve.solver as solver

    monkeypatch.setattr(solver, "WHOLE_PLAN_MAX_VARIABLES", 0)
    seen: list[Progress] = []
    sol = solve(medium(2), time_limit=3, on_progress=seen.append)
    assert sol.status in ("optimal", "feasible")
    assert seen[0].objective is None and seen[0].bound is not None and seen[0].bound > 0
    bounds = [p.bound for p in seen if p.bound is not None]
    assert bounds == sorted(bounds)
    assert seen[-1].objective is not None


def test_a_single_workers_search_is_capped_by_its_conflicts_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CP-SAT's deterministic time misses some searches' work (a chain month of M seed 3:
    9,539 conflicts in 1.87 s for 0.04 of it), so one worker's search is also stopped, as
    deterministically, at ``CONFLICTS_PER_SECOND`` per second of its limit; the portfolio's
    (several workers, conflicts counted across them) is not."""
    from ortools.sat.python import cp_model

    from capdsl.solve.formulate import formulate
    from capdsl.solve.prune import prepare
    from capdsl.solve.search import CONFLICTS_PER_SECOND, run_model

    caps: list[int] = []
    real = cp_model.CpSolver.solve

    def spy(self: cp_model.CpSolver, *a: object, **k: object) -> object:
        if not self.parameters.fix_variables_to_their_hinted_value:  # (not the hint's check)
            caps.append(self.parameters.max_number_of_conflicts)
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(cp_model.CpSolver, "solve", spy)
    ctx = prepare(medium(months=2))
    one = run_model(formulate(ctx)[0], time_limit=0.2, seed=0, workers=1)
    assert caps == [round(0.2 * CONFLICTS_PER_SECOND)]
    assert one.status in ("optimal", "feasible")
    assert 0 <= one.conflicts <= caps[0]
    short = run_model(formulate(ctx)[0], time_limit=0.01, seed=0, workers=1)
    assert caps[-1] == 1000  # the least cap: a few hundredths of a second
    assert short.conflicts <= 1000
    run_model(formulate(ctx)[0], time_limit=0.2, seed=0, workers=2)
    assert caps[-1] == cp_model.CpSolver().parameters.max_number_of_conflicts  # the default


def test_whole_plan_search_gets_the_work_the_first_pass_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan solved whole starts from a month-by-block pass; what that pass leaves of the
    time limit (its work counted, at this machine's speed) goes to the whole-plan search."""
    from capdsl.solve import decompose, solver

    p = medium(months=2)
    passes: list[float] = []
    limits: list[float] = []
    real_decomposed = decompose.solve_decomposed
    real_run = solver.run_model

    def decomposed(*args, **kwargs):  # type: ignore[no-untyped-def]
        res, dec = real_decomposed(*args, **kwargs)
        passes.append(dec.work)
        return res, dec

    def run(form, *, time_limit, **kwargs):  # type: ignore[no-untyped-def]
        limits.append(time_limit)
        return real_run(form, time_limit=time_limit, **kwargs)

    monkeypatch.setattr(decompose, "solve_decomposed", decomposed)
    monkeypatch.setattr(solver, "run_model", run)
    sol = solve(p, time_limit=4.0, speed=1.5, workers=2)  # 6 s of the reference's work
    assert sol.status in ("optimal", "feasible") and verify(p, sol).ok
    assert sol.stats.passes["search"].startswith("CP-SAT, whole plan, from a month-by-block plan")
    (work,) = passes
    assert work < 6.0 * solver.QUICK_SHARE  # the pass ended early, by itself
    # a single worker first, briefly; then the portfolio, with the rest
    assert limits == pytest.approx([6.0 * solver.PROBE_SHARE, 6.0 - work])
