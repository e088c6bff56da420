"""``solve(plan)``: pre-passes, then CP-SAT on the whole plan or month by month.

Small plans (and plans with a hard total budget) are solved whole: one exact CP-SAT model
(``formulate.py``) whose bound CP-SAT proves. Larger plans go through ``decompose.py``: a
lower bound from a month-by-month relaxation, then reservations scheduled and every month
solved exactly with them fixed, alternating while time remains. Either way the Solution's
money is recomputed exactly from the counts (``costing.py``), and the search is
reproducible for a fixed seed (``search.py``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from capdsl.lang.diagnostics import Diagnostic, error, warning
from capdsl.model.plan import Plan
from capdsl.solve.context import SPOT, STANDARD, SolveContext, count_variables
from capdsl.solve.costing import price_solution
from capdsl.solve.extract import purchases_of, split_standard
from capdsl.solve.formulate import by_option, formulate
from capdsl.solve.money import to_cents
from capdsl.solve.progress import Progress
from capdsl.solve.prune import PASSES, Pass, prepare
from capdsl.solve.search import RunResult, default_workers, relative_gap, run_model
from capdsl.solve.settings import setting_span, workload_setting
from capdsl.solve.solution import Purchase, Solution, SolveStats

# Plans with more decision variables than this (over more than one month) are solved month
# by month; below it the whole-plan model is fast enough to be proven optimal.
WHOLE_PLAN_MAX_VARIABLES = 4000
# Share of the time limit a single worker gets to prove a whole-plan model before the
# multi-worker portfolio starts (on top of it: a plan it does not prove is solved as before).
PROBE_SHARE = 0.05
# Share of the time limit the month-by-block pass may take before a whole-plan search of a
# plan of more than one block; the whole-plan search, from its plan, gets the work it leaves
# (at least the rest of the limit). The pass ends early on plans it plans well (the
# llm-inference example: then proven optimal by the whole-plan search); on the M benchmark
# with one level a month, seeds 1, 3 and 5 (3,816 variables: solved whole), it found plans
# whose months the whole-plan search does not improve in the time (at 0.3 of 10 s, seed 5
# ended at the first pass's plan, 11.66% against 1.75% month by month).
QUICK_SHARE = 0.8


# --------------------------------------------------------------------------- hints


def hint_maps(
    hint: Solution | None,
) -> tuple[
    dict[tuple[str, str, str, str, int, int], int], dict[tuple[str, int, str, str, int], int]
]:
    """A previous Solution as values for the formulation's variables."""
    if hint is None:
        return {}, {}
    use: dict[tuple[str, str, str, str, int, int], int] = defaultdict(int)
    for a in hint.allocations:
        kind = SPOT if a.option == "spot" else STANDARD
        use[(a.workload, a.offering, a.zone, kind, a.month, a.block)] += a.count
    buy: dict[tuple[str, int, str, str, int], int] = defaultdict(int)
    for p in hint.purchases:
        buy[(p.offering, p.term_months, p.payment, p.offering_class, p.month)] += p.count
    return dict(use), dict(buy)


# --------------------------------------------------------------------------- solution


def to_solution(plan: Plan, ctx: SolveContext, res: RunResult) -> Solution:
    """Counts -> Solution with exact costs (the solver's scaled objective is not reused)."""
    allocations = sorted(
        split_standard(ctx, res.use, res.buy),
        key=lambda a: (a.month, a.block, a.workload, a.offering, a.zone, a.option),
    )
    purchases = purchases_of(ctx, res.buy)
    priced = price_solution(plan, allocations, purchases)
    penalty = to_cents(priced.penalty)
    obj_d = priced.totals.cost + penalty
    if res.status == "optimal":
        bound_d: Decimal | None = obj_d
        gap: float | None = 0.0
    else:
        raw = Decimal(repr(res.bound)) if res.bound is not None else None
        bound_d = min(obj_d, raw.quantize(Decimal("0.01"))) if raw is not None else None
        gap = relative_gap(float(obj_d), float(bound_d) if bound_d is not None else None)
        gap = round(gap, 8) if gap is not None else None
    diags = lints(plan, priced.reserved_utilisation, priced.scope_costs)
    diags += late_commitments(plan, priced.purchases)
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status=res.status,  # type: ignore[arg-type]
        objective=obj_d,
        bound=bound_d,
        gap=gap,
        currency=plan.currency,
        allocations=allocations,
        diagnostics=diags,
        **priced.solution_fields(),
    )


