"""Integer floors (``floors.py``): the least a service's whole fleet weighs at a demand
level, against a brute force over every small fleet written here from the rules; the bounds
that take them (the family LPs and the monthly LPs) against worked examples (against proven
optima: ``test_solve_relax.py`` and the brute-force tests); the search over levels (order,
determinism, resumption) and the decomposer's use."""

from __future__ import annotations

import itertools
import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solve_factory import offering, plan, sized_service, workload
from test_solve_decompose_rounds import decompose_alone

import capdsl.solve.decompose as decompose
from capdsl.model.plan import Plan, SpotPolicy, Workload
from capdsl.solve import solve
from capdsl.solve.decompose import unit_context
from capdsl.solve.floors import (
    DP_SMALL,
    Floors,
    FloorSearch,
    _dp_floors,
    _floor,
    _Kind,
    _kinds,
    family_weights,
    price_families,
    standard_only,
)
from capdsl.solve.formulate import formulate
from capdsl.solve.prune import prepare
from capdsl.solve.relax import aggregate_bound, lp_bound


def _billed(p: Plan) -> float:
    return sum(float(b.billed) for blocks in prepare(p).blocks for b in blocks)


def _complete(p: Plan) -> FloorSearch:
    search = FloorSearch(prepare(p), threads=2)
    search.run(1e9)
    assert search.done
    return search


def _brute(w: Workload, kinds: list[_Kind], level: float, most: int = 3) -> float:
    """The least weight over every fleet of at most ``most`` instances of each kind in each
    zone (spot in one: no rule here tells its zones apart) that meets the service's rules at
    ``level`` -- at or above the least of all fleets -- checked one by one as written: demand
    with headroom (all instances, each counted for at most that demand), capacity less its
    k largest instances (each counted for at most the demand) covers the demand, and the
    standard instances outside any one zone cover it when the service survives a zone."""
    slots = [(k, z) for k in kinds for z in sorted(k.zones)[: 1 if k.spot else None]]
    zones = sorted({z for k in kinds for z in k.zones})
    required = level * w.required_factor
    best = math.inf
    for counts in itertools.product(range(most + 1), repeat=len(slots)):
        fleet = [(k, z) for (k, z), n in zip(slots, counts, strict=True) for _ in range(n)]
        if sum(min(k.capacity, required) for k, _ in fleet) < required:
            continue
        caps = sorted(min(k.capacity, level) for k, _ in fleet)
        if w.redundancy and sum(caps[: len(caps) - w.redundancy]) < level:
            continue
        if (
            w.survive_zones
            and len(zones) > 1
            and any(
                sum(min(k.capacity, level) for k, z in fleet if not k.spot and z != lost) < level
                for lost in zones
            )
        ):
            continue
        best = min(best, sum(k.weight for k, _ in fleet))
    return best


def test_a_floor_buys_whole_instances_in_two_zones() -> None:
    # 40 units surviving the loss of any one of three zones, on 100-unit instances of 2 vCPUs
    # at $0.10/h: whole instances in two zones, $0.20/h. The family LP alone holds
    # 40 x 3/2 = 60 units' worth of vCPUs at the rate an instance gives up to the demand
    # (40 units per 2 vCPUs): 3 vCPUs, $0.15/h; with the floor, the optimum
    a = offering("m.large", od="0.10", vcpu=2, zones=("z1", "z2", "z3"))
    p = plan([a], [workload("db", [(a, 100.0)], survive_zones=1)], [{"db": [40.0] * 24}])
    hours = _billed(p)
    ctx = prepare(p)
    search = _complete(p)
    floors = search.floors()
    assert floors.weights["m"] == (pytest.approx(0.05), 0.0)
    assert floors.value and all(v == pytest.approx(0.20) for v in floors.value.values())
    plain = aggregate_bound(ctx, time_limit=5).value
    with_floors = aggregate_bound(ctx, time_limit=5, floors=floors).value
    assert plain == pytest.approx(0.15 * hours, rel=1e-5)
    assert with_floors == pytest.approx(0.20 * hours, rel=1e-5)
    # the monthly LP takes them too (its own rounding cuts already reach the optimum here)
    month, _ = formulate(unit_context(ctx, (0, None), "rent"))
    assert lp_bound(month, time_limit=5, floors=floors) == pytest.approx(0.20 * hours, rel=1e-5)
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert float(sol.objective) == pytest.approx(0.20 * hours, rel=1e-6)


