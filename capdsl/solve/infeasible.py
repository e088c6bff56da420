"""Why a plan is infeasible: a minimal set of conflicting settings, with numbers.

Every constraint family of the formulation belongs to one plan setting (``formulate.Group``:
a workload's demand, headroom, N+k, zone loss, replicas, spot limits, batch work; a quota; a
budget; the commitment cap) and is enforced only under that setting's assumption literal.
CP-SAT, solving for feasibility under all literals, returns a core of literals that cannot
all hold (``sufficient_assumptions_for_infeasibility``); capdsl shrinks it to a *minimal*
core by deletion (drop one literal, re-check; keep the drop when still infeasible). Then,
for the resource setting in the core (a budget, quota or commitment cap), it computes what
the other settings need, by re-solving with that setting lifted and its usage minimised
("budget $40k/month is below the cheapest plan that keeps recs N+1: $52.3k in 2027-11").

The context may be a sub-model (one month or a few blocks of it, from ``decompose.py``): a
relaxation of the plan, so its conflicts are the plan's conflicts.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ortools.sat.python import cp_model

from capdsl.lang.diagnostics import Diagnostic, Label, error
from capdsl.model.plan import Plan
from capdsl.solve.context import SolveContext
from capdsl.solve.formulate import Formulation, formulate
from capdsl.solve.search import DTIME_PER_SECOND
from capdsl.solve.settings import describe, find_setting, group_paths

Group = tuple[str, str]  # (kind, subject)
_RESOURCE = ("budget_monthly", "budget_total", "quota", "commitments")


def _money(x: float, currency: str) -> str:
    sign = "$" if currency == "USD" else f"{currency} "
    if abs(x) >= 1e6:
        return f"{sign}{x / 1e6:,.2f}M"
    if abs(x) >= 1e4:
        return f"{sign}{x / 1e3:,.1f}k"
    return f"{sign}{x:,.2f}"


def _one_worker(seed: int) -> cp_model.CpSolver:
    """A single-worker CP-SAT solver with a fixed seed (each check is small; the same seed
    gives the same explanation)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    return solver


def _limit(params: Any, seconds: float) -> None:
    """A deterministic budget (CP-SAT's work counter, as the search uses): the same
    explanation on a busy machine as on a quiet one; the wall clock only as a backstop."""
    params.max_deterministic_time = max(0.05, seconds * DTIME_PER_SECOND)
    params.max_time_in_seconds = seconds * 5.0 + 2.0


class _Prover:
    def __init__(self, ctx: SolveContext, time_limit: float, seed: int) -> None:
        self.ctx = ctx
        self.form, _ = formulate(ctx, assumptions=True, minimize=False)
        self.groups: dict[Group, cp_model.IntVar] = dict(sorted(self.form.groups.items()))
        self.seed = seed
        self.per_check = max(0.2, time_limit / max(4, 2 * len(self.groups) + 2))

    def check(self, enforced: list[Group]) -> tuple[str, list[Group]]:
        """Feasibility with ``enforced`` settings on (the others lifted): status and core."""
        model = self.form.model
        model.clear_assumptions()
        model.add_assumptions([self.groups[g] for g in enforced])
        solver = _one_worker(self.seed)
        _limit(solver.parameters, self.per_check)
        code = solver.solve(model)
        if code == cp_model.INFEASIBLE:
            idx = set(solver.sufficient_assumptions_for_infeasibility())
            core = [g for g in enforced if self.groups[g].index in idx]
            return "infeasible", core
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "feasible", []
        return "unknown", []

    def minimal_core(self) -> tuple[str, list[Group]]:
        status, core = self.check(list(self.groups))
        if status != "infeasible":
            return status, []
        core = core or []
        i = 0
        while i < len(core):
            trial = core[:i] + core[i + 1 :]
            st, sub = self.check(trial)
            if st == "infeasible":
                core = [g for g in trial if g in sub] if sub else trial
                i = min(i, len(core))
            else:
                i += 1
        return "infeasible", core