def lints(
    plan: Plan, utilisation: float | None, scope_costs: dict[str, list[Fraction]]
) -> list[Diagnostic]:
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
                hot = [
                    (m, v)
                    for m, v in enumerate(series)
                    if cap * Fraction(bud.alert).limit_denominator(10**6) <= v <= cap
                ]
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


def late_commitments(plan: Plan, purchases: list[Purchase]) -> list[Diagnostic]:
    """W0453: reservations bought so late that most of their term lies beyond the horizon.

    Under ``beyond_horizon = amortize`` the plan counts only a term's months inside the
    horizon, so a 3-year reservation bought in the last month costs the plan one month of
    it: correct by that rule, and cheap-looking, but it commits money the plan does not show."""
    if plan.commitments.beyond_horizon != "amortize":
        return []
    late = [
        p
        for p in purchases
        if p.beyond_horizon > 0 and (plan.horizon - p.month) * 2 < p.term_months
    ]
    if not late:
        return []
    committed = sum((p.beyond_horizon for p in late), Decimal(0))
    count = sum(p.count for p in late)
    first, last = plan.months[min(p.month for p in late)], plan.months[max(p.month for p in late)]
    when = f"in {first}" if first == last else f"in {first}..{last}"
    return [
        warning(
            "W0453",
            f"{count} reservation{'s' * (count != 1)} bought {when} run mostly past the horizon: "
            f"{_money(Fraction(committed), plan.currency)} of {'them' if count != 1 else 'it'} "
            f"falls after {plan.months[-1]} and is not in the plan's cost",
            setting_span(plan, "commitments.beyond_horizon", "commitments"),
            help="count whole terms with `beyond_horizon = full` in `commitments`, or extend "
            "the horizon to see what they are worth",
            notes=(
                "`beyond_horizon = amortize` (the default) counts a term's months inside the "
                "horizon only",
            ),
        )
    ]


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
    excluded: tuple[tuple[str, str], ...] = (),
    speed: float | None = None,
) -> Solution:
    """The cheapest plan meeting every constraint, found by CP-SAT within ``time_limit``.

    Never raises for plan problems: infeasible plans come back with ``status="infeasible"``
    and diagnostics naming a minimal set of conflicting settings (with numbers); a search
    that found nothing in time returns ``status="unknown"``. ``on_progress`` receives every
    improving plan; setting ``stop`` ends the search with the best plan so far.
    ``hint`` (a previous Solution of a similar plan) warm-starts the search. Deterministic
    for a fixed ``seed`` and ``speed`` (see the module docstring): the search's work budget
    is ``time_limit * speed`` seconds of the reference machine's work, ``speed`` this
    machine's (``speed.machine_speed``: ``CAPDSL_SPEED``, else measured once per machine).
    A ``speed``, or a ``CAPDSL_SPEED``, that is not a speed raises ValueError."""
    started = time.perf_counter()
    time_limit = max(0.1, float(time_limit))
    n_workers = workers or default_workers()
    if speed is None:
        from capdsl.solve.speed import machine_speed

        speed = machine_speed(n_workers)
    elif not speed > 0:
        raise ValueError(f"speed must be positive, not {speed!r}")
    # the search's budgets are in seconds of the reference machine's work; the proofs and
    # diagnoses below that keep the wall clock get the time limit itself
    work_limit = time_limit * speed
    ctx = prepare(plan, passes=passes, excluded=excluded)
    structural = unserved(plan, ctx)
    if structural:
        return _no_plan(
            plan,
            "infeasible",
            structural[0].message,
            structural,
            _stats(ctx, 0, 0, 0.0, time.perf_counter() - started, seed, 0, False, speed),
        )
    if any(b.hard and b.monthly is not None for b in plan.budgets):
        # a monthly budget below a month's proven cost floor: infeasible, said before searching
        from capdsl.solve.infeasible import budget_floor

        proof = budget_floor(plan, ctx, time_limit=max(0.5, time_limit * 0.2), seed=seed)
        if proof is not None:
            return _no_plan(
                plan,
                "infeasible",
                proof[1],
                proof[0],
                _stats(ctx, 0, 0, 0.0, time.perf_counter() - started, seed, 0, False, speed),
            )
    use_hint, buy_hint = hint_maps(hint)
    whole = count_variables(ctx) <= WHOLE_PLAN_MAX_VARIABLES or any(
        b.hard and b.total is not None for b in plan.budgets
    )
    if whole:
        # a quick month-by-block pass first gives the whole-plan search a good plan to start from
        first_bound = None
        whole_work = work_limit
        if not hint and plan.horizon * max(len(bs) for bs in ctx.blocks) > 1:
            from capdsl.solve.decompose import solve_decomposed

            quick, quick_dec = solve_decomposed(
                ctx,
                time_limit=time_limit * QUICK_SHARE,
                speed=speed,
                seed=seed,
                threads=n_workers,
                stop=stop,
                on_progress=on_progress,
                hint_use={},
                hint_buys=None,
            )
            if quick.status in ("optimal", "feasible"):
                use_hint = dict(quick.use)
                buy_hint = by_option(ctx, quick.buy)
                first_bound = quick.bound
                whole_work = max(work_limit * (1 - QUICK_SHARE), work_limit - quick_dec.work)
        given = bool(hint) or first_bound is not None
        form, matched = formulate(
            ctx, hint_use=use_hint if given else None, hint_buy=buy_hint if given else None
        )
        build_s = time.perf_counter() - started

        def search(limit: float, n: int) -> RunResult:
            return run_model(
                form,
                time_limit=limit,
                on_progress=on_progress,
                stop=stop,
                seed=seed,
                workers=n,
                gap_limit=gap_limit,
            )

        res = None
        if n_workers > 1 and PROBE_SHARE > 0:
            # one worker first, briefly: small models are proven in a fraction of the time
            # the interleaved portfolio takes (the TUI's tiny plan: 0.05 s vs 1 s, so a
            # what-if and its "why not" re-solves answer at once); what it does not prove
            # is left to the portfolio, exactly as without it
            probe = search(work_limit * PROBE_SHARE, 1)
            if probe.status in ("optimal", "infeasible") or (stop is not None and stop.is_set()):
                res = probe  # proven, or stopped (its plan is the best so far)
        if res is None:
            res = search(whole_work, n_workers)
        if first_bound is not None and res.bound is not None and first_bound > res.bound:
            res.bound = first_bound
        if (
            first_bound is not None
            and quick.objective is not None
            and (res.objective is None or quick.objective < res.objective - 1e-6)
        ):  # the whole-plan search did not improve on its starting plan
            res.use, res.buy, res.objective = quick.use, quick.buy, quick.objective
            # a plan no dearer than a proven optimum is one too (they differ by the model's
            # rounding of money); a proven conflict stays proven
            if res.status not in ("optimal", "infeasible"):
                res.status = "feasible"
        stats = _stats(
            ctx,
            form.n_variables,
            form.constraints,
            res.wall_s,
            build_s,
            seed,
            res.workers,
            matched > 0 and bool(hint),
            speed,
        )
        stats.passes["search"] = _search_report(
            res, "whole plan" + (", from a month-by-block plan" if first_bound is not None else "")
        )
        infeasible_ctx = ctx
    else:
        from capdsl.solve.decompose import solve_decomposed

        build_s = time.perf_counter() - started
        hint_buys = _hint_buys(ctx, buy_hint) if hint else None
        res, dec = solve_decomposed(
            ctx,
            time_limit=time_limit,
            speed=speed,
            seed=seed,
            threads=n_workers,
            stop=stop,
            on_progress=on_progress,
            hint_use=use_hint,
            hint_buys=hint_buys,
        )
        stats = _stats(
            ctx,
            count_variables(ctx),
            0,
            res.wall_s,
            build_s,
            seed,
            res.workers,
            hint is not None,
            speed,
        )
        stats.passes["search"] = _search_report(res, "month by month") + "; " + "; ".join(dec.log)
        infeasible_ctx = dec.infeasible_context or ctx
    if res.status in ("optimal", "feasible"):
        sol = to_solution(plan, ctx, res)
        return sol.model_copy(update={"stats": stats})
    if res.status == "infeasible":
        from capdsl.solve.infeasible import diagnose

        # the explanation gets a fair share even when the search used the whole limit
        remaining = max(min(10.0, time_limit / 2), time_limit - (time.perf_counter() - started))
        diags, message = diagnose(plan, infeasible_ctx, time_limit=remaining, seed=seed)
        return _no_plan(plan, "infeasible", message, diags, stats)
    code = "E0456" if res.status == "unknown" else "E0491"
    help_ = "raise the time limit (--time-limit)" if code == "E0456" else None
    return _no_plan(plan, res.status, res.message, [error(code, res.message, help=help_)], stats)


