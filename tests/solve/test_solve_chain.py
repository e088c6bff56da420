"""Plans whose months are small (one or a few demand levels a month).

The chained plan (``Decomposer.chain``): reservations chosen month by month, each month's
services planned whole on what earlier months bought (free) and new reservations rented at
their monthly rate, then together from that plan. The bound from each service's blocks
alone (``Decomposer.service_bound``), for months of one level."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import solve_factory as f
from test_solve_decompose_rounds import decompose_alone, decomposer

import capdsl.solve.decompose as decompose
from capdsl.model.plan import Budget
from capdsl.solve import solver
from capdsl.solve.context import STANDARD
from capdsl.solve.decompose import (
    canonical_zones,
    reserved_by_service,
    solve_decomposed,
    unit_context,
)
from capdsl.solve.formulate import formulate
from capdsl.solve.prune import prepare
from capdsl.solve.relax import capacity_bound
from capdsl.solve.search import run_model


def decompose_alone_warm(ctx, use, buys):  # type: ignore[no-untyped-def]
    """The decomposition on one thread from a previous plan (a what-if's warm start)."""
    return solve_decomposed(
        ctx,
        time_limit=5,
        seed=0,
        threads=1,
        stop=None,
        on_progress=None,
        hint_use=use,
        hint_buys=dict(buys),
    )


def mixed_plan(levels: list[tuple[float, float]], **kw):  # type: ignore[no-untyped-def]
    """Two services on three sizes of one family (reserved 1y at 60% of on-demand), each
    surviving a zone of three; ``levels[m]``: the two services' flat demand in month m."""
    small = f.offering("a.x10", od="0.10", reserved={"1y-no_upfront": (0, "0.06")})
    mid = f.offering("a.x25", od="0.25", vcpu=4, reserved={"1y-no_upfront": (0, "0.15")})
    big = f.offering("a.x40", od="0.40", vcpu=8, reserved={"1y-no_upfront": (0, "0.24")})
    offs = [small, mid, big]
    web = f.workload("web", [(small, 10.0), (mid, 25.0), (big, 40.0)], survive_zones=1)
    api = f.workload("api", [(small, 10.0), (mid, 25.0), (big, 40.0)], survive_zones=1)
    return f.plan(
        offs,
        [web, api],
        [{"web": [a], "api": [b]} for a, b in levels],
        options=["1y-no_upfront"],
        **kw,
    )


def test_one_month_of_one_level_chained_is_the_optimum() -> None:
    # a one-month horizon: renting a reservation for the month costs what buying it does
    # (amortised), so the month's model is the plan's, and its blocks re-planned on its
    # reservations are the optimum the whole-plan search proves
    p = mixed_plan([(130.0, 75.0)])
    d = decomposer(prepare(p))
    chained = d.chain(60.0, {})
    assert chained is not None
    buys, use = chained
    cand = d.evaluate(buys, 5.0, use)
    best = solver.solve(p, time_limit=20, seed=0)
    assert best.status == "optimal"
    assert cand is not None and cand.cost == pytest.approx(float(best.objective), rel=1e-9)
    assert d.checked(dict(cand.buys), dict(cand.use)) is not None  # the verifier agrees


def test_what_earlier_months_bought_is_not_bought_again() -> None:
    # the same demand every month: everything is bought in the first month, and the later
    # months run on it (free to them), renting nothing
    d = decomposer(prepare(mixed_plan([(130.0, 75.0)] * 3)))
    chained = d.chain(60.0, {})
    assert chained is not None
    buys, use = chained
    assert buys and all(start == 0 for (_t, _i, start) in buys)
    for m in range(3):
        assert any(k[4] == m and n for k, n in use.items())  # every month planned


def test_the_chained_plans_reservations_keep_the_commitment_cap() -> None:
    # each month alone would rent what pays off ($1.02 an hour of reservations for this
    # demand); the reservations bought are those that serve the chain's usage best within
    # the cap of $0.30 an hour, and the verifier accepts the plan
    levels = [(130.0, 75.0), (150.0, 80.0)]
    free = decomposer(prepare(mixed_plan(levels)))
    chained = free.chain(60.0, {})
    assert chained is not None

    def hourly(ctx, buys):  # type: ignore[no-untyped-def]
        return max(
            sum(
                float(ctx.pools[t].choices[i].hourly) * n for (t, i, s), n in buys.items() if s <= m
            )
            for m in range(2)
        )

    assert hourly(free.ctx, chained[0]) > 0.3
    d = decomposer(prepare(mixed_plan(levels, max_hourly=0.3)))
    capped = d.chain(60.0, {})
    assert capped is not None
    buys, use = capped
    assert 0 < hourly(d.ctx, buys) <= 0.3 + 1e-9
    cand = d.evaluate(buys, 5.0, use)
    assert cand is not None and d.checked(dict(cand.buys), dict(cand.use)) is not None


def test_a_rented_month_runs_first_on_the_reservations_already_bought() -> None:
    ctx = prepare(mixed_plan([(130.0, 75.0)]))
    alone = unit_context(ctx, (0, None), "rent")
    plain = run_model(formulate(alone)[0], time_limit=10, seed=0, workers=1)
    assert plain.status == "optimal" and any(plain.buy.values())
    # the month's reservations already bought: they are free, nothing more is rented
    owned = {(t, 0): n for (t, _i, _s), n in plain.buy.items() if n}
    given = unit_context(ctx, (0, None), "rent", owned)
    free = run_model(formulate(given)[0], time_limit=10, seed=0, workers=1)
    assert free.status == "optimal" and not any(free.buy.values())
    assert plain.objective is not None and free.objective is not None
    assert free.objective < plain.objective


def test_zones_are_renamed_to_run_the_most_instances_first() -> None:
    ctx = replace(prepare(mixed_plan([(130.0, 75.0)])), zone_groups=(("z1", "z2", "z3"),))
    use = {
        ("web", "a.x10", "z1", STANDARD, 0, 0): 1,
        ("web", "a.x10", "z2", STANDARD, 0, 0): 3,
        ("api", "a.x40", "z3", STANDARD, 0, 0): 2,
        ("api", "a.x10", "elsewhere", STANDARD, 0, 0): 5,  # in no group: kept
    }
    assert canonical_zones(ctx, use) == {
        ("web", "a.x10", "z3", STANDARD, 0, 0): 1,
        ("web", "a.x10", "z1", STANDARD, 0, 0): 3,
        ("api", "a.x40", "z2", STANDARD, 0, 0): 2,
        ("api", "a.x10", "elsewhere", STANDARD, 0, 0): 5,
    }


def test_reservations_owned_are_shared_out_by_the_services_peak_use() -> None:
    ctx = prepare(mixed_plan([(130.0, 75.0)]))
    use = {
        ("web", "a.x10", "z1", STANDARD, 0, 0): 2,
        ("api", "a.x10", "z2", STANDARD, 0, 0): 1,
        ("api", "a.x10", "z3", STANDARD, 0, 0): 1,
        ("api", "a.x10", "z3", STANDARD, 0, 1): 1,  # a quieter block: its peak is 2
        ("web", "a.x40", "z1", STANDARD, 0, 0): 1,  # none of these owned
        ("web", "a.x10", "z1", STANDARD, 1, 0): 9,  # another month
    }
    owned = {("a.x10", 0): 3, ("a.x10", 1): 9}
    # api first by name: its 2, then web the 1 left
    assert reserved_by_service(ctx, use, owned, 0) == {"api": {"a.x10": 2}, "web": {"a.x10": 1}}


def test_the_search_tries_the_chained_plan_where_months_are_small() -> None:
    p = mixed_plan([(130.0, 75.0), (150.0, 80.0), (170.0, 90.0)])
    res, d = decompose_alone(prepare(p), time_limit=10)
    assert res.status in ("optimal", "feasible")
    assert any(line.startswith("chained plan, month by month") for line in d.log)
    assert d.best is not None and d.checked(dict(d.best.buys), dict(d.best.use)) is not None


def test_the_chained_plan_is_skipped_when_its_models_are_too_large_or_too_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = prepare(mixed_plan([(130.0, 75.0), (150.0, 80.0)]))
    monkeypatch.setattr(decompose, "CHAIN_MAX_VARIABLES", 1)
    d = decomposer(ctx)
    assert d.chain(60.0, {}) is None and d.work == 0
    monkeypatch.setattr(decompose, "CHAIN_MAX_VARIABLES", 1000)
    d = decomposer(ctx)
    assert d.chain(1e-6, {}) is None and d.work == 0
    assert d.log[-1].startswith("chained plan skipped (estimated")


@pytest.mark.parametrize("fleet", [0, 2])
def test_the_services_blocks_alone_bound_the_plan(fleet: int) -> None:
    p = mixed_plan([(130.0, 75.0), (150.0, 80.0)])
    if fleet:  # reservations owned, at an hourly cost: counted once a month
        owned = f.existing(p.offerings[0], fleet, zone=None, hourly=0.05)
        p = p.model_copy(update={"fleet": [owned]})
    best = solver.solve(p, time_limit=20, seed=0)
    assert best.status == "optimal" and best.objective is not None
    d = decomposer(prepare(p))
    assert d.service_bound(30.0)
    assert d.lower is not None
    # the objective sums each month's cost rounded to the cent
    assert d.lower <= float(best.objective) + 0.01 * p.horizon
    assert d.log[-1].startswith("bound from 4 service blocks alone")
    assert d.lower >= capacity_bound(prepare(p))  # integer models: not below the prices'
    if not fleet:
        # one level a month, the reservations held for the whole horizon at the same rate
        # every month: each month's relaxation is the plan's month, the bound its optimum
        assert d.lower == pytest.approx(float(best.objective), abs=0.01 * p.horizon)


def test_the_services_blocks_alone_are_not_tried_on_months_of_several_levels() -> None:
    small = f.offering("a.x10", od="0.10", reserved={"1y-no_upfront": (0, "0.06")})
    web = f.workload("web", [(small, 10.0)])
    p = f.plan([small], [web], [{"web": [30.0] * 12 + [10.0] * 12}], options=["1y-no_upfront"])
    d = decomposer(prepare(p))
    assert not d.service_bound(30.0) and d.lower is None and d.work == 0


def test_a_spreadsheet_start_over_the_commitment_cap_is_not_reserved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the spreadsheet reserves without the cap; when its usage cannot be rescheduled (the
    # scheduler's model found nothing in its time), its own reservations must not start the
    # search: every plan the search keeps stays within the cap
    p = mixed_plan([(130.0, 75.0), (150.0, 80.0)], max_hourly=0.1)
    ctx = prepare(p)
    d = decomposer(ctx)
    buys, _use = d.spreadsheet(reserved=True)
    assert not d.purchasable(buys) and d.purchasable({})
    monkeypatch.setattr(decompose.Decomposer, "schedule", lambda self, use: None)
    monkeypatch.setattr(decompose, "CHAIN_MAX_VARIABLES", 0)  # (its reservations: scheduled)
    res, d = decompose_alone(ctx, time_limit=5)
    assert res.status == "feasible" and d.best is not None
    assert d.purchasable(d.best.buys)
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees


def test_a_warm_start_whose_purchases_an_edit_ruled_out_is_rescheduled() -> None:
    # the previous plan bought in its first month; the edited plan orders a month ahead and
    # caps what reservations commit an hour: its purchases are not the warm start's
    levels = [(130.0, 75.0), (150.0, 80.0), (150.0, 80.0)]
    before = decomposer(prepare(mixed_plan(levels)))
    chained = before.chain(60.0, {})
    assert chained is not None
    buys, use = chained
    assert any(s == 0 for (_t, _i, s) in buys)
    for edit in ({"lead_time": 1}, {"max_hourly": 0.1}):
        ctx = prepare(mixed_plan(levels, **edit))
        d = decomposer(ctx)
        assert not d.purchasable(buys)
        res, d = decompose_alone_warm(ctx, use, buys)
        assert res.status in ("optimal", "feasible") and d.best is not None
        # (taken as they were, they made a plan below the bound: "optimal", and refused by
        # the verifier)
        assert d.purchasable(d.best.buys)
        assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None


@pytest.mark.parametrize("monthly", [500, 2000])
def test_sums_of_units_bound_a_plan_under_a_soft_budget_only_above_the_fleets_cost(
    monthly: int,
) -> None:
    # an existing fleet of $720 a month: under a soft budget of $500 each unit (a block, a
    # service) would pay the fleet's overrun again, and the sums were above the optimum
    # ($2,666 for a plan of $2,341); under $2,000 they bound it
    a = f.offering("a.x10", od="0.10", reserved={"1y-no_upfront": (0, "0.06")})
    web = f.workload("web", [(a, 10.0)])
    api = f.workload("api", [(a, 10.0)])
    soft = [Budget(name="budget", monthly=Decimal(monthly), hard=False, penalty=Decimal(1))]
    owned = [f.existing(a, 2, zone=None, hourly=0.5)]
    for demand in (
        {"web": [30.0] * 12 + [10.0] * 12, "api": [20.0] * 24},
        {"web": [30.0], "api": [20.0]},
    ):
        p = f.plan(
            [a], [web, api], [demand] * 2, options=["1y-no_upfront"], fleet=owned, budgets=soft
        )
        best = solver.solve(p, time_limit=10, seed=0)
        assert best.status == "optimal" and best.objective is not None
        d = decomposer(prepare(p))
        if len(d.ctx.blocks[0]) > 1:
            d.bound(5.0, {})  # the blocks' relaxation
        else:
            d.service_bound(5.0)  # one level a month: each service alone
        if monthly < 720:
            assert d.lower is None
        else:
            assert d.lower is not None and d.lower <= float(best.objective) + 0.01 * p.horizon
