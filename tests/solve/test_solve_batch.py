"""Batch work placed again, the month whole (``Decomposer.place_batch``): the blocks each do
their share of a month's batch work, pro rata to their hours; placed again with the
services' instances held fixed (``SolveContext.fixed_use``), it runs on the reservations
the services leave idle, and never beside them beyond a quota."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from solve_factory import existing, offering, plan, workload
from test_solve_decompose_rounds import decompose_alone, decomposer

from capdsl.model.plan import Plan, Quota, SpotPolicy
from capdsl.solve import solve
from capdsl.solve.context import SolveContext
from capdsl.solve.costing import price_solution
from capdsl.solve.decompose import RUN_S, RUN_S_PER_VARIABLE, Decomposer, unit_context
from capdsl.solve.extract import split_standard
from capdsl.solve.formulate import formulate
from capdsl.solve.prune import prepare
from capdsl.solve.schedule import owned_by_month
from capdsl.solve.search import run_model

DAY, NIGHT = 0, 1  # the test months' blocks: 12 busy hours first, then 12 quiet ones


def _nightly(quota: int | None = None, months: int = 2) -> Plan:
    """A service busy 12 hours a day on two owned reservations and idle at night, and 24
    units of batch work a month (one unit an instance-hour): done pro rata, half of it
    runs beside the service on demand; at night it runs free on the idle reservations."""
    a = offering("a.large", od="0.10")
    api = workload("api", [(a, 100.0)])
    jobs = workload("jobs", [(a, 1.0)], kind="batch")
    demand = [{"api": [150.0] * 12 + [0.0] * 12} for _ in range(months)]
    return plan(
        [a],
        [api, jobs],
        demand,
        work=[{"jobs": 24.0} for _ in range(months)],
        fleet=[existing(a, 2, zone=None)],
        quotas=[Quota(name="cap", offerings=(a.id,), max_instances=quota)] if quota else [],
    )


def _priced(ctx: SolveContext, use: dict) -> Fraction:  # type: ignore[type-arg]
    """A plan's exact cost, without reservations bought (``costing.price_solution``)."""
    priced = price_solution(ctx.plan, split_standard(ctx, use, {}), [])
    return priced.exact_cost + priced.penalty


def _batch_in(use: dict, block: int) -> int:  # type: ignore[type-arg]
    return sum(n for k, n in use.items() if k[0] == "jobs" and k[5] == block)


def test_the_months_batch_work_moves_onto_the_reservations_idle_at_night() -> None:
    ctx = prepare(_nightly())
    d = decomposer(ctx)
    first = d.evaluate({}, 2.0, {})  # the blocks' plan: each its share
    assert first is not None and _batch_in(first.use, DAY) > 0
    owned, cost = owned_by_month(ctx, {})
    placed = d.place_batch(owned, cost, first.use, 2.0)
    assert _batch_in(placed, DAY) == 0 and _batch_in(placed, NIGHT) > 0
    # the service's instances are as they were
    assert {k: n for k, n in placed.items() if k[0] == "api"} == {
        k: n for k, n in first.use.items() if k[0] == "api"
    }
    checked = d.checked({}, placed)  # the independent verifier accepts it
    assert checked is not None
    # what goes is the day's batch instances on demand (12 hours billed x30 at $0.10): the
    # two reservations carry the 24 units at night for nothing, before and after
    saved = _batch_in(first.use, DAY) * 12 * 30 * 0.10
    assert first.cost - checked.cost == pytest.approx(saved)