def _needed(
    prover: _Prover, resource: Group, enforce: list[Group], time_limit: float
) -> (
    tuple[float, int | None, int | None] | tuple[float, int | None, int | None, list[Group]] | None
):
    """What ``resource`` must allow for ``enforce`` to hold: (amount, month, block), from a
    fresh model in which ``resource`` is lifted and its usage's peak is minimised."""
    kind, name = resource
    if kind == "quota":
        first = _quota_first_month(prover, name, enforce, time_limit)
        if first is not None:
            return first
    f, _ = formulate(prover.ctx, assumptions=True, minimize=False)
    model = f.model
    for g in enforce:
        if g in f.groups:
            model.add(f.groups[g] == 1)
    if resource in f.groups:
        model.add(f.groups[resource] == 0)
    rows: list[
        tuple[cp_model.LinearExprT, int, int | None, int | None, int]
    ] = []  # expr, const, m, b, denom
    if kind == "budget_monthly":
        for m, (expr, const) in enumerate(f.budget_month.get(name, [])):
            if prover.ctx.included(m):
                rows.append((expr, const, m, None, f.money))
    elif kind == "budget_total":
        months = f.budget_month.get(name, [])
        rows.append((sum(e for e, _c in months), sum(c for _e, c in months), None, None, f.money))
    elif kind == "quota":
        unit = _QUOTA_UNIT.get(_unit_of(kind, name, prover.ctx.plan))
        for m, b, u, expr, denom in f.quota_usage.get(name, []):
            if u == unit:  # one unit: GPUs and instances are not compared
                rows.append((expr, 0, m, b, denom))
    elif kind == "commitments":
        for m, expr in f.commitment:
            rows.append((expr, 0, m, None, f.money))
    if not rows:
        return None
    top = model.new_int_var(0, 2**60, "needed")
    for expr, const, *_ in rows:
        model.add(top >= expr + const)
    model.minimize(top)
    solver = _one_worker(prover.seed)
    _limit(solver.parameters, max(0.5, time_limit))
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if code == cp_model.OPTIMAL and len(rows) > 1:
        # the min-max leaves every other row free up to the peak: with the peak fixed, pull
        # the rows down too, so the row named is one that needs the peak
        model.add(top <= int(solver.objective_value))
        model.minimize(sum(expr for expr, *_ in rows))
        again = _one_worker(prover.seed)
        _limit(again.parameters, max(0.5, time_limit / 2))
        if again.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = again
    best: tuple[int, int | None, int | None, int] | None = None
    for expr, const, rm, rb, rd in rows:
        v = int(solver.value(expr)) + const
        if best is None or v * best[3] > best[0] * rd:
            best = (v, rm, rb, rd)
    assert best is not None
    v, bm, bb, bd = best
    return v / bd, bm, bb


_QUOTA_UNIT = {"GPU": "gpu", "vCPU": "vcpu", "instances": "instances"}


def month_relaxation(ctx: SolveContext, month: int) -> SolveContext:
    """The sub-model of ``month`` alone: a relaxation of ``ctx`` for any per-month question
    (a quota's need, a month's cost under a monthly budget).

    New reservations are rented for the month (``reservations="rent"``, whole month): holding
    one for its term is never cheaper in any month it is active. Under ``beyond_horizon =
    "full"`` a reservation bought earlier costs only its hourly part in a later month (the
    upfront fee falls in its purchase month), so the rent is that hourly part (upfront set to
    0): the least any active reservation costs in a month. A context that already is a
    relaxation (a decomposition unit) keeps its own terms."""
    blocks = tuple(bs if i == month else () for i, bs in enumerate(ctx.blocks))
    if ctx.reservations != "buy":
        return replace(ctx, blocks=blocks)
    pools = ctx.pools
    if ctx.plan.commitments.beyond_horizon == "full":
        pools = {
            t: replace(pool, choices=tuple(replace(c, upfront=Decimal(0)) for c in pool.choices))
            for t, pool in ctx.pools.items()
        }
    return replace(
        ctx,
        blocks=blocks,
        pools=pools,
        reservations="rent",
        fixed_owned={},
        fixed_cost=(),
        rent_share=Fraction(1),
        batch="month",
    )


def _pin(f: Formulation, enforce: list[Group], lifted: Group) -> None:
    """Settings in ``enforce`` on, ``lifted`` and every other setting off."""
    for g, lit in f.groups.items():
        f.model.add(lit == (1 if g in enforce and g != lifted else 0))


