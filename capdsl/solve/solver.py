"""``solve(plan)``: pre-passes, CP-SAT with a time limit, progress, cancellation, warm start.

Reproducibility. CP-SAT's parallel portfolio is not deterministic under a wall-clock limit
(which worker finds what first depends on timing). capdsl therefore runs CP-SAT in
*interleaved* mode (``interleave_search``: the portfolio's subsolvers run in fixed-size
batches and synchronise in a fixed order, using ``workers`` threads) and stops it on a
*deterministic* time limit (``max_deterministic_time``, CP-SAT's own work counter) derived
from ``time_limit``. Same plan + same seed + same parameters -> same search -> the same
Solution, on any machine and under any load. ``time_limit`` is also set as a wall-clock
limit, a safety net with headroom (x1.5 + 1 s) that only fires on a very slow machine;
``Solution.stats.passes["search"]`` says which limit ended the search, and only a
wall-clock stop (or ``stop``) can make two runs differ. A proven optimum (or a reached
``gap_limit``) is reproducible either way.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ortools.sat.python import cp_model

from capdsl.lang.diagnostics import Diagnostic, error, warning
from capdsl.model.plan import Plan
from capdsl.solve.context import SolveContext
from capdsl.solve.costing import price_solution
from capdsl.solve.formulate import Formulation, formulate
from capdsl.solve.progress import Progress
from capdsl.solve.prune import PASSES, Pass, prepare
from capdsl.solve.settings import setting_span, workload_setting
from capdsl.solve.solution import Allocation, Purchase, Solution, SolveStats

# Deterministic-time units CP-SAT does per wall-clock second on one core of a modest
# machine (measured on the 2-core benchmark box, see benchmarks/RESULTS.md); the
# deterministic limit is time_limit x this, so a search usually ends by it, reproducibly.
DTIME_PER_SECOND = 1.0


@dataclass
class RunResult:
    status: str  # optimal | feasible | infeasible | unknown | error
    use: dict[tuple[str, str, str, str, int, int], int] = field(default_factory=dict)
    buy: dict[tuple[str, str, int, int], int] = field(default_factory=dict)
    objective: float | None = None  # money (plan currency), fleet constant included
    bound: float | None = None
    wall_s: float = 0.0
    dtime: float = 0.0
    stopped_by: str = ""  # "optimal", "gap", "deterministic limit", "time limit", "stop"
    message: str = ""
    workers: int = 0
    best_times: list[tuple[float, float, float | None]] = field(default_factory=list)  # (t, obj, bound)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class _Watch(cp_model.CpSolverSolutionCallback):
    def __init__(self, form: Formulation, on_progress: Callable[[Progress], None] | None,
                 stop: threading.Event | None, started: float) -> None:
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
) -> RunResult:
    """Solve a formulation; never raises for solver outcomes."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    n_workers = workers or default_workers()
    prm.num_workers = n_workers
    prm.random_seed = seed
    prm.max_time_in_seconds = max(0.05, time_limit * (1.5 if deterministic else 1.0) + (1.0 if deterministic else 0.0))
    if deterministic:
        prm.interleave_search = True
        prm.max_deterministic_time = max(0.05, time_limit * DTIME_PER_SECOND)
    if gap_limit is not None:
        prm.relative_gap_limit = gap_limit
    if assumptions:
        form.model.clear_assumptions()
        form.model.add_assumptions(assumptions)
    started = time.perf_counter()
    watch = _Watch(form, on_progress, stop, started)
    done = threading.Event()

    def watch_stop() -> None:
        assert stop is not None
        while not done.is_set():
            if stop.wait(0.05):
                solver.stop_search()
                return

    watcher = None
    if stop is not None:
        if stop.is_set():
            return RunResult("unknown", message="stopped before the search started", workers=n_workers)
        watcher = threading.Thread(target=watch_stop, name="capdsl-solve-stop", daemon=True)
        watcher.start()
    try:
        code = solver.solve(form.model, watch)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    wall = time.perf_counter() - started
    res = RunResult("unknown", wall_s=wall, dtime=solver.deterministic_time, workers=n_workers, best_times=watch.trace)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = solver.response_proto.solution
        res.use = {k: int(values[v.index]) for k, v in form.use.items() if values[v.index]}
        res.buy = {k: int(values[v.index]) for k, v in form.buy.items() if values[v.index]}
        res.objective = form.to_money(solver.objective_value)
        res.bound = form.to_money(solver.best_objective_bound)
        proven = code == cp_model.OPTIMAL and (gap_limit is None or solver.objective_value <= solver.best_objective_bound)
        res.status = "optimal" if proven else "feasible"
    elif code == cp_model.INFEASIBLE:
        res.status = "infeasible"
    elif code == cp_model.MODEL_INVALID:
        res.status = "error"
        res.message = f"internal error: the solver rejected the model ({form.model.validate() or 'invalid'})"
    if stop is not None and stop.is_set():
        res.stopped_by = "stop"
    elif code == cp_model.OPTIMAL:
        res.stopped_by = "optimal" if res.status == "optimal" else "gap"
    elif code == cp_model.INFEASIBLE:
        res.stopped_by = "proof"
    elif deterministic and solver.deterministic_time >= prm.max_deterministic_time * 0.999:
        res.stopped_by = "deterministic limit"
    else:
        res.stopped_by = "time limit"
    if res.status == "unknown" and not res.message:
        res.message = (
            "stopped before any plan was found" if res.stopped_by == "stop"
            else f"no plan found within the {res.stopped_by} ({time_limit:g} s)"
        )
    return res


