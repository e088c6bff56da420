"""When to buy which reservations, given how many standard instances each offering runs.

Input: ``usage[t, m, b]`` = standard (non-spot) instances of offering t running in block b
of month m beyond the zonal reservations already owned there (the regional demand for
reservations). Output: purchases ``(t, choice, start) -> count`` minimising the reservations'
cost plus the on-demand cost of the usage they do not cover, under the lead time and the
commitment cap. A small exact CP-SAT model (a lot-sizing problem per offering, joined only by
the commitment cap)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction

from ortools.sat.python import cp_model

from capdsl.solve.context import SolveContext, purchase_months
from capdsl.solve.money import reservation_month_cost
from capdsl.solve.prune import choice_cost


def schedule_reservations(
    ctx: SolveContext,
    usage: Mapping[tuple[str, int, int], int],
    *,
    time_limit: float,
    seed: int = 0,
) -> dict[tuple[str, int, int], int] | None:
    """Purchases (offering, choice index, start month) -> count; None if none is feasible.

    Without a commitment cap the offerings are independent: each is its own small model,
    solved to optimality in a fraction of the (deterministic) time limit. Buying nothing is
    always feasible for an offering sold on-demand, so a model that finds nothing in its
    time leaves that offering on-demand rather than losing every offering's schedule (on a
    slow machine the XL plan's single model found nothing in its wall-clock safety net)."""
    plan = ctx.plan
    peak: dict[str, int] = defaultdict(int)
    for (t, _m, _b), n in usage.items():
        peak[t] = max(peak[t], n)
    offerings = sorted(t for t in ctx.pools if peak.get(t, 0) > 0)
    groups = [offerings] if plan.commitments.max_hourly is not None else [[t] for t in offerings]
    by_offering: dict[str, dict[tuple[str, int, int], int]] = defaultdict(dict)
    for key, n in usage.items():
        by_offering[key[0]][key] = n
    out: dict[tuple[str, int, int], int] = {}
    for group in groups:
        share = {k: n for t in group for k, n in by_offering[t].items()}
        got = _schedule(ctx, share, peak, time_limit=time_limit / len(groups), seed=seed)
        if got is None:
            return None
        out.update(got)
    return out


def _schedule(
    ctx: SolveContext,
    usage: Mapping[tuple[str, int, int], int],
    peak: Mapping[str, int],
    *,
    time_limit: float,
    seed: int,
) -> dict[tuple[str, int, int], int] | None:
    """One lot-sizing model over the offerings ``usage`` names (see the module docstring)."""
    plan = ctx.plan
    assert ctx.scaling is not None
    money = ctx.scaling.money
    hpm = ctx.hours_per_month
    H = plan.horizon
    offerings = {o.id: o.offering for o in plan.offerings}
    billed = {(blk.month, blk.index): blk.billed for bs in ctx.blocks for blk in bs}
    model = cp_model.CpModel()
    starts = list(purchase_months(plan))
    names = sorted({t for t, _m, _b in usage})
    buy: dict[tuple[str, int, int], cp_model.IntVar] = {}
    for t in names:
        pool = ctx.pools.get(t)
        if pool is None:
            continue
        for i, _c in enumerate(pool.choices):
            for s in starts:
                buy[(t, i, s)] = model.new_int_var(0, peak[t], "")
    objective_v: list[cp_model.IntVar] = []
    objective_c: list[int] = []
    for (t, i, s), v in buy.items():
        c = ctx.pools[t].choices[i]
        objective_v.append(v)
        objective_c.append(
            round(choice_cost(c, s, H, hpm, plan.commitments.beyond_horizon) * money)
        )
    reserved_only = False
    for (t, m, b), n in sorted(usage.items()):
        if n <= 0 or t not in ctx.pools:
            continue
        pool = ctx.pools[t]
        active = [
            bv
            for i, c in enumerate(pool.choices)
            for s in range(max(0, m - c.term_months + 1), m + 1)
            if (bv := buy.get((t, i, s))) is not None
        ]
        fixed = pool.existing[m]
        od = offerings[t].on_demand_hourly
        if od is None:  # reservations only: they must cover it
            if not active and fixed < n:
                return None
            if active:
                model.add(sum(active) + fixed >= n)
                reserved_only = True
            continue
        if not active:
            continue  # nothing to decide: the overflow is a constant
        over = model.new_int_var(0, n, "")
        model.add(over >= n - fixed - sum(active))
        objective_v.append(over)
        objective_c.append(round(Fraction(od) * billed[(m, b)] * money))
    cap = plan.commitments.max_hourly
    if cap is not None:
        for m in range(H):
            vs = [
                (v, math.ceil(Fraction(ctx.pools[t].choices[i].effective_hourly(hpm)) * money))
                for (t, i, s), v in buy.items()
                if s <= m < s + ctx.pools[t].choices[i].term_months
            ]
            if vs:
                model.add(
                    cp_model.LinearExpr.weighted_sum([v for v, _ in vs], [c for _, c in vs])
                    <= math.floor(Fraction(cap) * money)
                )
    model.minimize(cp_model.LinearExpr.weighted_sum(objective_v, objective_c))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = max(0.05, time_limit)
    solver.parameters.max_time_in_seconds = max(0.1, time_limit * 1.5 + 0.5)
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # nothing found in time: buying nothing is feasible unless an offering is sold
        # as reservations only
        return None if reserved_only else {}
    values = solver.response_proto.solution
    return {k: int(values[v.index]) for k, v in buy.items() if values[v.index]}


def owned_by_month(
    ctx: SolveContext, buys: Mapping[tuple[str, int, int], int]
) -> tuple[dict[tuple[str, int], int], tuple[Fraction, ...]]:
    """New reservations owned per (offering, month) and what they cost per month."""
    plan = ctx.plan
    H = plan.horizon
    owned: dict[tuple[str, int], int] = defaultdict(int)
    cost = [Fraction(0)] * H
    for (t, i, s), n in buys.items():
        c = ctx.pools[t].choices[i]
        for m in range(s, min(H, s + c.term_months)):
            owned[(t, m)] += n
            cost[m] += n * reservation_month_cost(
                c.hourly,
                c.upfront,
                c.term_months,
                s,
                m,
                H,
                ctx.hours_per_month,
                plan.commitments.beyond_horizon,
            )
    return dict(owned), tuple(cost)