def _no_plan(
    plan: Plan, status: str, message: str, diagnostics: list[Diagnostic], stats: SolveStats
) -> Solution:
    """A result without a plan (infeasible, nothing found in time, an error): what went
    wrong and why, no numbers."""
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status=status,  # type: ignore[arg-type]
        currency=plan.currency,
        message=message,
        diagnostics=diagnostics,
        stats=stats,
    )


def solve_without(
    plan: Plan,
    excluded: list[tuple[str, str]],
    *,
    hint: Solution | None,
    time_limit: float,
    seed: int = 0,
) -> Solution:
    """The plan re-solved with some (workload, offering) pairs forbidden: a plan, or
    ``infeasible`` when none exists (its message says which settings conflict), or no plan
    found within ``time_limit`` (``unknown``)."""
    return solve(plan, time_limit=time_limit, hint=hint, seed=seed, excluded=tuple(excluded))


def _hint_buys(
    ctx: SolveContext, buy_hint: dict[tuple[str, int, str, str, int], int]
) -> dict[tuple[str, int, int], int]:
    """A previous plan's purchases as (offering, choice index, start) of this context."""
    out: dict[tuple[str, int, int], int] = {}
    for (t, term, pay, cls, s), n in buy_hint.items():
        pool = ctx.pools.get(t)
        if pool is None or not 0 <= s < ctx.plan.horizon:
            continue
        for i, c in enumerate(pool.choices):
            if (c.term_months, c.payment, c.offering_class) == (term, pay, cls):
                out[(t, i, s)] = out.get((t, i, s), 0) + n
    return out


