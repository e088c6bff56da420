"""Column generation on plans of one demand level a month (``Decomposer.price_columns``,
``columns.master_lp``): the master's LP duals price each service's month, the months' plans
at those prices bound every plan (a Lagrangian bound that holds reservations for their term),
and the columns found feed the master."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from test_solve_chain import mixed_plan
from test_solve_columns import LEVELS
from test_solve_decompose_rounds import decomposer

from capdsl.model.plan import Budget
from capdsl.solve import solver
from capdsl.solve.columns import column, master, master_lp
from capdsl.solve.context import purchase_months
from capdsl.solve.formulate import monthly_rate
from capdsl.solve.prune import choice_cost, prepare

# demand that dips in the middle month: renting reservations for each month alone bounds the
# plan at $3,067.20, where a reservation bought is held through the dip (optimum $3,700.80)
DIP = [(130.0, 75.0), (40.0, 20.0), (130.0, 75.0)]


def started(levels: list[tuple[float, float]] = LEVELS):  # type: ignore[no-untyped-def]
    """The spreadsheet's plan, re-planned on its reservations, as the best; each service's
    month alone for the bound (reservations rented for the month)."""
    d = decomposer(prepare(mixed_plan(levels)))
    buys, start = d.spreadsheet(reserved=True)
    first = d.evaluate(buys, 5.0, start)
    assert d.consider(first) and first is not None
    assert d.service_bound(60.0)
    return d


def optimum(levels: list[tuple[float, float]]) -> float:
    best = solver.solve(mixed_plan(levels), time_limit=30, seed=0)
    assert best.status == "optimal"
    return float(best.objective)


def test_the_priced_months_bound_the_plan_where_reservations_are_held_through_a_dip() -> None:
    d = started(DIP)
    rented = d.lower
    assert rented is not None
    opt = optimum(DIP)
    assert rented < opt - 500  # $3,067.20 against $3,700.80
    d.price_columns(60.0)
    assert d.lower == pytest.approx(opt, rel=1e-6)  # the bound meets the optimum
    assert d.lower <= opt + 1e-6
    assert d.best is not None and d.best.cost == pytest.approx(opt, rel=1e-9)
    assert d.closed()
    assert any(f"bound from its prices {opt:,.2f}" in line for line in d.log)


def test_the_master_finds_the_optimum_among_the_priced_columns_from_a_worse_plan() -> None:
    d = started()
    assert d.best is not None and d.lower is not None
    opt = optimum(LEVELS)  # $3,844.80
    assert d.best.cost > opt + 100  # the spreadsheet's plan re-planned: $4,147.20
    rented = d.lower
    assert d.price_columns(60.0)
    assert d.best.cost == pytest.approx(opt, rel=1e-9)
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees
    # here each month renting whole reservations bounds higher than the LP's fractions held:
    # the plan keeps the higher bound, and neither is above the optimum
    priced = next(ln for ln in d.log if ln.startswith("column generation: "))
    value = float(priced.rsplit(" ", 1)[1].replace(",", ""))
    assert value <= opt + 1e-6
    assert d.lower == max(rented, value)
    assert "month plans priced, mixed" in d.log[-1] and "(best)" in d.log[-1]


def test_the_masters_prices_are_exactly_feasible_for_reservations_and_on_demand() -> None:
    d = started()
    ctx = d.ctx
    for pair, run in d.service_runs.items():  # each month's plan alone, as its columns
        d.add_column(pair, column(ctx, run.use))
    prices = master_lp(ctx, d.columns)
    assert prices is not None
    assert prices.rent and all(v >= 0 for v in prices.rent.values())
    offerings = {o.id: o.offering for o in ctx.plan.offerings}
    plan = ctx.plan
    hpm = ctx.hours_per_month
    for (t, m), worth in prices.rent.items():
        od = offerings[t].on_demand_hourly
        assert od is not None
        assert worth <= float(Fraction(od) * ctx.blocks[m][0].billed)
        for c in ctx.pools[t].choices:
            for s in purchase_months(plan):
                served = range(s, min(plan.horizon, s + c.term_months))
                cost = choice_cost(c, s, plan.horizon, hpm, plan.commitments.beyond_horizon)
                assert sum(prices.rent.get((t, k), 0.0) for k in served) <= float(cost)
    # the LP over the columns is no dearer than the best plan made of them
    whole = master(ctx, d.columns, {}, dtime=10.0, seed=0, workers=1)
    assert whole.status == "optimal" and whole.objective is not None
    assert prices.value <= whole.objective + 1e-6
    assert prices.value > 0.9 * whole.objective  # (and not trivially)


def test_a_month_priced_at_the_rent_rate_is_the_month_alone() -> None:
    # at the reservations' monthly rate, a priced month is the services' bound's own model
    d = started()
    ctx = d.ctx
    hpm = ctx.hours_per_month
    rate = {
        (t, m): float(min(monthly_rate(c, hpm) for c in pool.choices))
        for t, pool in ctx.pools.items()
        for m in range(ctx.horizon)
    }
    pair = sorted(d.service_runs)[0]
    runs = d.run_all([d.priced_month(*pair, rate)], 5.0, {})
    assert runs[0].status == "optimal"
    assert runs[0].objective == pytest.approx(d.service_runs[pair].objective, abs=0.01)


def test_pricing_is_left_out_where_the_master_is_no_relaxation() -> None:
    d = started()
    assert d.pricing_is_exact()
    # a reservation owned in one zone: the master would pay for what it serves
    t, pool = next(iter(d.ctx.pools.items()))
    zonal = {"az1": (1,) * d.ctx.horizon}
    d.ctx = replace(d.ctx, pools={**d.ctx.pools, t: replace(pool, zonal=zonal)})
    assert not d.pricing_is_exact()
    logged = len(d.log)
    assert not d.price_columns(60.0)
    assert len(d.log) == logged
    # a lead time: the months before it rent nothing, and would not charge the duals
    d = started()
    plan = d.ctx.plan
    later = plan.commitments.model_copy(update={"lead_time_months": 1})
    d.ctx = replace(d.ctx, plan=plan.model_copy(update={"commitments": later}))
    assert not d.pricing_is_exact()
    # a budget: its penalties are no part of a column's cost
    soft = Budget(name="budget", monthly=Decimal(20), hard=False, penalty=Decimal(2))
    d.ctx = replace(d.ctx, plan=plan.model_copy(update={"budgets": [soft]}))
    assert not d.pricing_is_exact()
