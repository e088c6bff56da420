"""The services' month plans mixed (``columns.py``, ``Decomposer.mix``): on plans of one demand
level a month, one plan per (service, month) picked among candidates, with the reservations
bought for them, by a master model."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from fractions import Fraction

import pytest
import solve_factory as f
from test_solve_chain import mixed_plan
from test_solve_decompose_rounds import decomposer

from capdsl.solve import solver
from capdsl.solve.columns import Column, column, master, moved, undominated
from capdsl.solve.context import SPOT, STANDARD
from capdsl.solve.formulate import monthly_rate
from capdsl.solve.prune import prepare

# the spreadsheet's plan, re-planned on its reservations, costs $4,147.20 here against the
# optimum $3,844.80, which the master finds among the services' month plans
LEVELS = [(79.2, 31.8), (80.4, 39.6), (108.0, 47.8), (122.9, 50.7)]


def searched(levels: list[tuple[float, float]]):  # type: ignore[no-untyped-def]
    """A decomposer with the chained plan as its best, and each service's month alone
    (the chain from the spreadsheet's usage, as the search runs it)."""
    d = decomposer(prepare(mixed_plan(levels)))
    _, start = d.spreadsheet(reserved=True)
    chained = d.chain(60.0, start)
    assert chained is not None
    cand = d.evaluate(chained[0], 5.0, chained[1])
    assert d.consider(cand) and cand is not None
    assert d.service_bound(60.0)
    return d, cand


def test_mixing_the_month_plans_finds_the_optimum_from_a_worse_plan() -> None:
    # the spreadsheet's plan, its blocks re-planned on its reservations, as the best
    d = decomposer(prepare(mixed_plan(LEVELS)))
    buys, start = d.spreadsheet(reserved=True)
    first = d.evaluate(buys, 5.0, start)
    assert d.consider(first) and first is not None
    assert d.service_bound(60.0)
    optimum = solver.solve(mixed_plan(LEVELS), time_limit=30, seed=0)
    assert optimum.status == "optimal"
    assert first.cost > float(optimum.objective) + 100  # $4,147.20
    assert d.mix(60.0)
    assert d.best is not None
    assert d.best.cost == pytest.approx(float(optimum.objective), rel=1e-9)
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees
    assert "services' month plans mixed" in d.log[-1] and "(best)" in d.log[-1]


def test_mixing_is_skipped_once_the_plan_meets_the_bound() -> None:
    # one month: the chained plan is the optimum and the services' bound proves it
    d, _ = searched(LEVELS[:1])
    assert d.closed()
    logged = len(d.log)
    assert not d.mix(60.0)
    assert len(d.log) == logged


def test_the_services_bound_called_again_searches_only_its_unproven_months() -> None:
    d, _ = searched(LEVELS)
    key = sorted(d.service_runs)[3]
    proven = d.service_runs[key]
    assert proven.status == "optimal" and proven.bound is not None
    # as if its search had been cut short
    d.service_runs[key] = replace(proven, status="feasible", bound=proven.bound - 50.0)
    others = {k: r for k, r in d.service_runs.items() if k != key}
    d.service_bound(60.0)
    again = d.service_runs[key]
    assert again.status == "optimal" and again.bound == pytest.approx(proven.bound)
    assert all(d.service_runs[k] is r for k, r in others.items())  # not searched again
    assert "1 searched again" in d.log[-1]
    # every month proven: nothing more to do
    logged = len(d.log)
    assert not d.service_bound(60.0)
    assert len(d.log) == logged


def _cheapest_held(need: list[int], rate: Fraction, od: Fraction) -> Fraction:
    """Reservations held each month, never fewer than the month before (bought for a term
    past the horizon), the rest on demand: the cheapest, by a walk over every count."""
    top = max(need, default=0)
    best: dict[int, Fraction] = {r: Fraction(0) for r in range(top + 1)}  # held last month
    for n in need:
        step = {r: rate * r + od * max(0, n - r) for r in range(top + 1)}
        running = None
        out: dict[int, Fraction] = {}
        for r in range(top + 1):  # held now r >= held before
            running = best[r] if running is None else min(running, best[r])
            out[r] = running + step[r]
        best = out
    return min(best.values())


def test_the_master_is_the_cheapest_choice_of_columns_by_brute_force() -> None:
    d, chained = searched(LEVELS)
    ctx = d.ctx
    # two columns per (service, month): its month alone, and its plan in the chained plan
    columns: dict[tuple[str, int], list[Column]] = {}
    for pair, run in sorted(d.service_runs.items()):
        w, m = pair
        mine = {k: n for k, n in chained.use.items() if k[0] == w and k[4] == m}
        columns[pair] = [column(ctx, run.use), column(ctx, mine)]
    pairs = sorted(columns)
    offerings = sorted(ctx.pools)
    hpm = ctx.hours_per_month
    hours = [ctx.blocks[m][0].billed for m in range(ctx.horizon)]
    prices = {o.id: o.offering for o in ctx.plan.offerings}
    best = None
    for pick in itertools.product(range(2), repeat=len(pairs)):
        chosen = [columns[p][k] for p, k in zip(pairs, pick, strict=True)]
        cost = sum((c.other for c in chosen), Fraction(0))
        for t in offerings:
            need = [0] * ctx.horizon
            for (_w, m), c in zip(pairs, chosen, strict=True):
                need[m] += c.std.get(t, 0)
            (choice,) = ctx.pools[t].choices
            od = Fraction(prices[t].on_demand_hourly) * hours[0]
            assert all(h == hours[0] for h in hours)
            cost += _cheapest_held(need, monthly_rate(choice, hpm), od)
        best = cost if best is None else min(best, cost)
    hint = {p: 1 for p in pairs}
    res = master(ctx, columns, hint, hint_buys=chained.buys, dtime=10.0, seed=0, workers=1)
    assert res.status == "optimal"
    assert best is not None and res.objective == pytest.approx(float(best), abs=0.01)
    assert set(res.chosen) == set(pairs)


def test_a_dominated_column_is_dropped_and_the_hint_follows_it() -> None:
    cheap = Column({}, {"a": 2}, Fraction(1))
    dearer = Column({}, {"a": 3}, Fraction(1))  # more instances, no cheaper otherwise
    other = Column({}, {"b": 1}, Fraction(5))  # a different offering: kept
    same = Column({}, {"a": 2}, Fraction(1))  # a tie: the first kept
    kept, hint = undominated({("web", 0): [dearer, cheap, other, same]}, {("web", 0): 0})
    assert kept[("web", 0)] == [cheap, other]
    assert hint[("web", 0)] == 0  # the hinted (dearer) column's place taken by the cheap one


def test_a_column_counts_standard_instances_and_prices_spot() -> None:
    o = f.offering("a.x10", od="0.10", spot="0.03", reserved={"1y-no_upfront": (0, "0.06")})
    plain = f.offering("b.x10", od="0.20")  # no reservation offered: paid on demand
    w = f.workload("web", [(o, 10.0), (plain, 10.0)], spot=f.SpotPolicy(allowed=True))
    ctx = prepare(f.plan([o, plain], [w], [{"web": [50.0]}], options=["1y-no_upfront"]))
    b = ctx.blocks[0][0]
    z = f.ZONES[0]
    use = {
        ("web", o.id, z, STANDARD, 0, b.index): 3,
        ("web", o.id, z, SPOT, 0, b.index): 2,
        ("web", plain.id, z, STANDARD, 0, b.index): 1,
    }
    col = column(ctx, use)
    assert col.std == {o.id: 3}
    assert col.other == (2 * Fraction("0.03") + Fraction("0.20")) * b.billed
    # the same usage in another month of one block
    assert set(moved(ctx, use, 0)) == set(use)
    assert defaultdict(int, col.std) == defaultdict(int, column(ctx, moved(ctx, use, 0)).std)