def _search_report(res: RunResult, how: str) -> str:
    text = (
        f"CP-SAT, {how}, {res.workers} worker{'s' * (res.workers != 1)}; ended by {res.stopped_by}"
    )
    if res.stopped_by in ("time limit", "stop"):
        text += " (wall clock: a rerun may differ)"
    return text


def _stats(
    ctx: SolveContext,
    n_vars: int,
    n_constraints: int,
    solve_s: float,
    build_s: float,
    seed: int,
    workers: int,
    warm: bool,
    speed: float,
) -> SolveStats:
    plan = ctx.plan
    return SolveStats(
        solve_s=round(solve_s, 3),
        build_s=round(build_s, 3),
        vars_before=ctx.vars_before,
        vars_after=n_vars,
        constraints=n_constraints,
        offerings_before=ctx.offerings_before,
        offerings_after=len(ctx.offering_ids()),
        passes=dict(ctx.passes),
        blocks=sum(len(bs) for bs in ctx.blocks),
        compression_overhead=max((md.overhead for md in plan.demand[: plan.horizon]), default=0.0),
        seed=seed,
        speed=speed,
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
        needs = (
            any(
                md.work.get(w.name, 0) > 0 or any(b.level.get(w.name, 0) > 0 for b in md.blocks)
                for md in plan.demand[: plan.horizon]
            )
            or w.min_replicas > 0
            or w.min_replicas_per_zone > 0
        )
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
