"""The spreadsheet plan's choice of offering (``greedy._cheapest``): on demand for the
baseline, with reservations for the optimiser's start -- against worked examples and the
rule written out again here, instance by instance."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from solve_factory import offering, plan, workload
from test_solve_decompose_rounds import decompose_alone
from test_solve_seasonal import plans

from capdsl.bench.generate import generate
from capdsl.model.plan import Plan, Workload
from capdsl.solve import verify
from capdsl.solve.costing import Priced, price_solution
from capdsl.solve.greedy import (
    _cheapest,
    _counts,
    _Demand,
    _spread,
    greedy_counts,
    greedy_plan,
)
from capdsl.solve.prune import prepare
from capdsl.solve.solution import Allocation, Purchase, Solution, VerifyReport


def _two_families() -> Plan:
    # the same capacity: family a is cheaper on demand ($0.10/h vs $0.11), family b with a
    # reservation ($0.05/h vs $0.08 effective); two instances every hour, a third at peak
    opts = {"1y-no_upfront": ("0", "0.08")}
    a = offering("a.large", od="0.10", reserved=opts)
    b = offering("b.large", od="0.11", reserved={"1y-no_upfront": ("0", "0.05")})
    api = workload("api", [(a, 100.0), (b, 100.0)])
    demand = [{"api": [150.0] * 16 + [250.0] * 8} for _ in range(3)]
    return plan([a, b], [api], demand, options=("1y-no_upfront",))


def test_the_start_takes_the_offering_cheapest_with_reservations() -> None:
    p = _two_families()
    (api,) = p.workloads
    assert _cheapest(p, api, None) == ("aws.a.large@us-east-1", 100.0)  # the baseline
    assert _cheapest(p, api, None, reserved=True) == ("aws.b.large@us-east-1", 100.0)
    baseline = greedy_plan(p)
    assert {a.offering for a in baseline.allocations} == {"aws.a.large@us-east-1"}
    allocations, purchases = greedy_counts(p, reserved=True)
    assert {a.offering for a in allocations} == {"aws.b.large@us-east-1"}
    assert {x.offering for x in purchases} == {"aws.b.large@us-east-1"}
    # the optimiser starts there, and its plan is no dearer than the baseline
    res, dec = decompose_alone(prepare(p), time_limit=2)
    assert any("each service on the offering cheapest with reservations" in x for x in dec.log)
    assert baseline.totals is not None and res.objective is not None
    assert res.objective <= float(baseline.totals.cost)


def _by_instance(p: Plan, w: Workload) -> tuple[str, float] | None:
    """``_cheapest(reserved=True)`` written out: in every month from the lead time on, the
    k-th instance costs the lesser of on-demand for the hours of the blocks that need at
    least k and its cheapest reservation for every hour of the month."""
    offerings = {o.id: o.offering for o in p.offerings}
    options = {(r.term_months, r.payment, r.offering_class) for r in p.commitments.options}
    best = None
    for c in w.capacities:
        o = offerings[c.offering]
        if o.on_demand_hourly is None:
            continue
        price = float(o.on_demand_hourly)
        rates = [
            float(r.effective_hourly(p.hours_per_month))
            for r in o.reserved
            if (r.term_months, r.payment, r.offering_class) in options
        ]
        rate = min(rates, default=math.inf)
        hours, reserving = 0.0, 0.0
        per_block = iter(_counts(w, _Demand.of(p, w), c.per_instance, len(c.zones)).tolist())
        for m, md in enumerate(p.demand[: p.horizon]):
            counts = [(next(per_block), b) for b in md.blocks]
            if m < p.commitments.lead_time_months or rate >= price:
                hours += sum(n * b.hours for n, b in counts)
                continue
            for k in range(1, max(n for n, _ in counts) + 1):
                runs = sum(b.hours for n, b in counts if n >= k)
                reserving += min(price * runs, rate * md.hours)
        key = (round(price * hours + reserving, 6), price / c.per_instance, c.offering)
        if best is None or key < best[0]:
            best = (key, (c.offering, c.per_instance))
    return best[1] if best else None


def test_the_choice_with_reservations_is_the_rule_instance_by_instance() -> None:
    checked = 0
    for p in (*plans(), _two_families(), generate("M")):
        for w in p.workloads:
            assert _cheapest(p, w, None, reserved=True) == _by_instance(p, w), w.name
            checked += 1
    assert checked >= 6


def _six_zones(level: float) -> Plan:
    """One service of 100 units an instance in six zones, N+1 and surviving a zone, at
    ``level`` in its quiet hours and twice that at its peak."""
    zones = tuple(f"z{i}" for i in range(1, 7))
    a = offering("a.large", od="0.10", zones=zones, reserved={"1y-no_upfront": ("0", "0.06")})
    api = workload("api", [(a, 100.0)], survive_zones=1, redundancy=1, headroom=0.2)
    demand = [{"api": [level] * 16 + [2 * level] * 8} for _ in range(3)]
    return plan([a], [api], demand, options=("1y-no_upfront",))


def _fewest_by_rule(w: Workload, level: float, cap: float, zones: int) -> tuple[int, int]:
    """The least instances over every zone count that survives a zone, written out from the
    rules: headroom, N+k, and whatever zone is lost leaving the demand; and that count's
    zones (the most among equals)."""
    best = None
    for z in range(zones, w.survive_zones, -1):
        n = max(
            math.ceil(level * w.required_factor / cap - 1e-9),
            math.ceil(level / cap - 1e-9) + w.redundancy,
            z * math.ceil(level / ((z - w.survive_zones) * cap) - 1e-9),
        )
        if best is None or n < best[0]:
            best = (n, z)
    assert best is not None
    return best


def test_the_start_spreads_a_service_over_the_zones_that_need_fewest_instances() -> None:
    for level in (30.0, 90.0, 180.0, 420.0, 1_300.0):
        p = _six_zones(level)
        (api,) = p.workloads
        demand = _Demand.of(p, api)
        counts, used = _spread(api, demand, 100.0, 6, fewest=True)
        rule = [_fewest_by_rule(api, x, 100.0, 6) for x in demand.level.tolist()]
        assert list(zip(counts.tolist(), used.tolist(), strict=True)) == rule
        # the baseline spreads over every zone, as a spreadsheet does
        assert (_counts(api, demand, 100.0, 6) >= counts).all()
        assert set(_spread(api, demand, 100.0, 6)[1].tolist()) == {6}
    # a service of one instance's demand: 2 instances in 2 zones, where the baseline runs 6
    (api,) = _six_zones(30.0).workloads
    quiet = _Demand.of(_six_zones(30.0), api)
    assert _spread(api, quiet, 100.0, 6, fewest=True)[0][0] == 2
    assert _counts(api, quiet, 100.0, 6)[0] == 6


def _verified(
    p: Plan, allocations: list[Allocation], purchases: list[Purchase]
) -> tuple[Priced, VerifyReport]:
    """A start priced, and the independent verifier's report on it."""
    priced = price_solution(p, allocations, purchases)
    sol = Solution(
        plan=p.name,
        status="feasible",
        objective=priced.totals.cost,
        allocations=allocations,
        **priced.solution_fields(),
    )
    return priced, verify(p, sol)