def test_a_floor_weighs_spot_at_its_own_price() -> None:
    # N+1 without zones: 150 units on 100-unit instances, on-demand $0.10/h or spot $0.03/h
    # (spot limits are left out of a floor): the least fleet is three spot instances
    a = offering("m.large", od="0.10", vcpu=2, zones=("z1",), spot="0.03")
    w = workload("api", [(a, 100.0)], redundancy=1, spot=SpotPolicy(allowed=True, max_share=0.4))
    p = plan([a], [w], [{"api": [150.0] * 24}])
    ctx = prepare(p)
    weights = family_weights(ctx)
    assert weights["m"] == (pytest.approx(0.05), pytest.approx(0.015))
    kinds = _kinds(ctx, w, weights)
    assert {k.spot for k in kinds} == {False, True}
    value, dtime = _floor(w, kinds, 150.0)
    assert value == pytest.approx(0.09) and dtime >= 0


def test_an_instance_another_beats_outright_is_left_out() -> None:
    # the same family (the same price per vCPU): the 4-vCPU size gives 250 units, more than
    # twice the 2-vCPU size's 100, but weighs twice as much -- neither beats the other; a
    # dearer family with the same capacity per instance is beaten by the cheaper one
    small = offering("m.large", od="0.10", vcpu=2, zones=("z1", "z2"))
    big = offering("m.xlarge", od="0.20", vcpu=4, zones=("z1", "z2"))
    dear = offering("r.large", od="0.13", vcpu=2, zones=("z1", "z2"))
    w = workload("api", [(small, 100.0), (big, 250.0), (dear, 100.0)], survive_zones=1)
    p = plan([small, big, dear], [w], [{"api": [100.0] * 24}])
    ctx = prepare(p)
    kept = {k.offering for k in _kinds(ctx, w, family_weights(ctx))}
    assert kept == {small.id, big.id}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    caps=st.lists(st.sampled_from([40.0, 70.0, 100.0, 160.0, 250.0]), min_size=1, max_size=2),
    zones=st.integers(1, 3),
    redundancy=st.integers(0, 2),
    survive=st.booleans(),
    headroom=st.sampled_from([0.0, 0.3]),
    spot=st.booleans(),
    partial=st.booleans(),
    level=st.floats(20.0, 300.0),
    small=st.sampled_from([DP_SMALL, 10**6]),
)
def test_a_floor_is_never_above_the_least_whole_fleet(
    caps: list[float],
    zones: int,
    redundancy: int,
    survive: bool,
    headroom: float,
    spot: bool,
    partial: bool,
    level: float,
    small: int,
) -> None:
    # against every fleet of up to 3 instances a kind and zone: the floor is at most the
    # least of them (a valid bound), over every instance, those the floor's model leaves out
    # as beaten included (two sizes of the same capacity: the dearer one); CP-SAT's floor
    # and the DP's, the level alone or below the top of its group's grid, every instance
    # as it is or (``small`` huge) as units of capacity at its rate
    offs, w = sized_service(
        caps,
        zones,
        redundancy=redundancy,
        survive=survive,
        headroom=headroom,
        spot=spot,
        partial=partial,
    )
    p = plan(offs, [w], [{"svc": [level] * 24}])
    ctx = prepare(p)
    weights = family_weights(ctx)
    kinds = _kinds(ctx, w, weights)
    value, _ = _floor(w, kinds, level)
    (alone,), _ = _dp_floors(w, kinds, [level], small)
    (below, _), _ = _dp_floors(w, kinds, [level, level * 1.6], small)
    least = _brute(w, _kinds(ctx, w, weights, prune=False), level)
    if least < math.inf:
        for floor in (value, alone, below):
            assert floor <= least * (1 + 1e-9) + 1e-12
    # the standard instances alone (spot weighing nothing): the DP's floor is at most the
    # least any fleet's standard instances weigh
    standard = standard_only(weights)
    (std_alone, _), _ = _dp_floors(w, _kinds(ctx, w, standard), [level, level * 1.6], small)
    std_least = _brute(w, _kinds(ctx, w, standard, prune=False), level)
    if std_least < math.inf:
        assert std_alone <= std_least * (1 + 1e-9) + 1e-12


