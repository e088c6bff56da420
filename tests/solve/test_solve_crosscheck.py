"""The optimiser agrees with a differently modelled MIP (SCIP, hour by hour) on small plans."""

from __future__ import annotations

import pytest
from solve_factory import offering, plan, workload
from solve_mip import mip_optimum

from capdsl.model.plan import Plan, SpotPolicy
from capdsl.solve import solve, verify


def shared_reservations() -> Plan:
    """Two services that peak at different hours share reservations; spot, N+1, zone loss."""
    small = offering(
        "x.large",
        od="0.1000",
        spot={"z1": "0.0300", "z2": "0.0350"},
        reserved={"1y-no_upfront": ("0", "0.0600"), "1y-all_upfront": ("480", "0")},
        zones=("z1", "z2"),
    )
    big = offering(
        "x.xlarge", od="0.2000", reserved={"1y-no_upfront": ("0", "0.1150")}, zones=("z1", "z2")
    )
    day = workload(
        "day",
        [(small, 100), (big, 210)],
        redundancy=1,
        spot=SpotPolicy(max_share=0.3, per_pool=0.2),
    )
    night = workload("night", [(small, 100), (big, 210)], survive_zones=1)
    pattern = {"day": [100] * 8 + [400] * 8 + [150] * 8, "night": [300] * 8 + [100] * 8 + [200] * 8}
    grow = {"day": [v * 2 for v in pattern["day"]], "night": pattern["night"]}
    return plan(
        [small, big],
        [day, night],
        [pattern, pattern, grow],
        options=["1y-no_upfront", "1y-all_upfront"],
    )


def headroom_and_fleet() -> Plan:
    from solve_factory import existing

    a = offering(
        "y.large",
        od="0.0800",
        spot="0.0250",
        reserved={"1y-no_upfront": ("0", "0.0500")},
        zones=("z1", "z2", "z3"),
    )
    w = workload("api", [(a, 50)], headroom=0.3, survive_zones=1, spot=SpotPolicy(max_share=0.2))
    fleet = [existing(a, 2, zone="z1", hourly=0.01), existing(a, 1, zone=None, start=-5, end=1)]
    return plan(
        [a],
        [w],
        [{"api": [200] * 12 + [500] * 12}, {"api": [250] * 12 + [600] * 12}],
        options=["1y-no_upfront"],
        fleet=fleet,
    )


@pytest.mark.parametrize("build", [shared_reservations, headroom_and_fleet])
def test_agrees_with_hourly_mip(build) -> None:  # type: ignore[no-untyped-def]
    p = build()
    sol = solve(p, time_limit=20)
    assert sol.status == "optimal", sol.message
    assert verify(p, sol).ok
    assert sol.totals is not None
    theirs = mip_optimum(p)
    ours = float(sol.totals.cost)
    assert abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs)), (ours, theirs)