def test_the_block_relaxation_bound_holds_with_batch_work_on_the_services_reservations() -> None:
    # a service busy half the day on one instance, and half a day's batch work: one
    # reservation ($25 a month) runs both. Its blocks rent it for half the month ($12.50),
    # the batch work's month, alone, for all of it: summed, $37.50 a month, above the plan;
    # the bound counts the services' blocks alone
    a = offering("a.large", od="0.10", reserved={"1y-all_upfront": ("300", "0")})
    api = workload("api", [(a, 100.0)])
    jobs = workload("jobs", [(a, 1.0)], kind="batch")
    p = plan(
        [a],
        [api, jobs],
        [{"api": [100.0] * 12 + [0.0] * 12}] * 2,
        work=[{"jobs": 12.0}] * 2,
        options=["1y-all_upfront"],
    )
    best = solve(p, time_limit=10, seed=0)
    assert best.status == "optimal" and best.objective == Decimal("50.00")
    d = decomposer(prepare(p))
    d.bound(5.0, {})
    assert d.lower is not None and d.lower <= 50.0 + 1e-6
    assert d.lower == pytest.approx(25.0)  # the services' half months


def test_the_services_instances_held_fixed_count_in_the_quota() -> None:
    # the quota is the service's two instances: its fixed usage leaves the batch no room
    # in the day; with the day the whole month, none at all
    ctx = prepare(_nightly(quota=2, months=1))
    d = decomposer(ctx)
    lane = next(ln for ln in ctx.lanes_of("api") if ln.kind == "standard")
    busy = {("api", lane.offering, lane.zone, lane.kind, 0, DAY): 2}
    sub = unit_context(ctx, (0, None), "fixed", *owned_by_month(ctx, {}), only=d.batch)
    day_only = replace(
        sub,
        blocks=tuple(tuple(b for b in bs if b.index == DAY) for bs in sub.blocks),
        batch="month",
    )
    alone, _ = formulate(day_only)
    assert run_model(alone, time_limit=2.0, seed=0, workers=1).status in ("optimal", "feasible")
    held, _ = formulate(replace(day_only, fixed_use=busy))
    assert run_model(held, time_limit=2.0, seed=0, workers=1).status == "infeasible"


def test_the_decomposition_places_the_batch_work_last_and_is_verified() -> None:
    res, dec = decompose_alone(prepare(_nightly()), time_limit=4)
    assert any(line.startswith("each month's batch work placed again") for line in dec.log)
    assert dec.best is not None and _batch_in(dec.best.use, DAY) == 0
    assert res.objective == pytest.approx(dec.best.cost)


def test_the_work_counted_is_the_batch_models_own_size() -> None:
    # the months' models hold the batch lanes alone: their work is counted by their own
    # size (and search), not by the plan's average block (which holds every workload)
    ctx = prepare(_nightly())
    d = decomposer(ctx)
    first = d.evaluate({}, 2.0, {})
    assert first is not None
    owned, cost = owned_by_month(ctx, {})
    sizes: list[int] = []
    runs: list = []
    real = Decomposer.run_unit

    def run(self, sub, limit, hint, **kw):  # type: ignore[no-untyped-def]
        sizes.append(formulate(sub)[0].n_variables)
        runs.append(real(self, sub, limit, hint, **kw))
        return runs[-1]

    d.run_unit = run.__get__(d)  # type: ignore[method-assign]
    before = d.work
    d.place_batch(owned, cost, first.use, 2.0)
    assert len(runs) == 2  # one model a month
    assert d.work - before == pytest.approx(sum(r.work for r in runs) / d.threads)
    for r, n in zip(runs, sizes, strict=True):
        assert RUN_S + n * RUN_S_PER_VARIABLE <= r.work
        assert n < d.unit_variables() * len(ctx.blocks[r.month])  # the batch lanes alone
    assert len(ctx.lanes_of("jobs")) < len(ctx.lanes)


def test_blocks_with_no_room_for_their_share_leave_the_month_its_batch_work_whole() -> None:
    # the service fills the quota in the day: the day block cannot do its share of the
    # batch work, and the blocks' plan used to fail (no plan at all, where one costs $0)
    res, dec = decompose_alone(prepare(_nightly(quota=2)), time_limit=3)
    assert res.status in ("optimal", "feasible") and dec.best is not None
    assert _batch_in(dec.best.use, DAY) == 0 and _batch_in(dec.best.use, NIGHT) > 0
    assert dec.checked(dec.best.buys, dec.best.use) is not None  # the verifier accepts it
    assert res.objective == pytest.approx(0.0)  # the owned reservations carry it all