def test_the_dp_counts_many_small_instances_at_their_rate() -> None:
    # 10,000 units surviving the loss of any one of three zones, on 10-unit instances at
    # $0.01/h: 500 in each zone, $15/h. On the DP's grid (10,000 / 512 units) each instance
    # would count about twice its size; as units of capacity at its rate, one free in each
    # zone, the floor comes within those units of the fleet's weight
    a = offering("m.small", od="0.01", vcpu=1, zones=("z1", "z2", "z3"))
    w = workload("api", [(a, 10.0)], survive_zones=1)
    p = plan([a], [w], [{"api": [10_000.0] * 24}])
    ctx = prepare(p)
    kinds = _kinds(ctx, w, family_weights(ctx))
    least = 1_500 * 0.01
    (value,), _ = _dp_floors(w, kinds, [10_000.0])
    assert least * 0.99 <= value <= least
    (rounded,), _ = _dp_floors(w, kinds, [10_000.0], small=1)  # every instance as it is
    assert rounded < least * 0.6


def test_the_dp_meets_the_models_where_the_grid_is_fine_enough() -> None:
    # the growing plan's services (N+1, zones, several sizes): at every level, the DP's
    # floor is within 6% of the model's proven one, and matches it at most levels
    ctx = prepare(_growing())
    search = FloorSearch(ctx, threads=2)
    matched = 0
    for w, kinds, levels, _ in search.services.values():
        values, steps = _dp_floors(w, kinds, levels)
        assert steps > 0
        for level, value in zip(levels, values, strict=True):
            model, _ = _floor(w, kinds, level)
            assert model * 0.94 <= value
            matched += value >= model * (1 - 1e-6)
    assert matched >= 0.8 * sum(len(levels) for _, _, levels, _ in search.services.values())


def _growing() -> Plan:
    a = offering("m.large", od="0.10", vcpu=2, zones=("z1", "z2", "z3"))
    b = offering("m.xlarge", od="0.20", vcpu=4, zones=("z1", "z2", "z3"))
    c = offering("c.xlarge", od="0.17", vcpu=4, zones=("z1", "z2", "z3"))
    services = [
        workload("web", [(a, 100.0), (b, 230.0), (c, 260.0)], survive_zones=1, redundancy=1),
        workload("api", [(a, 90.0), (c, 250.0)], survive_zones=1),
    ]
    shape = [1.0, 1.4, 2.1, 3.0, 2.2, 1.2]
    demand = [
        {"web": [40.0 * g * s for s in shape], "api": [25.0 * g * s for s in shape[::-1]]}
        for g in (1.0, 1.3, 1.7, 2.2, 2.9, 3.6)
    ]
    return plan([a, b, c], services, demand)


