"""The pre-passes: exact dominance pruning, zone symmetry, blocks, integer scaling."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from solve_factory import existing, offering, plan, workload

from capdsl.model.plan import Quota, SpotPolicy
from capdsl.solve import solve, verify
from capdsl.solve.context import SPOT, STANDARD
from capdsl.solve.prune import NAIVE_PASSES, PASSES, index_plan, prepare


def family():  # type: ignore[no-untyped-def]
    # per-vCPU throughput, prices proportional to size: the smallest size replaces the others
    # exactly; the dearer family is dominated too
    zones = ("z1", "z2", "z3")
    cheap = [
        offering(f"c.{n}", od=f"{0.05 * k:.4f}", vcpu=2 * k, zones=zones)
        for n, k in (("l", 1), ("x", 2), ("2x", 4))
    ]
    dear = [
        offering(f"m.{n}", od=f"{0.06 * k:.4f}", vcpu=2 * k, zones=zones)
        for n, k in (("l", 1), ("x", 2))
    ]
    return cheap, dear


def test_dominated_offerings_are_dropped_and_the_optimum_is_kept() -> None:
    cheap, dear = family()
    w = workload(
        "api", [(o, 50 * o.offering.vcpu) for o in cheap + dear], redundancy=1, survive_zones=1
    )
    p = plan(cheap + dear, [w], [{"api": [700] * 12 + [1700] * 12}])
    ctx = prepare(p)
    assert {ln.offering for ln in ctx.lanes} == {cheap[0].id}
    assert "offerings 5 -> 1" in ctx.passes["prune"]
    pruned = solve(p, time_limit=10)
    full = solve(p, time_limit=10, passes=NAIVE_PASSES)
    assert pruned.status == full.status == "optimal"
    assert pruned.objective == full.objective
    assert pruned.stats.vars_after < full.stats.vars_after


def test_quota_and_fleet_guards_keep_offerings() -> None:
    cheap, dear = family()
    w = workload("api", [(o, 50 * o.offering.vcpu) for o in cheap + dear])
    q = Quota(name="small", offerings=(cheap[0].id,), max_instances=2)
    fleet = [existing(dear[1], 1, zone="z1")]
    ctx = prepare(plan(cheap + dear, [w], [{"api": [900]}], quotas=[q], fleet=fleet))
    kept = {ln.offering for ln in ctx.lanes}
    assert cheap[1].id in kept  # c.l is under a quota, so it may not replace c.x
    assert dear[1].id in kept  # the plan owns reservations of m.x


def test_spot_lanes_are_not_swapped_across_pools_under_a_pool_limit() -> None:
    cheap, _ = family()
    spot = [
        o.model_copy(
            update={
                "offering": o.offering.model_copy(
                    update={
                        "spot_hourly": {
                            z: o.offering.on_demand_hourly * Decimal("0.3") for z in o.zones
                        }
                    }
                )
            }
        )
        for o in cheap
    ]
    limited = workload(
        "a", [(o, 50 * o.offering.vcpu) for o in spot], spot=SpotPolicy(max_share=0.5, per_pool=0.2)
    )
    free = workload("b", [(o, 50 * o.offering.vcpu) for o in spot], spot=SpotPolicy(max_share=0.5))
    ctx = prepare(plan(spot, [limited, free], [{"a": [600], "b": [600]}]))
    spot_a = {ln.offering for ln in ctx.lanes if ln.workload == "a" and ln.kind == SPOT}
    spot_b = {ln.offering for ln in ctx.lanes if ln.workload == "b" and ln.kind == SPOT}
    assert len(spot_a) == 3
    assert spot_b == {spot[0].id}  # capacity-exact swaps only: 2 x large = 1 x xlarge
    assert {ln.offering for ln in ctx.lanes if ln.kind == STANDARD} == {spot[0].id}


def test_interchangeable_zones_are_found() -> None:
    a = offering(
        "s.l", od="0.1", spot={"z1": "0.03", "z2": "0.03", "z3": "0.04"}, zones=("z1", "z2", "z3")
    )
    w = workload("api", [(a, 100)], spot=SpotPolicy(max_share=0.5))
    ctx = prepare(plan([a], [w], [{"api": [500]}]))
    assert ctx.zone_groups == (("z1", "z2"),)


def test_blocks_and_scaling_reports() -> None:
    cheap, _ = family()
    w = workload("api", [(o, 50 * o.offering.vcpu) for o in cheap])
    p = plan(cheap, [w], [{"api": [700] * 12 + [1700] * 12}] * 2)
    ctx = prepare(p)
    assert ctx.passes["blocks"].startswith("4 blocks over 2 months")
    assert ctx.scaling is not None and ctx.scaling.cost_error < 1e-4
    naive = prepare(p, passes=NAIVE_PASSES)
    assert naive.passes["blocks"].startswith("naive: 4 blocks")
    assert ctx.vars_before >= len(index_plan(p).lanes)
    assert PASSES[0].__name__ == "hand_off_blocks"


def test_exact_money_and_no_float_drift_in_costs() -> None:
    a = offering("p.l", od="0.0725", reserved={"1y-all_upfront": ("390", "0")}, zones=("z1",))
    w = workload("api", [(a, 100)])
    p = plan([a], [w], [{"api": [250]}] * 3, options=["1y-all_upfront"], hpm=730)
    sol = solve(p, time_limit=5)
    assert verify(p, sol).ok
    assert sol.totals is not None and sol.totals.cost == sum(m.total for m in sol.months)
    assert str(sol.totals.cost).count(".") == 1 and len(str(sol.totals.cost).split(".")[1]) == 2


def test_importing_capdsl_solve_does_not_load_ortools() -> None:
    code = (
        "import sys, capdsl, capdsl.solve, capdsl.solve.solution; print('ortools' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
