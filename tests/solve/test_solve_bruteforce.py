"""The optimiser's optimum equals a brute-force enumeration on tiny plans."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from solve_brute import brute_force
from solve_factory import existing, offering, plan, workload

from capdsl.model.plan import Plan, SpotPolicy
from capdsl.solve import solve, verify
from capdsl.solve.floors import FloorSearch
from capdsl.solve.prune import prepare
from capdsl.solve.relax import aggregate_bound, capacity_bound


def cents(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"))


def check(p: Plan, **kw: int) -> None:
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal", sol.message
    assert verify(p, sol).ok
    optimum = brute_force(p, **kw)
    assert sol.totals is not None
    assert sol.totals.cost == cents(optimum)
    # the decomposition's model-free bound, and its bound over instance families, are below
    # every optimum enumerated here
    assert capacity_bound(prepare(p)) <= float(optimum) + 1e-9
    families = aggregate_bound(prepare(p), time_limit=5).value
    assert families is not None and families <= float(optimum) * (1 + 1e-9) + 1e-9
    # and with every service's integer floors
    search = FloorSearch(prepare(p))
    search.run(1e9)
    floored = aggregate_bound(prepare(p), time_limit=5, floors=search.floors()).value
    assert floored is not None and floored <= float(optimum) * (1 + 1e-9) + 1e-9


def test_reserved_versus_on_demand_break_even() -> None:
    # one instance all day pays a reservation; the afternoon peak stays on-demand
    a = offering("m.large", od="0.10", reserved={"1y-no_upfront": ("0", "0.06")}, zones=("z1",))
    w = workload("web", [(a, 100)])
    demand = [{"web": [100] * 8 + [300] * 16}, {"web": [200] * 12 + [300] * 12}]
    p = plan([a], [w], demand, options=["1y-no_upfront"])
    check(p, max_count=3, max_bought=3)
    sol = solve(p, time_limit=5)
    assert sum(pu.count for pu in sol.purchases) >= 1


def test_spot_share_and_pool_limits() -> None:
    a = offering("c.large", od="0.10", spot="0.03", zones=("z1", "z2"))
    w = workload("api", [(a, 100)], spot=SpotPolicy(max_share=0.5, per_pool=0.25))
    check(plan([a], [w], [{"api": [400]}]), max_count=4)


def test_zone_loss_mixes_sizes_across_three_zones() -> None:
    small = offering("s.large", od="0.10", zones=("z1", "z2", "z3"))
    large = offering("s.xlarge", od="0.20", zones=("z1", "z2", "z3"))
    w = workload("db", [(small, 100), (large, 250)], survive_zones=1)
    check(plan([small, large], [w], [{"db": [300]}]), max_count=2)


@pytest.mark.parametrize("k", [1, 2])
def test_redundancy_n_plus_k_is_exact(k: int) -> None:
    # capacity minus the k largest instances must carry demand
    small = offering("n.small", od="0.10", zones=("z1",))
    large = offering("n.large", od="0.25", zones=("z1",))
    w = workload("svc", [(small, 100), (large, 300)], redundancy=k)
    check(plan([small, large], [w], [{"svc": [350]}]), max_count=6)


def test_existing_fleet_zonal_and_regional() -> None:
    a = offering("e.large", od="0.10", zones=("z1", "z2"))
    w = workload("svc", [(a, 100)], survive_zones=1)
    fleet = [
        existing(a, 1, zone="z1", hourly=0.02),
        existing(a, 1, zone=None, start=-3, end=1, hourly=0.03),
    ]
    check(plan([a], [w], [{"svc": [200]}, {"svc": [200]}], fleet=fleet), max_count=4)


def test_headroom_and_min_replicas() -> None:
    a = offering("h.large", od="0.10", zones=("z1", "z2"))
    b = offering("h.xlarge", od="0.19", zones=("z1", "z2"))
    w = workload("svc", [(a, 100), (b, 200)], headroom=0.3, min_replicas=3)
    check(plan([a, b], [w], [{"svc": [250, 500]}]), max_count=4)