def _zonal_spot_quota() -> Plan:
    """Two offerings, zonal and regional reservations owned, spot for the batch, and a vCPU
    quota: the services' fixed instances in the on-demand and the zonal overflows (that
    they count in a quota that binds: ``test_the_services_instances_held_fixed_count...``)."""
    zones = ("z1", "z2")
    a = offering("a.large", od="0.10", vcpu=2, zones=zones, spot="0.04")
    b = offering("b.large", od="0.13", vcpu=4, zones=zones, spot="0.05")
    api = workload("api", [(a, 100.0), (b, 210.0)], survive_zones=1)
    jobs = workload("jobs", [(a, 1.0), (b, 2.2)], kind="batch", spot=SpotPolicy(allowed=True))
    demand = [{"api": [260.0] * 8 + [120.0] * 8 + [40.0] * 8} for _ in range(2)]
    return plan(
        [a, b],
        [api, jobs],
        demand,
        work=[{"jobs": 60.0}, {"jobs": 75.0}],
        fleet=[existing(a, 2, zone=None), existing(b, 1, zone="z1")],
        quotas=[Quota(name="vcpus", offerings=(a.id, b.id), max_vcpu=18)],
    )


@pytest.mark.parametrize("make", [_nightly, _zonal_spot_quota])
def test_the_batch_model_with_the_services_held_agrees_with_the_whole_month_pinned(make) -> None:  # type: ignore[no-untyped-def]
    # a second formulation of the same question: the month's whole model, every workload in
    # it, with the services' variables pinned to the same plan; both solved to optimality,
    # the plans they make cost the same to the cent
    ctx = prepare(make())
    d = decomposer(ctx)
    first = d.evaluate({}, 2.0, {})
    assert first is not None
    owned, cost = owned_by_month(ctx, {})
    services = {k: n for k, n in first.use.items() if k[0] not in d.batch}
    for m in range(ctx.plan.horizon):
        whole = unit_context(ctx, (m, None), "fixed", owned, cost)
        pinned, _ = formulate(whole)
        for k, v in pinned.use.items():
            if k[0] not in d.batch:
                pinned.model.add(v == services.get(k, 0))
        a = run_model(pinned, time_limit=20.0, seed=0, workers=1)
        held, _ = formulate(
            replace(
                whole,
                only=d.batch,
                fixed_use={k: n for k, n in services.items() if k[4] == m},
            )
        )
        b = run_model(held, time_limit=20.0, seed=0, workers=1)
        assert a.status == b.status == "optimal", (a.status, b.status)
        month = {k: n for k, n in services.items() if k[4] == m}
        plan_a = {**{k: n for k, n in services.items() if k[4] != m}, **a.use}
        plan_b = {**{k: n for k, n in services.items() if k[4] != m}, **month, **b.use}
        assert _priced(ctx, plan_a) == _priced(ctx, plan_b)  # exact: Fractions


def test_the_batch_work_is_placed_however_the_search_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the work budget spent from the start: the search ends after its first plan, and the
    # batch placement still runs (a second or two, for a few percent of the cost)
    monkeypatch.setattr(Decomposer, "out_of_time", lambda self: True)
    _, dec = decompose_alone(prepare(_nightly()), time_limit=4)
    assert any(line.startswith("its reservations, every block re-planned") for line in dec.log)
    assert not any("searched again" in line for line in dec.log)  # no deepening
    placed = [line for line in dec.log if line.startswith("each month's batch work")]
    assert len(placed) == 1 and "no better plan" not in placed[0]
    assert dec.best is not None and _batch_in(dec.best.use, DAY) == 0
