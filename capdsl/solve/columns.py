"""The services' month plans mixed: a plan chosen among plans of each service for each month.

On plans of one demand level a month, each service's month alone is a small model, proven in
milliseconds with its reservations rented (``decompose.Decomposer.service_bound``). Their sum
is a lower bound; on the benchmarks a plan is dearer than it mostly because the reservations
it holds must serve every month of their term: a month's best mix of sizes (two 12xlarge, an
8xlarge, a 2xlarge and a large) does not nest in the next month's best mix, and the
month-by-month plan (``Decomposer.chain``) keeps what earlier months bought, one month at a
time, each month's choice blind to the next.

Here each (service, month) has candidate plans, its *columns* (``Decomposer.mix``): its plan
in every plan the search has made; its best plan alone, also in the earlier months it serves
(checked by their own models); and its best plan on the reservations a column of the month
before holds, which nests in it by construction. The master model picks one column for each
(service, month) and the reservations bought over the horizon that serve them -- bought in
any month, held for their whole term, priced as the exact model prices them -- or on-demand
for what they do not cover. Its plan then goes through the same scheduling and verification
as any other (``Decomposer.repriced``): the master leaves out quotas, budgets, the commitment
cap and the batch work, which the plan is checked against.

The L benchmark with one level a month at 30 s: $22,399 -> $22,059 (gap 2.55% -> 0.88%;
generated with seeds 1 and 2: 2.36% -> 0.98%, 2.48% -> 0.68%); M at 10 s: $40,249 (0.73%,
unchanged), seeds 1 and 2: 0.94% -> 0.70%, 4.80% -> 2.69%.

With time to spare, more columns come by *column generation* (``Decomposer.price_columns``):
the master's LP relaxation (``master_lp``: columns mixed in fractions, reservations bought in
fractions and held for their term) prices each offering's standard instance in each month by
its dual (``Prices``), each service's month is searched for its cheapest plan at those prices,
and the plans that would lower the LP are added, round after round. The duals are made
exactly feasible for the reservations and the on-demand (no reservation worth more than it
costs over the months it serves), so the priced months' optima -- CP-SAT's bounds on them --
less what the reservations already owned are worth, bound every plan (a Lagrangian bound).
Where demand dips, that bound holds a reservation through the dip, where the services'
months alone rent it only for the months it is used: a plan of three months whose middle
month dips is bounded at $3,067.20 by the months alone and at its optimum, $3,700.80, by the
priced months. Where each month's integer plans matter more than the term, the months alone
bound higher (the ``LEVELS`` test plan: $3,823.20 against $3,816.00); the plan keeps the
higher bound."""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ortools.linear_solver import pywraplp  # type: ignore[attr-defined]
from ortools.sat.python import cp_model

from capdsl.solve.context import SPOT, STANDARD, SolveContext, purchase_months
from capdsl.solve.formulate import UseKey
from capdsl.solve.prune import choice_cost

Pair = tuple[str, int]  # (service, month)


@dataclass(frozen=True)
class Column:
    """One service's instances in one month, and what the master needs of them: its
    standard instances of each offering with reservations (``std``, which the reservations
    or on-demand pay for), and what the others cost (``other``: spot, and on-demand of
    offerings without reservations)."""

    use: Mapping[UseKey, int]
    std: Mapping[str, int]
    other: Fraction

    @property
    def signature(self) -> tuple[tuple[tuple[str, int], ...], Fraction]:
        """What the master sees of it: columns of one signature are interchangeable."""
        return tuple(sorted(self.std.items())), self.other


def column(ctx: SolveContext, use: Mapping[UseKey, int]) -> Column:
    """The column of a service's instances in one month of one block."""
    std: dict[str, int] = defaultdict(int)
    other = Fraction(0)
    offerings = {o.id: o.offering for o in ctx.plan.offerings}
    for (_w, t, z, kind, m, b), n in use.items():
        if n <= 0:
            continue
        if kind == STANDARD and t in ctx.pools:
            std[t] += n
            continue
        price = offerings[t].spot_hourly[z] if kind == SPOT else offerings[t].on_demand_hourly
        assert price is not None
        other += n * Fraction(price) * block_hours(ctx, m, b)
    return Column(dict(use), dict(std), other)