def test_the_search_runs_the_dp_then_the_ends_then_the_most_promising_ranges() -> None:
    ctx = prepare(_growing())
    first = FloorSearch(ctx, threads=2)
    first.run(1e-9)  # the fleet DP of one service, every level at once
    assert list(first.dp) == ["web"] and first.solves == 0 and not first.done
    first.run(1e-9)
    assert list(first.dp) == ["web", "api"] and first.solves == 0
    assert first.levels == sum(len(levels) for _, _, levels, _ in first.services.values())

    def dp(name: str, level: float) -> float:
        return first.dp[name][first.services[name][2].index(level)]

    floors = first.floors()
    for m, blocks in enumerate(ctx.blocks):
        for blk in blocks:
            for name in first.services:
                value = floors.value.get((name, m, blk.index), 0.0)
                assert value == pytest.approx(dp(name, blk.level[name])) and value > 0
    assert first.floors().standard == {}
    first.run(1e-9)  # then the DP of one service's standard instances alone
    assert list(first.dp_standard) == ["web"] and first.solves == 0
    first.run(1e-9)
    assert list(first.dp_standard) == ["web", "api"] and first.solves == 0
    standard = first.floors().standard
    for m, blocks in enumerate(ctx.blocks):
        for blk in blocks:
            for name, (_, _, levels, _) in first.services.items():
                value = first.dp_standard[name][levels.index(blk.level[name])]
                assert standard.get((name, m, blk.index), 0.0) == pytest.approx(value)
    assert any(v > 0 for v in standard.values())
    first.run(1e-9)  # one batch of models: every service's lowest and highest level
    assert first.solves == 4
    assert {name: sorted(v) for name, v in first.found.items()} == {
        name: [0, len(levels) - 1] for name, (_, _, levels, _) in first.services.items()
    }
    # each block takes the higher of the DP's floor at its level and the models' floor of
    # the highest level solved at or below its own
    floors = first.floors()
    for m, blocks in enumerate(ctx.blocks):
        for blk in blocks:
            for name, (_, _, levels, _) in first.services.items():
                level = blk.level[name]
                solved = (
                    first.found[name][len(levels) - 1]
                    if level == levels[-1]
                    else (first.found[name][0])
                )
                expect = max(solved, dp(name, level))
                assert floors.value.get((name, m, blk.index), 0.0) == pytest.approx(expect)
    # run on, in steps or at once: the same floors (the order and each solve deterministic)
    first.run(1e9)
    again = FloorSearch(ctx, threads=1)
    again.run(1e9)
    assert first.done and again.done
    assert first.found == again.found and first.solves == again.solves
    assert first.dp == again.dp and first.dp_standard == again.dp_standard
    # floors rise with the level
    for values in first.found.values():
        ordered = [values[i] for i in sorted(values)]
        assert ordered == sorted(ordered)


def test_a_stop_ends_the_search_between_batches() -> None:
    stop = threading.Event()
    stop.set()
    search = FloorSearch(prepare(_growing()), stop=stop)
    search.run(1e9)
    assert search.solves == 0 and search.dp == {} and search.floors().value == {}


def _decomposed(p: Plan) -> decompose.Decomposer:
    """``p`` solved month by month for 4 s; the decomposer, with its plan, bound and log."""
    _, dec = decompose_alone(prepare(p), time_limit=4, threads=2)
    assert dec.best is not None and dec.lower is not None
    assert dec.lower <= dec.best.cost * (1 + 1e-9)
    return dec


def test_the_decomposer_bounds_with_floors_and_keeps_the_same_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_floors = _decomposed(_growing())
    assert any(line.startswith("integer floors at") for line in with_floors.log)
    monkeypatch.setattr(decompose, "FLOOR_SHARE", 0.0)
    monkeypatch.setattr(decompose, "IDLE_MARGIN", 1.0)  # nor with the time the search leaves
    without = _decomposed(_growing())
    assert not any(line.startswith("integer floors at") for line in without.log)
    # the floors' work is counted, but the passes of this small plan fit either way: the
    # search, and so the plan, is the same
    assert with_floors.best is not None and without.best is not None
    assert with_floors.best.cost == pytest.approx(without.best.cost, rel=1e-12)
    assert without.lower is not None and with_floors.lower is not None
    assert without.lower <= with_floors.lower


def test_blocks_too_large_to_re_plan_leave_their_time_to_the_floors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the family LPs dear next to the floors' share (XL's take 3 s of its 3): no floors
    # before the search; the blocks too large to re-plan: the search ends with the
    # spreadsheet's usage, and the floors get the time it leaves
    monkeypatch.setattr(decompose, "FLOOR_SHARE", 1e-9)
    monkeypatch.setattr(decompose.Decomposer, "pass_estimate", lambda self, n, budget: 1e9)
    log = _decomposed(_growing()).log
    too_large = next(i for i, line in enumerate(log) if "too large to re-plan" in line)
    floors = [i for i, line in enumerate(log) if line.startswith("integer floors at")]
    assert len(floors) == 1 and floors[0] > too_large


