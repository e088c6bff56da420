"""The relaxations behind the decomposition's bounds (``relax.py``): the LP on a model whose
optimum is known by hand and on a real formulation against CP-SAT's proven optimum; the
model-free capacity-price bound worked by hand (the brute-force tests check it too)."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from solve_factory import existing, limits, offering, plan, sized_service, workload
from test_solve_decompose_rounds import decomposer

from capdsl.model.plan import Plan, SpotPolicy
from capdsl.solve import solve
from capdsl.solve.decompose import unit_context
from capdsl.solve.floors import FloorSearch
from capdsl.solve.formulate import Formulation, formulate
from capdsl.solve.money import existing_fleet_cost
from capdsl.solve.prune import prepare
from capdsl.solve.relax import aggregate_bound, capacity_bound, lp_bound
from capdsl.solve.search import BLOCK_DTIME_PER_SECOND, BLOCK_PARAMS, run_model


def _by_hand() -> Formulation:
    """min 2x + 3y + 10b  s.t.  exactly_one(b, not c)  (b = c),  b + c >= 1,
    x + y >= 20 if b,  x <= 1 if not c,  x, y in [0, 10].

    Relaxed, with t = b = c >= 1/2: x + y >= 20t (Big-M 20) and x <= 1 + 9c (Big-M 9), so
    x = 1 + 9t, y = 11t - 1 and the cost 61t - 1 is least at t = 1/2: 29.5. The integer
    optimum is t = 1, x = y = 10: 60."""
    m = cp_model.CpModel()
    x = m.new_int_var(0, 10, "x")
    y = m.new_int_var(0, 10, "y")
    b = m.new_bool_var("b")
    c = m.new_bool_var("c")
    m.add_exactly_one([b, c.Not()])
    m.add(b + c >= 1)
    m.add(x + y >= 20).only_enforce_if(b)
    m.add(x <= 1).only_enforce_if(c.Not())
    m.minimize(2 * x + 3 * y + 10 * b)
    ctx = SimpleNamespace(scaling=SimpleNamespace(money=1))
    return Formulation(model=m, ctx=ctx)  # type: ignore[arg-type]


def test_the_relaxation_of_literals_and_enforced_rows_is_the_lp_worked_by_hand() -> None:
    form = _by_hand()
    assert lp_bound(form, time_limit=5) == pytest.approx(29.5 * (1 - 1e-6), rel=1e-9)
    solver = cp_model.CpSolver()
    assert solver.solve(form.model) == cp_model.OPTIMAL
    assert solver.objective_value == 60


def test_a_simplex_that_fails_hands_the_lp_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    # GLOP's methods are tried in turn until one proves the optimum (the dual simplex did
    # not end on one month of the XL benchmark with floors, where the primal took 0.04 s):
    # a method GLOP refuses outright stands for one that fails
    import capdsl.solve.relax as relax

    refused = "no_such_glop_parameter: 1"
    monkeypatch.setitem(relax.SIMPLEX, "plain", (refused, relax.SIMPLEX["plain"][-1]))
    assert lp_bound(_by_hand(), time_limit=5) == pytest.approx(29.5 * (1 - 1e-6), rel=1e-9)
    monkeypatch.setitem(relax.SIMPLEX, "plain", (refused,))
    assert lp_bound(_by_hand(), time_limit=5) is None


def test_no_lp_bound_when_the_model_cannot_be_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # the LP reads the model back through a temporary file: a full disk means no bound, not
    # a crash (the decomposition then bounds by the block relaxation)
    import errno
    import tempfile

    def full(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    assert lp_bound(_by_hand(), time_limit=5) is None


def test_an_lp_bound_is_below_the_proven_optimum_of_a_real_month() -> None:
    small = offering("m.large", od="0.10", vcpu=2, reserved={"1y-no_upfront": ("0", "0.06")})
    big = offering("m.4xlarge", od="0.38", vcpu=16, reserved={"1y-no_upfront": ("0", "0.23")})
    api = workload("api", [(small, 10.0), (big, 85.0)], redundancy=1)
    day = [40.0 + 30.0 * (6 <= h < 22) for h in range(24)]
    ctx = prepare(plan([small, big], [api], [{"api": day}], options=("1y-no_upfront",)))
    form, _ = formulate(unit_context(ctx, (0, None), "rent"))
    res = run_model(form, time_limit=20, seed=0, workers=1)
    assert res.status == "optimal" and res.objective is not None
    bound = lp_bound(form, time_limit=5)
    assert bound is not None
    assert 0.5 * res.objective < bound <= res.objective + 1e-6
    # the block parameters (no cuts, light presolve) prove the same optimum
    light = run_model(
        form,
        time_limit=20,
        seed=0,
        workers=1,
        params=BLOCK_PARAMS,
        dtime_per_second=BLOCK_DTIME_PER_SECOND,
    )
    assert light.status == "optimal" and light.objective == pytest.approx(res.objective, abs=1e-9)
    with pytest.raises(AttributeError):  # a misspelt parameter is not silently ignored
        run_model(form, time_limit=1, seed=0, workers=1, params={"add_mir_cut": False})


def _billed(p: Plan) -> float:
    return float(sum(b.billed for bs in prepare(p).blocks for b in bs))


def test_the_capacity_bound_is_exact_when_nothing_is_relaxed() -> None:
    # one offering, on-demand only, demand a whole number of instances: 3 x $0.10 an hour
    a = offering("m.large", od="0.10", zones=("z1",))
    p = plan([a], [workload("web", [(a, 100.0)])], [{"web": [300.0] * 24}])
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert capacity_bound(prepare(p)) == pytest.approx(float(sol.objective), rel=1e-5)
    assert capacity_bound(prepare(p)) <= float(sol.objective)


def test_the_capacity_bound_counts_a_lost_zone_spot_and_owned_reservations() -> None:
    zones = ("z1", "z2", "z3")
    a = offering("m.large", od="0.10", spot="0.04", zones=zones)
    demand = [{"db": [300.0] * 24}]
    plain = plan([a], [workload("db", [(a, 100.0)], spot=SpotPolicy(allowed=True))], demand)
    # all on spot at $0.04 per 100 units: 3 x 0.04 an hour
    assert capacity_bound(prepare(plain)) == pytest.approx(3 * 0.04 * _billed(plain), rel=1e-5)
    # without any one of three zones (and without spot) 300 is carried: at least 450 of
    # on-demand capacity (the largest zone holds a third), 4.5 x $0.10
    survive = plan([a], [workload("db", [(a, 100.0)], survive_zones=1)], demand)
    bound = capacity_bound(prepare(survive))
    assert bound == pytest.approx(4.5 * 0.10 * _billed(survive), rel=1e-5)
    sol = solve(survive, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert bound <= float(sol.objective)  # the plan runs 2 per zone: 6 x $0.10
    # two reservations already owned: 200 of the 450 free, their cost the fleet's
    owned = plan(
        [a],
        [workload("db", [(a, 100.0)], survive_zones=1)],
        demand,
        fleet=[existing(a, 2, zone=None, hourly=0.06)],
    )
    fleet = float(sum(existing_fleet_cost(owned)))
    assert capacity_bound(prepare(owned)) == pytest.approx(
        fleet + 2.5 * 0.10 * _billed(owned), rel=1e-5
    )


def test_an_instance_counts_for_at_most_the_demand_it_covers_in_the_lp() -> None:
    # 40 units of demand: one big instance (100 capacity, $0.50/h) covers it alone, four
    # small ones (10 capacity, $0.10/h) cover it for $0.40/h. The textbook LP buys 0.4 of a
    # big instance ($0.20/h, half the optimum); counted for at most the 40 it can cover, a
    # big instance is worth no more than four small ones, and the LP is the optimum itself.
    small = offering("m.large", od="0.10", vcpu=2, zones=("z1",))
    big = offering("m.8xlarge", od="0.50", vcpu=32, zones=("z1",))
    api = workload("api", [(small, 10.0), (big, 100.0)])
    ctx = prepare(plan([small, big], [api], [{"api": [40.0] * 24}]))
    form, _ = formulate(unit_context(ctx, (0, None), "rent"))
    res = run_model(form, time_limit=20, seed=0, workers=1)
    assert res.status == "optimal" and res.objective is not None
    hours = _billed(plan([small, big], [api], [{"api": [40.0] * 24}]))
    assert res.objective == pytest.approx(0.40 * hours, rel=1e-6)
    bound = lp_bound(form, time_limit=5)
    assert bound == pytest.approx(res.objective, rel=1e-5)


def _month(p: Plan, *, cuts: bool) -> Formulation:
    form, _ = formulate(unit_context(prepare(p), (0, None), "rent"), cuts=cuts)
    return form


def test_rounding_cuts_make_the_lp_buy_whole_instances_per_zone() -> None:
    # 150 units must survive the loss of any one of three zones, on 100-unit instances at
    # $0.10/h: each pair of zones holds two instances, so three in all ($0.30/h). The LP
    # without cuts holds 1.5 per pair (2.25 instances); rounded at the instance size, a pair
    # holds ceil(150 / 100) = 2 and the LP is the optimum
    a = offering("z.large", od="0.10", zones=("z1", "z2", "z3"))
    p = plan([a], [workload("db", [(a, 100.0)], survive_zones=1)], [{"db": [150.0] * 24}])
    hours = _billed(p)
    plain, cut = _month(p, cuts=False), _month(p, cuts=True)
    assert lp_bound(plain, time_limit=5) == pytest.approx(2.25 * 0.10 * hours, rel=1e-5)
    assert lp_bound(cut, time_limit=5) == pytest.approx(3 * 0.10 * hours, rel=1e-5)
    for form in (plain, cut):  # the same integer optimum with and without them
        res = run_model(form, time_limit=20, seed=0, workers=1)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(3 * 0.10 * hours, rel=1e-6)
    # N+1 on one zone: 150 units and one instance spare, on 100-unit instances: 3
    one = plan([a], [workload("db", [(a, 100.0)], redundancy=1)], [{"db": [150.0] * 24}])
    assert lp_bound(_month(one, cuts=False), time_limit=5) < 2.9 * 0.10 * hours
    assert lp_bound(_month(one, cuts=True), time_limit=5) == pytest.approx(
        3 * 0.10 * hours, rel=1e-5
    )


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    caps=st.lists(st.sampled_from([40.0, 70.0, 100.0, 160.0, 250.0]), min_size=1, max_size=3),
    zones=st.integers(1, 3),
    redundancy=st.integers(0, 2),
    survive=st.booleans(),
    headroom=st.sampled_from([0.0, 0.3]),
    level=st.floats(30.0, 600.0),
)
def test_rounding_cuts_never_cut_off_a_plan(
    caps: list[float], zones: int, redundancy: int, survive: bool, headroom: float, level: float
) -> None:
    # valid inequalities: the integer optimum is the same with them (CP-SAT, proven), and
    # the LP with them lies between the LP without them and that optimum
    offs, w = sized_service(caps, zones, redundancy=redundancy, survive=survive, headroom=headroom)
    p = plan(offs, [w], [{"svc": [level] * 12 + [level / 2] * 12}])
    plain, cut = _month(p, cuts=False), _month(p, cuts=True)
    a = run_model(plain, time_limit=20, seed=0, workers=1)
    b = run_model(cut, time_limit=20, seed=0, workers=1)
    assert a.status == b.status == "optimal"
    assert a.objective is not None and b.objective is not None
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    low, high = lp_bound(plain, time_limit=5), lp_bound(cut, time_limit=5)
    assert low is not None and high is not None
    assert low <= high * (1 + 1e-6) and high <= a.objective * (1 + 1e-6)


def test_the_family_bound_holds_reservations_for_the_month() -> None:
    # 2 vCPUs give 100 units; on-demand $0.10/h, a reservation $0.06/h. Half the hours need
    # one instance, half three: one reservation held all month ($0.06 x 720 h) and two
    # on-demand for the peak ($0.10 x 2 x 360 h) is the optimum, $115.20. Priced per hour
    # used, reservations cost nothing idle: the capacity bound says $86.40; held for the
    # month, the family LP says the optimum itself
    a = offering(
        "m.large", od="0.10", vcpu=2, zones=("z1",), reserved={"1y-no_upfront": ("0", "0.06")}
    )
    p = plan(
        [a],
        [workload("web", [(a, 100.0)])],
        [{"web": [100.0] * 12 + [300.0] * 12}],
        options=("1y-no_upfront",),
    )
    ctx = prepare(p)
    assert capacity_bound(ctx) == pytest.approx(86.40, rel=1e-5)
    value, variables = aggregate_bound(ctx, time_limit=5)
    assert variables > 0
    assert value == pytest.approx(115.20, rel=1e-5)
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert float(sol.objective) == pytest.approx(115.20, rel=1e-6)
    # a stop requested before it: no bound (and no LP solved)
    stop = threading.Event()
    stop.set()
    assert aggregate_bound(ctx, time_limit=5, stop=stop) == (None, 0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    shapes=st.lists(
        st.lists(st.sampled_from([0.0, 30.0, 80.0, 150.0, 260.0, 420.0]), min_size=4, max_size=4),
        min_size=1,
        max_size=2,
    ),
    zones=st.integers(1, 3),
    redundancy=st.integers(0, 1),
    survive=st.booleans(),
    spot=st.booleans(),
    fleet=st.integers(0, 2),
)
def test_the_family_bound_is_below_the_optimum(
    shapes: list[list[float]], zones: int, redundancy: int, survive: bool, spot: bool, fleet: int
) -> None:
    # two sizes of one family and one of another, shared by one or two services whose
    # demand peaks in different hours (the bound must let them share reservations), with
    # zones, N+1, spot and reservations already owned; with the integer floors too, in the
    # family LPs and the monthly LPs
    zs = ("z1", "z2", "z3")[:zones]
    res = {"1y-no_upfront": ("0", "0.055"), "1y-all_upfront": ("400", "0")}
    small = offering("m.large", od="0.10", vcpu=2, zones=zs, spot="0.035", reserved=res)
    big = offering("m.xlarge", od="0.20", vcpu=4, zones=zs, spot="0.07", reserved=res)
    other = offering("c.large", od="0.085", vcpu=2, zones=zs, spot="0.03", reserved=res)
    services = [
        workload(
            f"svc{i}",
            [(small, 90.0), (big, 200.0), (other, 80.0)][i:],
            redundancy=redundancy,
            survive_zones=1 if survive and zones > 1 else 0,
            spot=SpotPolicy(allowed=True, max_share=0.4) if spot else None,
        )
        for i in range(len(shapes))
    ]
    demand = [{f"svc{i}": [v for v in shape for _ in range(6)] for i, shape in enumerate(shapes)}]
    p = plan(
        [small, big, other],
        services,
        demand * 2,
        options=tuple(res),
        fleet=[existing(small, fleet, zone=None, hourly=0.05)] if fleet else [],
    )
    sol = solve(p, time_limit=10)
    if sol.status != "optimal":
        return  # nothing proven to compare with (the brute-force tests cover the solver)
    assert sol.objective is not None
    # the objective sums each month's cost rounded to the cent (a reservation's upfront
    # spread over its months: $400 / 12 is $33.33 a month), the bounds are exact
    optimum = float(sol.objective) + 0.01 * p.horizon
    ctx = prepare(p)
    value, _ = aggregate_bound(ctx, time_limit=5)
    assert value is not None
    assert value <= optimum * (1 + 1e-6)
    search = FloorSearch(ctx)
    search.run(1e9)
    floors = search.floors()
    floored, _ = aggregate_bound(ctx, time_limit=5, floors=floors)
    assert floored is not None and value * (1 - 1e-6) <= floored <= optimum * (1 + 1e-6)
    # the standard instances' floors only add rows
    fewer, _ = aggregate_bound(ctx, time_limit=5, floors=replace(floors, standard={}))
    assert fewer is not None and fewer <= floored * (1 + 1e-6)
    months = [
        lp_bound(formulate(unit_context(ctx, (m, None), "rent"))[0], time_limit=5, floors=floors)
        for m in range(p.horizon)
    ]
    assert all(v is not None for v in months)
    assert sum(v for v in months if v is not None) <= optimum * (1 + 1e-6)
    # and the decomposition's block relaxation (each block's model counts its month's fleet
    # cost: once a month in the sum)
    d = decomposer(ctx)
    d.bound(5.0, {})
    assert d.lower is not None and d.lower <= optimum * (1 + 1e-6)


def test_in_the_family_bound_an_instance_counts_for_at_most_the_demand() -> None:
    # the same price per vCPU, but the 32-vCPU size gives more per vCPU (2,000 units): for
    # 100 units a plan still needs a whole instance, the 2-vCPU one ($0.10/h); counted in
    # full, 1.6 vCPUs of the large size would do ($0.08/h)
    small = offering("m.large", od="0.10", vcpu=2, zones=("z1",))
    big = offering("m.8xlarge", od="1.60", vcpu=32, zones=("z1",))
    p = plan(
        [small, big], [workload("api", [(small, 100.0), (big, 2000.0)])], [{"api": [100.0] * 24}]
    )
    value, _ = aggregate_bound(prepare(p), time_limit=5)
    assert value == pytest.approx(0.10 * _billed(p), rel=1e-5)
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and sol.objective is not None
    assert float(sol.objective) == pytest.approx(0.10 * _billed(p), rel=1e-6)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    flat=st.booleans(),
    shape=st.lists(st.sampled_from([0.0, 80.0, 150.0, 260.0, 420.0]), min_size=4, max_size=4),
    redundancy=st.integers(0, 1),
    survive=st.booleans(),
    spot=st.booleans(),
    work=st.sampled_from([None, 10.0, 120.0]),
    fleet=st.sampled_from([None, (1, 0.05), (3, 0.5)]),
    budget=st.sampled_from([None, (300, False), (800, False), (800, True)]),
    quota=st.sampled_from([None, 2]),
)
def test_every_bound_of_the_decomposition_is_below_the_optimum(
    flat: bool,
    shape: list[float],
    redundancy: int,
    survive: bool,
    spot: bool,
    work: float | None,
    fleet: tuple[int, float] | None,
    budget: tuple[int, bool] | None,
    quota: int | None,
) -> None:
    # a service (one level a month, or four), batch work beside it, reservations owned at
    # an hourly cost, a soft or hard monthly budget (the fleet alone may overrun it), a
    # quota: the prices' bound, the family LPs and the monthly LPs with the integer floors,
    # the blocks' relaxation and the services' blocks alone all stay below the optimum
    res = {"1y-no_upfront": ("0", "0.055"), "1y-all_upfront": ("400", "0")}
    small = offering("m.large", od="0.10", vcpu=2, spot="0.035", reserved=res)
    big = offering("m.xlarge", od="0.20", vcpu=4, spot="0.07", reserved=res)
    web = workload(
        "web",
        [(small, 90.0), (big, 200.0)],
        redundancy=redundancy,
        survive_zones=int(survive),
        spot=SpotPolicy(allowed=True, max_share=0.4) if spot else None,
    )
    services = [web]
    level = {"web": shape[:1] if flat else [v for v in shape for _ in range(6)]}
    if work is not None:
        services.append(workload("jobs", [(small, 2.0), (big, 4.0)], kind="batch"))
        level["jobs"] = [0.0] * len(level["web"])
    p = plan(
        [small, big],
        services,
        [level, level],
        work=[{"jobs": work}] * 2 if work is not None else None,
        options=tuple(res),
        **limits((small, *fleet) if fleet else None, budget, (big, quota) if quota else None),
    )
    sol = solve(p, time_limit=10)
    if sol.status != "optimal":
        return  # nothing proven to compare with
    assert sol.objective is not None
    optimum = float(sol.objective) + 0.01 * p.horizon  # (months rounded to the cent)
    ctx = prepare(p)
    search = FloorSearch(ctx)
    search.run(1e9)
    floors = search.floors()
    bounds = {
        "prices": capacity_bound(ctx),
        "families": aggregate_bound(ctx, time_limit=5, floors=floors)[0],
    }
    months = [
        lp_bound(formulate(unit_context(ctx, (m, None), "rent"))[0], time_limit=5, floors=floors)
        for m in range(p.horizon)
    ]
    bounds["monthly LPs"] = sum(v for v in months if v is not None)
    blocks = decomposer(ctx)
    blocks.bound(5.0, {})
    bounds["blocks"] = blocks.lower
    alone = decomposer(ctx)
    alone.service_bound(5.0)
    bounds["services alone"] = alone.lower
    over = {k: v for k, v in bounds.items() if v is not None and v > optimum * (1 + 1e-6)}
    assert not over, (optimum, over)