# --------------------------------------------------------------------------- hints


def hint_maps(hint: Solution | None) -> tuple[dict[tuple[str, str, str, str, int, int], int], dict[tuple[str, str, int, str, str, int], int]]:
    if hint is None:
        return {}, {}
    use: dict[tuple[str, str, str, str, int, int], int] = {}
    for a in hint.allocations:
        key = (a.workload, a.offering, a.zone, a.option, a.month, a.block)
        use[key] = use.get(key, 0) + a.count
    buy: dict[tuple[str, str, int, str, str, int], int] = {}
    for p in hint.purchases:
        k = (p.offering, p.zone, p.term_months, p.payment, p.offering_class, p.month)
        buy[k] = buy.get(k, 0) + p.count
    return use, buy


# --------------------------------------------------------------------------- solution


def to_solution(plan: Plan, ctx: SolveContext, res: RunResult) -> Solution:
    """Counts -> Solution with exact costs (the solver's scaled objective is not reused)."""
    allocations = sorted(
        (Allocation(workload=w, offering=t, zone=z, option=opt, month=m, block=b, count=n)  # type: ignore[arg-type]
         for (w, t, z, opt, m, b), n in res.use.items()),
        key=lambda a: (a.month, a.block, a.workload, a.offering, a.zone, a.option),
    )
    purchases: list[Purchase] = []
    for (t, z, i, s), n in sorted(res.buy.items()):
        c = ctx.pools[(t, z)].choices[i]
        purchases.append(
            Purchase(offering=t, zone=z, term_months=c.term_months, payment=c.payment,
                     offering_class=c.offering_class, month=s, count=n, upfront=c.upfront, hourly=c.hourly)  # type: ignore[arg-type]
        )
    purchases.sort(key=lambda p: (p.month, p.offering, p.zone, p.term_months, p.payment, p.offering_class))
    priced = price_solution(plan, allocations, purchases)
    objective = priced.exact_cost + priced.penalty
    obj_d = Decimal(objective.numerator) / Decimal(objective.denominator)
    obj_d = obj_d.quantize(Decimal("0.01"))
    if res.status == "optimal":
        bound_d = obj_d
        gap = 0.0
    else:
        raw = Decimal(repr(res.bound)) if res.bound is not None else None
        bound_d = min(obj_d, raw.quantize(Decimal("0.01"))) if raw is not None else None
        gap = relative_gap(float(obj_d), float(bound_d) if bound_d is not None else None)
        gap = round(gap, 8) if gap is not None else None
    diags = lints(plan, priced.reserved_utilisation, priced.scope_costs)
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status=res.status,  # type: ignore[arg-type]
        objective=obj_d,
        bound=bound_d,
        gap=gap,
        currency=plan.currency,
        allocations=allocations,
        purchases=priced.purchases,
        months=priced.months,
        totals=priced.totals,
        workload_costs=priced.workload_costs,
        reserved_utilisation=priced.reserved_utilisation,
        spot_share=priced.spot_share,
        diagnostics=diags,
    )


