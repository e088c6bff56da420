"""The spreadsheet plan's choice of offering (``greedy._cheapest``): on demand for the
baseline, with reservations for the optimiser's start -- against worked examples and the
rule written out again here, instance by instance."""

from __future__ import annotations

import math

from solve_factory import offering, plan, workload
from test_solve_decompose_rounds import decompose_alone
from test_solve_seasonal import plans

from capdsl.bench.generate import generate
from capdsl.model.plan import Plan, Workload
from capdsl.solve.greedy import _cheapest, _counts, _Demand, greedy_counts, greedy_plan
from capdsl.solve.prune import prepare


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