def test_the_start_over_fewer_zones_is_a_plan_the_verifier_accepts() -> None:
    for level in (30.0, 180.0, 1_300.0):
        p = _six_zones(level)
        allocations, purchases = greedy_counts(p, reserved=True, fewest=True)
        priced, report = _verified(p, allocations, purchases)
        assert report.ok, report
        # each block's instances in the zones the rule picks, as evenly as they go
        (api,) = p.workloads
        for a in allocations:
            level_ = p.demand[a.month].blocks[a.block].level["api"]
            _, z = _fewest_by_rule(api, level_, 100.0, 6)
            assert int(a.zone[1:]) <= z
        baseline = greedy_plan(p).totals
        assert baseline is not None and priced.totals.cost <= baseline.cost


@settings(max_examples=40, deadline=None)
@given(
    zones=st.integers(2, 6),
    survive=st.integers(1, 2),
    redundancy=st.integers(0, 2),
    headroom=st.sampled_from([0.0, 0.2, 0.5]),
    cap=st.sampled_from([40.0, 100.0, 333.0]),
    levels=st.lists(st.floats(0.0, 2_000.0), min_size=1, max_size=4),
)
def test_the_start_over_the_fewest_zones_always_meets_the_rules(  # type: ignore[no-untyped-def]
    zones, survive, redundancy, headroom, cap, levels
) -> None:
    # whatever the zones, the zones to survive, N+k, headroom and demand: the independent
    # verifier accepts the start, and it never runs more instances than the spreadsheet
    names = tuple(f"z{i}" for i in range(1, zones + 1))
    a = offering("a.large", od="0.10", zones=names)
    api = workload(
        "api",
        [(a, cap)],
        survive_zones=min(survive, zones - 1),
        redundancy=redundancy,
        headroom=headroom,
    )
    p = plan([a], [api], [{"api": [*levels, *levels[::-1]]}])
    allocations, purchases = greedy_counts(p, fewest=True)
    _, report = _verified(p, allocations, purchases)
    assert report.ok, report
    baseline = greedy_plan(p)
    assert sum(x.count for x in allocations) <= sum(x.count for x in baseline.allocations)