def _quota_month_need(
    prover: _Prover, name: str, unit: str, m: int, enforce: list[Group], deadline: float
) -> tuple[int, int, int] | None:
    """Least peak usage of quota ``name`` over month ``m``'s blocks, proven (CP-SAT's bound),
    in that month's relaxation with the quota lifted and every setting in ``enforce`` kept:
    (need in units of 1/denom, denom, block of the peak); None when the month has no usage,
    conflicts without the quota, or is not solved in time."""
    f, _ = formulate(month_relaxation(prover.ctx, m), assumptions=True, minimize=False)
    _pin(f, enforce, ("quota", name))
    rows = [
        (b, expr, denom)
        for mm, b, u, expr, denom in f.quota_usage.get(name, [])
        if mm == m and u == _QUOTA_UNIT[unit]
    ]
    if not rows:
        return None
    denom = math.lcm(*(d for _b, _e, d in rows))
    top = f.model.new_int_var(0, 2**60, "peak")
    for _b, expr, d in rows:
        f.model.add(top * d >= expr * denom)  # top >= usage / d, in units of 1/denom
    f.model.minimize(top)
    solver = _one_worker(prover.seed)
    solver.parameters.max_deterministic_time = 2.0
    solver.parameters.max_time_in_seconds = max(0.2, deadline - time.perf_counter())
    code = solver.solve(f.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    need = math.ceil(solver.best_objective_bound - 1e-9)  # no plan of month m needs less
    peak = max(rows, key=lambda r: (solver.value(r[1]) * (denom // r[2]), -r[0]))[0]
    return need, denom, peak


def _quota_first_month(
    prover: _Prover, name: str, enforce: list[Group], time_limit: float
) -> tuple[float, int | None, int | None, list[Group]] | None:
    """The first month whose own need exceeds quota ``name``, proven month by month (see
    ``_quota_month_need``), with the settings that raise that need (lifting one of them
    lowers it). Returns (need, month, block of the peak, those settings); None when no month
    is proven short in time."""
    ctx = prover.ctx
    q = next((q for q in ctx.plan.quotas if q.name == name), None)
    if q is None:
        return None
    unit = _unit_of("quota", name, ctx.plan)
    limit = q.max_gpu if unit == "GPU" else q.max_vcpu if unit == "vCPU" else q.max_instances
    if limit is None or unit not in _QUOTA_UNIT:
        return None
    deadline = time.perf_counter() + max(1.0, time_limit)
    for m in range(ctx.plan.horizon):
        if not ctx.included(m) or time.perf_counter() > deadline:
            continue
        got = _quota_month_need(prover, name, unit, m, enforce, deadline)
        if got is None or got[0] <= limit * got[1]:
            continue
        need, denom, peak = got
        raising: list[Group] = []
        for g in enforce:
            if g[0] in _RESOURCE or time.perf_counter() > deadline:
                continue
            lower = _quota_month_need(
                prover, name, unit, m, [e for e in enforce if e != g], deadline
            )
            if lower is not None and lower[0] * denom < need * lower[1]:
                raising.append(g)
        return need / denom, m, peak, raising
    return None


def _unit_of(kind: str, name: str, plan: Plan) -> str:
    if kind == "quota":
        q = next((q for q in plan.quotas if q.name == name), None)
        if q is not None:
            return (
                "GPU"
                if q.max_gpu is not None
                else "vCPU"
                if q.max_vcpu is not None
                else "instances"
            )
    return ""


def diagnose(
    plan: Plan, ctx: SolveContext, *, time_limit: float, seed: int = 0
) -> tuple[list[Diagnostic], str]:
    """Diagnostics naming a minimal set of conflicting settings, and a one-line summary."""
    prover = _Prover(ctx, time_limit * 0.6, seed)
    status, core = prover.minimal_core()
    month_words = _months_of(ctx, plan)
    if status != "infeasible":
        msg = f"no plan meets every constraint{month_words}, but the conflict could not be isolated in time"
        return [
            error("E0454", msg, help="raise the time limit to find which settings conflict")
        ], msg
    if not core:
        msg = f"no plan meets the placement, prices and offerings of this plan{month_words}, whatever its settings"
        return [
            error(
                "E0454",
                msg,
                help="check that each workload's offerings have prices in its allowed zones",
            )
        ], msg
    resource = next((g for g in core if g[0] in _RESOURCE), None)
    others = [g for g in core if g != resource]
    labels = tuple(
        Label(s.span, describe(plan, *g))
        for g in others
        if (s := find_setting(plan, *group_paths(plan, *g))[1]) is not None and s.span is not None
    )
    other_words = ", ".join(describe(plan, *g) for g in others) or "the demand"
    if resource is not None:
        kind, name = resource
        enforce = [g for g in prover.groups if g != resource]
        need = _needed(prover, resource, enforce, time_limit * 0.3)
        if need is None:
            need = _needed(prover, resource, others, time_limit * 0.2)
        path, setting = find_setting(plan, *group_paths(plan, kind, name))
        span = setting.span if setting is not None else None
        if need is not None:
            amount, m, b = need[:3]
            extra = [g for g in (need[3] if len(need) > 3 else []) if g not in others]
            others = others + extra
            other_words = ", ".join(describe(plan, *g) for g in others) or "the demand"
            labels += tuple(
                Label(s.span, describe(plan, *g))
                for g in extra
                if (s := find_setting(plan, *group_paths(plan, *g))[1]) is not None
                and s.span is not None
            )
            where = f" in {plan.months[m]}" if m is not None else ""
            if b is not None and m is not None:
                where += f" ({_block_label(ctx, m, b)})"
            diag, msg = _resource_message(plan, kind, name, amount, where, other_words)
            return [
                error(
                    diag[0],
                    msg,
                    span,
                    label=diag[1],
                    labels=labels,
                    help=diag[2],
                    notes=(
                        f"conflicting settings: {', '.join([path, *[find_setting(plan, *group_paths(plan, *g))[0] for g in others]])}",
                    ),
                )
            ], msg
    paths = [find_setting(plan, *group_paths(plan, *g))[0] for g in core]
    first = find_setting(plan, *group_paths(plan, *core[0]))[1]
    msg = f"these settings cannot all hold{month_words}: " + ", ".join(
        describe(plan, *g) for g in core
    )
    return [
        error(
            "E0454",
            msg,
            first.span if first else None,
            labels=labels[1:] if first else labels,
            notes=(f"conflicting settings: {', '.join(paths)}",),
            help="relax one of them (more zones or offerings, less redundancy, a longer deadline)",
        )
    ], msg


def _resource_message(
    plan: Plan, kind: str, name: str, amount: float, where: str, others: str
) -> tuple[tuple[str, str, str], str]:
    cur = plan.currency
    if kind == "budget_monthly":
        bud = next(b for b in plan.budgets if b.name == name)
        cap = float(bud.monthly or 0)
        msg = (
            f"budget {_money(cap, cur)}/month is below the cheapest plan that keeps {others}: "
            f"{_money(amount, cur)}{where}, {_money(amount - cap, cur)} over"
        )
        # (the amount keeps every other setting of the plan too: it is what the budget must allow)
        return (
            "E0450",
            f"needs {_money(amount, cur)}/month",
            "raise the budget, or relax one of the other settings",
        ), msg
    if kind == "budget_total":
        bud = next(b for b in plan.budgets if b.name == name)
        cap = float(bud.total or 0)
        msg = (
            f"total budget {_money(cap, cur)} is below the cheapest plan that keeps {others}: "
            f"{_money(amount, cur)}, {_money(amount - cap, cur)} over"
        )
        return (
            "E0451",
            f"needs {_money(amount, cur)}",
            "raise the budget, or relax one of the other settings",
        ), msg
    if kind == "quota":
        q = next(q for q in plan.quotas if q.name == name)
        unit = _unit_of(kind, name, plan)
        limit = q.max_gpu if unit == "GPU" else q.max_vcpu if unit == "vCPU" else q.max_instances
        msg = f"quota {name} allows {limit} {unit} but {others} need {math.ceil(amount - 1e-9):g} {unit}{where}"
        return (
            "E0452",
            f"needs {math.ceil(amount - 1e-9):g} {unit}",
            "raise the quota (or ask the provider), or relax the other settings",
        ), msg
    cap = float(plan.commitments.max_hourly or 0)
    msg = f"the commitment cap {_money(cap, cur)}/h is below what {others} need: {_money(amount, cur)}/h{where}"
    return (
        "E0453",
        f"needs {_money(amount, cur)}/h",
        "raise the cap or let on-demand carry more",
    ), msg


def _block_label(ctx: SolveContext, m: int, b: int) -> str:
    for blk in ctx.blocks[m]:
        if blk.index == b:
            return blk.label or f"block {b}"
    return f"block {b}"


def _months_of(ctx: SolveContext, plan: Plan) -> str:
    months = [m for m in range(plan.horizon) if ctx.included(m)]
    if len(months) == 1 and plan.horizon > 1:
        return f" in {plan.months[months[0]]}"
    return ""


# --------------------------------------------------------------------------- budget floors

# A month's relaxation is bounded by its LP up to this many variables (else CP-SAT's bound).
_LP_MAX_VARIABLES = 60_000
# Month relaxations this small are also solved by CP-SAT (integer counts: tighter, exact).
_CP_MAX_VARIABLES = 500
# Months tried (highest model-layer floor first) before giving up on a proof.
_TRIES = 3


def _month_floor(
    ctx: SolveContext,
    name: str,
    m: int,
    enforce: list[Group] | None,
    deadline: float,
    seed: int,
    cap: float,
    small: bool = False,
) -> tuple[float, float, bool] | None:
    """A proven lower bound on what month ``m`` costs in budget ``name``'s scope, with every
    setting in ``enforce`` (None: all) kept and that budget lifted, and the amount to show:
    the month's cheapest plan when it is proven (True), else the bound (False). None when not proven in time
    or when the month conflicts without the budget.

    The month's relaxation (``month_relaxation``) is minimised as an LP, and small ones
    (``_CP_MAX_VARIABLES``) also by CP-SAT when the LP does not reach ``cap`` or when
    ``small`` asks for the exact amount (integer counts: tighter, and exact when proven). Its cost coefficients are rounded up to the
    model's money unit, so for the bound each is taken one unit lower (every variable appears
    once in a month's cost), and the existing fleet's constant likewise: the bound is below
    the exact cost of any plan of the month."""
    from capdsl.solve.relax import lp_bound

    f, _ = formulate(month_relaxation(ctx, m), assumptions=True, minimize=False)
    lifted = ("budget_monthly", name)
    _pin(f, list(f.groups) if enforce is None else enforce, lifted)
    months = f.budget_month.get(name, [])
    if m >= len(months):
        return None
    expr, const = months[m]
    f.model.minimize(expr)
    obj = f.model.proto.objective
    for i, k in enumerate(obj.coeffs):
        if k > 0:
            obj.coeffs[i] = k - 1
    fixed = max(0, const - 1) / f.money
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    lb: float | None = None
    if f.n_variables <= _LP_MAX_VARIABLES:
        value = lp_bound(replace(f, constant=Fraction(0), objective_weight=1), time_limit=left)
        lb = value + fixed if value is not None else None
    if f.n_variables > _CP_MAX_VARIABLES or (lb is not None and lb <= cap and not small):
        return (lb, lb, False) if lb is not None else None
    solver = _one_worker(seed)
    solver.parameters.max_deterministic_time = 0.5
    solver.parameters.max_time_in_seconds = max(0.1, deadline - time.perf_counter())
    code = solver.solve(f.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return (lb, lb, False) if lb is not None else None
    bound = max(lb or 0.0, solver.best_objective_bound / f.money + fixed)
    if code == cp_model.OPTIMAL:
        return bound, max(bound, (solver.value(expr) + const) / f.money), True
    return bound, bound, False


def budget_floor(
    plan: Plan, ctx: SolveContext, *, time_limit: float, seed: int = 0
) -> tuple[list[Diagnostic], str] | None:
    """A hard monthly budget that no plan can meet, proven before any search: in some month,
    a lower bound on the month's cost in the budget's scope (``_month_floor``: that month on
    its own, every other setting kept, new reservations rented for just that month) exceeds
    the cap. Names the first month of that run, the amount, and the settings that push it
    over (each one's removal brings the bound under the cap, as far as time allows).
    None when no month is proven over within ``time_limit``."""
    from capdsl.model.checks import budget_scope, month_cost_floor

    deadline = time.perf_counter() + time_limit
    months = [m for m in range(plan.horizon) if ctx.included(m)]
    for bud in plan.budgets:
        if not bud.hard or bud.monthly is None or not months:
            continue
        cap = float(bud.monthly)
        scope = budget_scope(plan, bud)
        rough = {m: month_cost_floor(plan, m, scope, with_fleet=not bud.workloads) for m in months}
        order = sorted(months, key=lambda m: (-rough[m], m))
        found: int | None = None
        floors: dict[int, tuple[float, bool]] = {}
        for m in order[:_TRIES]:
            got = _month_floor(ctx, bud.name, m, None, deadline, seed, cap, small=True)
            if got is not None and got[0] > cap:
                found, floors[m] = m, got[1:]
                break
        if found is None:
            continue
        first = found
        for m in range(found - 1, -1, -1):  # the run of months over, back to its first
            if not ctx.included(m):
                break
            got = _month_floor(ctx, bud.name, m, None, deadline, seed, cap, small=True)
            if got is None or got[0] <= cap:
                break
            first, floors[m] = m, got[1:]
        for m in range(found + 1, plan.horizon):  # and on (a note)
            if time.perf_counter() > deadline or not ctx.included(m):
                break
            got = _month_floor(ctx, bud.name, m, None, deadline, seed, cap, small=True)
            if got is None or got[0] <= cap:
                break
            floors[m] = got[1:]
        return _budget_floor_diagnostic(plan, ctx, bud.name, cap, first, floors, deadline, seed)
    return None


def _budget_floor_diagnostic(
    plan: Plan,
    ctx: SolveContext,
    name: str,
    cap: float,
    month: int,
    floors: dict[int, tuple[float, bool]],
    deadline: float,
    seed: int,
) -> tuple[list[Diagnostic], str]:
    f, _ = formulate(month_relaxation(ctx, month), assumptions=True, minimize=False)
    lifted: Group = ("budget_monthly", name)
    core = sorted(g for g in f.groups if g != lifted)
    for g in list(core):  # drop what the month stays over without
        if time.perf_counter() > deadline:
            break
        trial = [c for c in core if c != g]
        got = _month_floor(ctx, name, month, trial, deadline, seed, cap)
        if got is not None and got[0] > cap:
            core = trial
    # a workload's growth drives every other setting of it to this month: name it too
    grown = {
        w
        for k, w in core
        if k not in _RESOURCE
        and ("demand", w) in f.groups
        and find_setting(plan, *group_paths(plan, "demand", w))[0].endswith(".growth")
    }
    core = sorted(set(core) | {("demand", w) for w in grown})
    core.sort(key=lambda g: (g[1], g[0] != "demand", g))
    amount, exact = floors[month]
    cur = plan.currency
    words = ", ".join(describe(plan, *g) for g in core) or "the demand"
    msg = (
        f"budget {_money(cap, cur)}/month is below the cheapest plan that keeps {words}: "
        f"{'' if exact else 'at least '}{_money(amount, cur)} in {plan.months[month]}, "
        f"{_money(amount - cap, cur)} over"
    )
    path, setting = find_setting(plan, *group_paths(plan, "budget_monthly", name))
    labels = tuple(
        Label(s.span, describe(plan, *g))
        for g in core
        if (s := find_setting(plan, *group_paths(plan, *g))[1]) is not None and s.span is not None
    )
    later = [plan.months[m] for m in sorted(floors) if m > month]
    notes = [
        "conflicting settings: "
        + ", ".join([path, *(find_setting(plan, *group_paths(plan, *g))[0] for g in core)]),
        ("the cheapest plan of " if exact else "a lower bound on any plan of ")
        + f"{plan.months[month]} on its own, every setting kept and new reservations rented "
        "for just that month (proven before any search)",
    ]
    if later:
        notes.append(f"also over: {', '.join(later[:8])}" + (" ..." if len(later) > 8 else ""))
    return [
        error(
            "E0450",
            msg,
            setting.span if setting is not None else None,
            label=f"needs {'' if exact else 'at least '}{_money(amount, cur)}/month",
            labels=labels,
            notes=tuple(notes),
            help="raise the budget, or relax one of the other settings",
        )
    ], msg