def block_hours(ctx: SolveContext, month: int, block: int) -> Fraction:
    """The billed hours of a block."""
    return next(b.billed for b in ctx.blocks[month] if b.index == block)


def moved(ctx: SolveContext, use: Mapping[UseKey, int], month: int) -> dict[UseKey, int]:
    """A one-block month's usage as the usage of ``month`` (also of one block)."""
    block = ctx.blocks[month][0].index
    return {(w, t, z, kind, month, block): n for (w, t, z, kind, _m, _b), n in use.items()}


def undominated(
    columns: Mapping[Pair, Sequence[Column]], hint: Mapping[Pair, int]
) -> tuple[dict[Pair, list[Column]], dict[Pair, int]]:
    """Each pair's columns without those another of its columns dominates (no more standard
    instances of any offering, costing no more otherwise: whatever serves the one serves
    the other), and the hint moved to the column that dominates the hinted one."""

    def covers(a: Column, b: Column) -> bool:  # a is as good as b
        return a.other <= b.other and all(n <= b.std.get(t, 0) for t, n in a.std.items())

    kept: dict[Pair, list[Column]] = {}
    moved_hint: dict[Pair, int] = {}
    for pair, cols in columns.items():
        keep = [
            c
            for k, c in enumerate(cols)
            if not any(
                covers(d, c) and (not covers(c, d) or j < k) for j, d in enumerate(cols) if j != k
            )
        ]
        kept[pair] = keep
        h = hint.get(pair)
        if h is not None:
            moved_hint[pair] = next(k for k, c in enumerate(keep) if covers(c, cols[h]))
    return kept, moved_hint


@dataclass
class MasterResult:
    status: str  # "optimal" | "feasible" | "infeasible" | "unknown"
    chosen: dict[Pair, Column]  # the column picked for each (service, month)
    dtime: float  # CP-SAT's deterministic time
    objective: float | None = None  # money, what the master counts (not the fleet's cost)
    bound: float | None = None