def lints(plan: Plan, utilisation: float | None, scope_costs: dict[str, list[Fraction]]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if utilisation is not None and utilisation < 0.5:
        span = setting_span(plan, "commitments.terms", "commitments")
        out.append(
            warning(
                "W0450",
                f"reserved instances are used {utilisation * 100:.0f}% of the hours they are owned",
                span,
                help="buy fewer or shorter reservations, or let more workloads share them",
                notes=("practitioners aim for at least 50% reserved utilisation",),
            )
        )
    for bud in plan.budgets:
        series = scope_costs.get(bud.name, [])
        if bud.monthly is not None:
            cap = Fraction(bud.monthly)
            over = [(m, v) for m, v in enumerate(series) if v > cap]
            if over and not bud.hard:
                worst = max(over, key=lambda mv: mv[1])
                out.append(
                    warning(
                        "W0451",
                        f"soft budget {_money(cap, plan.currency)}/month is exceeded in {len(over)} month"
                        f"{'s' * (len(over) != 1)}, most in {plan.months[worst[0]]} "
                        f"by {_money(worst[1] - cap, plan.currency)}",
                        setting_span(plan, f"{bud.name}.monthly", bud.name),
                    )
                )
            if bud.alert is not None:
                hot = [(m, v) for m, v in enumerate(series) if cap * Fraction(bud.alert).limit_denominator(10**6) <= v <= cap]
                if hot:
                    m, v = max(hot, key=lambda mv: mv[1])
                    out.append(
                        warning(
                            "W0452",
                            f"{len(hot)} month{'s' * (len(hot) != 1)} reach the budget alert at "
                            f"{bud.alert * 100:.0f}% of {_money(cap, plan.currency)}/month; "
                            f"highest {plan.months[m]} at {_money(v, plan.currency)} ({float(v / cap) * 100:.1f}%)",
                            setting_span(plan, f"{bud.name}.alert", bud.name),
                        )
                    )
    return out


def _money(x: Fraction, currency: str) -> str:
    v = float(x)
    sign = "$" if currency == "USD" else f"{currency} "
    if abs(v) >= 1e6:
        return f"{sign}{v / 1e6:,.2f}M"
    if abs(v) >= 1e4:
        return f"{sign}{v / 1e3:,.1f}k"
    return f"{sign}{v:,.2f}"


# --------------------------------------------------------------------------- entry point


def solve(
    plan: Plan,
    *,
    time_limit: float = 10.0,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    hint: Solution | None = None,
    seed: int = 0,
    workers: int | None = None,
    gap_limit: float | None = None,
    passes: tuple[Pass, ...] = PASSES,
) -> Solution:
    """The cheapest plan meeting every constraint, found by CP-SAT within ``time_limit``.

    Never raises for plan problems: infeasible plans come back with ``status="infeasible"``
    and diagnostics naming a minimal set of conflicting settings (with numbers); a search
    that found nothing in time returns ``status="unknown"``. ``on_progress`` receives every
    improving plan; setting ``stop`` ends the search with the best plan so far.
    ``hint`` (a previous Solution of a similar plan) warm-starts the search. Deterministic
    for a fixed ``seed`` (see the module docstring)."""
    started = time.perf_counter()
    time_limit = max(0.1, float(time_limit))
    ctx = prepare(plan, passes=passes)
    structural = unserved(plan, ctx)
    if structural:
        return Solution(
            plan=plan.name, scenario=plan.scenario, status="infeasible", currency=plan.currency,
            message=structural[0].message, diagnostics=structural,
            stats=_stats(ctx, None, 0.0, time.perf_counter() - started, seed, 0, False),
        )
    use_hint, buy_hint = hint_maps(hint)
    form, matched = formulate(ctx, hint_use=use_hint if hint else None, hint_buy=buy_hint if hint else None)
    build_s = time.perf_counter() - started
    res = run_model(form, time_limit=time_limit, on_progress=on_progress, stop=stop, seed=seed,
                    workers=workers, gap_limit=gap_limit)
    stats = _stats(ctx, form, res.wall_s, build_s, seed, res.workers, matched > 0)
    stats.passes["search"] = _search_report(res)
    if res.status in ("optimal", "feasible"):
        sol = to_solution(plan, ctx, res)
        return sol.model_copy(update={"stats": stats})
    if res.status == "infeasible":
        from capdsl.solve.infeasible import diagnose

        remaining = max(1.0, time_limit - (time.perf_counter() - started))
        diags, message = diagnose(plan, ctx, time_limit=remaining, seed=seed)
        return Solution(plan=plan.name, scenario=plan.scenario, status="infeasible", currency=plan.currency,
                        message=message, diagnostics=diags, stats=stats)
    code = "E0456" if res.status == "unknown" else "E0491"
    return Solution(
        plan=plan.name, scenario=plan.scenario, status=res.status,  # type: ignore[arg-type]
        currency=plan.currency, message=res.message, stats=stats,
        diagnostics=[error(code, res.message, help="raise the time limit (--time-limit)" if code == "E0456" else None)],
    )


def _search_report(res: RunResult) -> str:
    text = f"CP-SAT interleaved search, {res.workers} worker{'s' * (res.workers != 1)}; ended by {res.stopped_by}"
    if res.stopped_by in ("time limit", "stop"):
        text += " (wall clock: a rerun may differ)"
    return text


def _stats(ctx: SolveContext, form: Formulation | None, solve_s: float, build_s: float, seed: int,
           workers: int, warm: bool) -> SolveStats:
    plan = ctx.plan
    return SolveStats(
        solve_s=round(solve_s, 3),
        build_s=round(build_s, 3),
        vars_before=ctx.vars_before,
        vars_after=len(form.use) + len(form.buy) + len(form.regional) if form is not None else 0,
        constraints=form.constraints if form is not None else 0,
        offerings_before=ctx.offerings_before,
        offerings_after=len(ctx.offering_ids()),
        passes=dict(ctx.passes),
        blocks=sum(len(bs) for bs in ctx.blocks),
        compression_overhead=max((md.overhead for md in plan.demand[: plan.horizon]), default=0.0),
        seed=seed,
        workers=workers,
        warm_start=warm,
    )


def unserved(plan: Plan, ctx: SolveContext) -> list[Diagnostic]:
    """Workloads with demand but no way at all to get an instance (no priced, placed lane)."""
    have = {ln.workload for ln in ctx.lanes}
    out: list[Diagnostic] = []
    for w in plan.workloads:
        if w.name in have:
            continue
        needs = any(
            md.work.get(w.name, 0) > 0 or any(b.level.get(w.name, 0) > 0 for b in md.blocks)
            for md in plan.demand[: plan.horizon]
        ) or w.min_replicas > 0 or w.min_replicas_per_zone > 0
        if not needs:
            continue
        reasons = [f"{i.offering}: {i.reason}" for i in w.ineligible[:5]]
        out.append(
            error(
                "E0455",
                f"{w.name} has demand but no offering it can run on"
                + (" (every candidate is ineligible)" if w.ineligible else ""),
                workload_setting(plan, w.name, "runs_on"),
                notes=tuple(reasons),
                help="widen `runs on`, the catalog filters or the placement, or relax the latency SLO",
            )
        )
    return out


def objective_of(res: RunResult) -> float | None:
    return res.objective if res.objective is not None and math.isfinite(res.objective) else None