def test_standard_floors_found_alone_raise_the_bound_again() -> None:
    # a budget of nothing runs one DP per call: the first floors of both services, then
    # their standard floors alone; the bound is taken again after each call that found any
    dec = decompose.Decomposer(
        prepare(_growing()),
        deadline=1e12,
        seed=0,
        threads=1,
        stop=None,
        on_progress=None,
        started=0.0,
    )
    assert dec.aggregate_bound(10.0)
    found = []
    while dec.floor_bound(1e-9):
        search = dec.floor_search
        assert search is not None and dec.floors is not None
        found.append((len(search.dp), len(search.dp_standard), len(dec.floors.standard)))
    assert found[:4] == [(1, 0, 0), (2, 0, 0), (2, 1, found[2][2]), (2, 2, found[3][2])]
    assert 0 < found[2][2] < found[3][2]  # each standard DP's floors in the LPs at once
    assert dec.floor_search is not None and dec.floor_search.done


def test_the_work_budget_the_search_leaves_goes_to_the_floors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # floors of next to no share before the search (one DP a call): the search of this
    # small plan ends well within its budget, and the floors run again after it, with what
    # it leaves; the bound is taken again with them
    monkeypatch.setattr(decompose, "FLOOR_SHARE", 1e-9)
    dec = _decomposed(_growing())
    floors = [i for i, line in enumerate(dec.log) if line.startswith("integer floors at")]
    searched = [i for i, line in enumerate(dec.log) if "re-planned" in line]
    assert searched and floors and floors[-1] > searched[-1]
    assert dec.floor_search is not None and dec.floor_search.done
    assert dec.work <= dec.work_cap()
    monkeypatch.setattr(decompose, "IDLE_MARGIN", 1.0)  # no time for them after the search
    without = _decomposed(_growing())
    assert without.lower is not None and dec.lower is not None
    assert without.lower <= dec.lower
    assert without.best is not None and dec.best is not None
    assert without.best.cost == pytest.approx(dec.best.cost, rel=1e-12)  # the same search


def test_no_floors_after_the_search_when_the_family_bound_stays_far_below(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # more floors raise the family bound a little: not run when it is far below the
    # plan's bound (the monthly LPs'), nor after the search
    monkeypatch.setattr(decompose, "FLOOR_SHARE", 1e-9)
    monkeypatch.setattr(decompose.Decomposer, "floors_may_raise_the_bound", lambda self: False)
    dec = _decomposed(_growing())
    assert not any(line.startswith("integer floors at") for line in dec.log)
    monkeypatch.undo()
    assert dec.lower is not None
    dec.floors, dec.family_value = None, None
    assert dec.floors_may_raise_the_bound()  # none found yet: they may
    monkeypatch.setattr(decompose, "IDLE_FAMILY_GAP", 0.02)
    dec.floors = Floors({})
    dec.family_value = dec.lower * 0.97
    assert not dec.floors_may_raise_the_bound()
    dec.family_value = dec.lower * 0.99
    assert dec.floors_may_raise_the_bound()


def test_sizes_not_priced_by_the_vcpu_are_weighed_apart() -> None:
    # hpc7g-like: both sizes cost $1.68/h, so the 16-vCPU one costs 4x the 64-vCPU one per
    # vCPU. N+1 at 100 units: two large instances ($3.36/h; four small ones cost $6.72/h).
    # Weighed at the family's least rate per vCPU, four small ones "weighed" $1.68/h and
    # the floor was half the optimum; in a price family of their own, the floor is exact
    small = offering("h.4xlarge", od="1.68", vcpu=16, zones=("z1",))
    large = offering("h.16xlarge", od="1.68", vcpu=64, zones=("z1",))
    p = plan(
        [small, large],
        [workload("api", [(small, 40.0), (large, 160.0)], redundancy=1)],
        [{"api": [100.0] * 24}],
    )
    ctx = prepare(p)
    families = price_families(ctx)
    assert families[small.id] != families[large.id]
    assert families[large.id] == "h"
    floors = _complete(p).floors()
    hours = _billed(p)
    assert floors.value and all(v == pytest.approx(3.36) for v in floors.value.values())
    family = aggregate_bound(ctx, time_limit=5, floors=floors).value
    month, _ = formulate(unit_context(ctx, (0, None), "rent"))
    monthly = lp_bound(month, time_limit=5, floors=floors)
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert float(sol.objective) == pytest.approx(3.36 * hours, rel=1e-6)
    assert family == pytest.approx(3.36 * hours, rel=1e-5)
    assert monthly == pytest.approx(3.36 * hours, rel=1e-5)