def master(
    ctx: SolveContext,
    columns: Mapping[Pair, Sequence[Column]],
    hint: Mapping[Pair, int],
    *,
    hint_buys: Mapping[tuple[str, int, int], int] | None = None,
    dtime: float,
    seed: int,
    workers: int,
    stop: threading.Event | None = None,
) -> MasterResult:
    """The cheapest choice of one column per (service, month) with the reservations bought
    for them, within ``dtime`` of CP-SAT's deterministic time, from ``hint`` (a column per
    pair) and ``hint_buys`` (its reservations: (offering, choice, month) -> count), a whole
    plan for CP-SAT to start from. Reservations already owned in a zone are left out (the
    plan is checked with them)."""
    bought = hint_buys or {}
    columns, hint = undominated(columns, hint)
    plan = ctx.plan
    H = plan.horizon
    money = ctx.scaling.money if ctx.scaling is not None else 100
    hpm = ctx.hours_per_month
    offerings = {o.id: o.offering for o in plan.offerings}
    model = cp_model.CpModel()
    terms: list[tuple[cp_model.IntVar, int]] = []
    x: dict[Pair, list[cp_model.IntVar]] = {}
    need: dict[tuple[str, int], list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for pair, cols in sorted(columns.items()):
        xs = [model.new_bool_var("") for _ in cols]
        model.add_exactly_one(xs)
        x[pair] = xs
        for col, v in zip(cols, xs, strict=True):
            terms.append((v, round(col.other * money)))
            for t, n in col.std.items():
                need[(t, pair[1])].append((v, n))
        h = hint.get(pair)
        if h is not None:
            for k, v in enumerate(xs):
                model.add_hint(v, k == h)
    # the most instances of each offering a month can need
    most: dict[tuple[str, int], int] = defaultdict(int)
    for (_w, m), cols in columns.items():
        for t in {t for c in cols for t in c.std}:
            most[(t, m)] += max(c.std.get(t, 0) for c in cols)
    top: dict[str, int] = defaultdict(int)
    for (t, _m), n in most.items():
        top[t] = max(top[t], n)
    starts = purchase_months(plan)
    mode = plan.commitments.beyond_horizon
    held: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    held_hint: dict[tuple[str, int], int] = defaultdict(int)
    for t in sorted(top):
        pool = ctx.pools[t]
        for i, c in enumerate(pool.choices):
            cost = [choice_cost(c, s, H, hpm, mode) for s in starts]
            if starts and starts.start + c.term_months >= H:
                # bought in any month, held to the horizon's end: how many are held each
                # month, never fewer than the month before, each costing what a purchase
                # that month costs less one the month after (the same plans and costs as
                # purchases, with the order of the counts stated outright)
                prev = None
                count = 0
                for k, m in enumerate(starts):
                    count += bought.get((t, i, m), 0)
                    v = model.new_int_var(0, max(top[t], count), "")
                    model.add_hint(v, count)
                    held_hint[(t, m)] += count
                    if prev is not None:
                        model.add(prev <= v)
                    prev = v
                    after = cost[k + 1] if k + 1 < len(cost) else Fraction(0)
                    terms.append((v, round((cost[k] - after) * money)))
                    held[(t, m)].append(v)
                continue
            for k, s in enumerate(starts):
                n = bought.get((t, i, s), 0)
                v = model.new_int_var(0, max(top[t], n), "")
                model.add_hint(v, n)
                terms.append((v, round(cost[k] * money)))
                for m in range(s, min(H, s + c.term_months)):
                    held[(t, m)].append(v)
                    held_hint[(t, m)] += n
    for (t, m), parts in sorted(need.items()):
        demand = cp_model.LinearExpr.weighted_sum([v for v, _ in parts], [n for _, n in parts])
        cover = sum(held.get((t, m), [])) + ctx.pools[t].existing[m]
        price = offerings[t].on_demand_hourly
        if price is None:
            model.add(demand <= cover)
            continue
        wanted = sum(
            columns[pair][hint[pair]].std.get(t, 0)
            for pair in columns
            if pair[1] == m and pair in hint
        )
        extra = max(0, wanted - held_hint[(t, m)] - ctx.pools[t].existing[m])
        od = model.new_int_var(0, max(top[t], extra), "")
        model.add_hint(od, extra)
        model.add(demand <= cover + od)
        hours = ctx.blocks[m][0].billed
        terms.append((od, round(Fraction(price) * hours * money)))
    model.minimize(cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [k for _, k in terms]))
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.interleave_search = workers > 1
    prm.max_deterministic_time = max(0.005, dtime)
    prm.max_time_in_seconds = max(1.0, dtime * 20)
    if stop is not None and stop.is_set():
        return MasterResult("unknown", {}, 0.0)
    done = threading.Event()

    def watch() -> None:  # cancellable, as every search is
        assert stop is not None
        while not done.wait(0.05):
            if stop.is_set():
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, daemon=True) if stop is not None else None
    if watcher is not None:
        watcher.start()
    try:
        code = solver.solve(model)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    status = {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
    }.get(code, "unknown")
    chosen: dict[Pair, Column] = {}
    if status in ("optimal", "feasible"):
        for pair, xs in x.items():
            chosen[pair] = next(
                c for c, v in zip(columns[pair], xs, strict=True) if solver.boolean_value(v)
            )
    out = MasterResult(status, chosen, solver.deterministic_time)
    if status in ("optimal", "feasible"):
        out.objective = solver.objective_value / money
        out.bound = solver.best_objective_bound / money
    return out


@dataclass
class Prices:
    """The duals of the master's LP relaxation (``master_lp``): what one standard instance
    of an offering with reservations is worth in a month (``rent``, (offering, month) ->
    money; at most its on-demand cost, and over any reservation's term at most what the
    reservation costs), and what each (service, month) pays at best for its columns
    (``pair``). ``value`` is the LP's optimum, over the columns it has."""

    value: float
    rent: dict[tuple[str, int], float]
    pair: dict[Pair, float]


def master_lp(ctx: SolveContext, columns: Mapping[Pair, Sequence[Column]]) -> Prices | None:
    """The master's LP relaxation (GLOP): each (service, month) a convex combination of its
    columns, reservations bought in fractions (each held for its term, priced as the exact
    model prices it) or on-demand, each offering's standard instances of a month within
    them (with those already owned). Its duals, made exactly feasible for the reservations
    and the on-demand (``Prices``: a simplex's tolerances left alone, a Lagrangian bound
    from them could exceed the optimum), price the services' months in
    ``Decomposer.price_columns``. None if GLOP does not solve it."""
    plan = ctx.plan
    H = plan.horizon
    hpm = ctx.hours_per_month
    mode = plan.commitments.beyond_horizon
    offerings = {o.id: o.offering for o in plan.offerings}
    lp = pywraplp.Solver.CreateSolver("GLOP")
    assert lp is not None
    inf = lp.infinity()
    objective = lp.Objective()
    convex: dict[Pair, pywraplp.Constraint] = {}
    cover: dict[tuple[str, int], pywraplp.Constraint] = {}
    for pair, cols in sorted(columns.items()):
        convex[pair] = lp.Constraint(1, 1)
        for col in cols:
            v = lp.NumVar(0, inf, "")
            convex[pair].SetCoefficient(v, 1)
            objective.SetCoefficient(v, float(col.other))
            for t, n in col.std.items():
                key = (t, pair[1])
                if key not in cover:
                    cover[key] = lp.Constraint(-inf, ctx.pools[t].existing[pair[1]])
                cover[key].SetCoefficient(v, n)
    # what a reservation bought at ``s`` costs, and the months it serves, per offering
    terms: dict[str, list[tuple[float, range]]] = defaultdict(list)
    for t in sorted({t for t, _m in cover}):
        for c in ctx.pools[t].choices:
            for s in purchase_months(plan):
                served = range(s, min(H, s + c.term_months))
                cost = float(choice_cost(c, s, H, hpm, mode))
                terms[t].append((cost, served))
                y = lp.NumVar(0, inf, "")
                objective.SetCoefficient(y, cost)
                for m in served:
                    if (t, m) in cover:
                        cover[(t, m)].SetCoefficient(y, -1)
    od_cost: dict[tuple[str, int], float] = {}
    for (t, m), row in cover.items():
        price = offerings[t].on_demand_hourly
        if price is not None:
            od_cost[(t, m)] = float(Fraction(price) * ctx.blocks[m][0].billed)
            od = lp.NumVar(0, inf, "")
            objective.SetCoefficient(od, od_cost[(t, m)])
            row.SetCoefficient(od, -1)
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    rent = {
        k: min(max(0.0, -row.dual_value()), od_cost.get(k, math.inf)) for k, row in cover.items()
    }
    # no reservation worth more than it costs over the months it serves (scaled down where
    # the simplex's tolerance left one a hair over)
    for t, options in terms.items():
        scale = 1.0
        for cost, served in options:
            worth = sum(rent.get((t, m), 0.0) for m in served)
            if worth > cost:
                scale = min(scale, cost / worth * (1 - 1e-12))
        if scale < 1.0:
            for m in range(H):
                if (t, m) in rent:
                    rent[(t, m)] *= scale
    return Prices(objective.Value(), rent, {p: row.dual_value() for p, row in convex.items()})
