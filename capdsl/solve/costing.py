"""From counts (allocations and purchases) to a Solution's money: months, totals, attribution.

Exact arithmetic (Fraction) on the Plan's own numbers, rounded to cents only at the end.
Conventions (see ``solution.py``):

- each MonthCost component is rounded to cents; ``total`` is the sum of the rounded
  components, and ``Totals.cost`` the sum of the month totals, so the figures add up;
- reserved cost is attributed to workloads by use: each offering's reservations (existing and
  new) cost ``C`` in a month and own ``N`` instances, i.e. ``C / (N x hours_per_month)`` per
  instance-hour; a workload pays that rate for the billed hours it draws from them. What no
  workload uses is the line ``UNUSED_RESERVED`` of ``MonthCost.by_workload``;
- ``all_on_demand_cost``: the same instance-hours at on-demand prices (an offering without an
  on-demand price keeps the rate it was bought at);
- ``reserved_utilisation``: reserved instance-hours used / owned (calendar hours, all
  offerings); ``spot_share``: spot instance-hours / all instance-hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from capdsl.model.plan import Plan
from capdsl.solve.money import (
    beyond_horizon_cost,
    existing_fleet_cost,
    reservation_month_cost,
    to_cents,
)
from capdsl.solve.solution import Allocation, MonthCost, Purchase, Totals

UNUSED_RESERVED = "(unused reserved)"


@dataclass(frozen=True)
class Priced:
    months: list[MonthCost]
    totals: Totals
    workload_costs: dict[str, Decimal]
    reserved_utilisation: float | None
    spot_share: float | None
    purchases: list[Purchase]
    penalty: Fraction  # soft-budget penalties (objective only)
    exact_cost: Fraction
    scope_costs: dict[str, list[Fraction]]  # budget name -> exact cost of its scope per month

    def solution_fields(self) -> dict[str, Any]:
        """What a ``Solution`` takes from the pricing, as keyword arguments."""
        return {
            "purchases": self.purchases,
            "months": self.months,
            "totals": self.totals,
            "workload_costs": self.workload_costs,
            "reserved_utilisation": self.reserved_utilisation,
            "spot_share": self.spot_share,
        }


def complete_purchase(plan: Plan, p: Purchase) -> Purchase:
    """Fill ``order_by`` (lead time) and ``beyond_horizon`` of a purchase."""
    lead = plan.commitments.lead_time_months
    order = p.month - lead
    beyond = beyond_horizon_cost(
        p.hourly, p.upfront, p.term_months, p.month, plan.horizon, plan.hours_per_month
    )
    return p.model_copy(
        update={
            "order_by": plan.months[order]
            if 0 <= order < len(plan.months)
            else plan.months[0]
            if order < 0
            else None,
            "beyond_horizon": to_cents(beyond * p.count),
        }
    )


def price_solution(plan: Plan, allocations: list[Allocation], purchases: list[Purchase]) -> Priced:
    H = plan.horizon
    hpm = Fraction(plan.hours_per_month)
    mode = plan.commitments.beyond_horizon
    offerings = {o.id: o.offering for o in plan.offerings}
    hours = {(m, b.index): b.hours for m, md in enumerate(plan.demand[:H]) for b in md.blocks}

    od = [Fraction(0)] * H
    spot = [Fraction(0)] * H
    new = [Fraction(0)] * H
    new_hourly = [Fraction(0)] * H
    upfront = [Fraction(0)] * H
    existing = existing_fleet_cost(plan)
    by_w: list[dict[str, Fraction]] = [defaultdict(Fraction) for _ in range(H)]

    # reservations per (offering, month): cost and owned count
    pool_cost: dict[tuple[str, int], Fraction] = defaultdict(Fraction)
    owned: dict[tuple[str, int], int] = defaultdict(int)
    for r in plan.fleet:
        for m in range(max(0, r.start), min(H, r.end)):
            pool_cost[(r.offering, m)] += r.count * Fraction(r.hourly) * hpm
            owned[(r.offering, m)] += r.count
    for p in purchases:
        for m in range(p.month, min(H, p.month + p.term_months)):
            c = p.count * reservation_month_cost(
                p.hourly, p.upfront, p.term_months, p.month, m, H, plan.hours_per_month, mode
            )
            new[m] += c
            new_hourly[m] += p.count * Fraction(p.hourly) * hpm
            pool_cost[(p.offering, m)] += c
            owned[(p.offering, m)] += p.count
        if p.month < H:
            upfront[p.month] += p.count * Fraction(p.upfront)

    # calendar instance-hours per (month, workload, option, offering, zone), in integers:
    # billed hours are a month's calendar hours times hours_per_month / the month's hours,
    # so each sum is priced once (exact, and a plan of 50 workloads over 24 months has
    # hundreds of thousands of allocations)
    used_hours = 0
    spot_hours = 0
    all_hours = 0
    inst_hours: dict[tuple[int, str, str, str, str], int] = defaultdict(int)
    for a in allocations:
        h = a.count * hours[(a.month, a.block)]
        all_hours += h
        if a.option == "spot":
            spot_hours += h
        elif a.option != "on_demand":
            used_hours += h
        inst_hours[(a.month, a.workload, a.option, a.offering, a.zone)] += h
    aod = Fraction(0)
    od_rate = {
        t: Fraction(o.on_demand_hourly)
        for t, o in offerings.items()
        if o.on_demand_hourly is not None
    }
    for (m, name, option, t, zone), h in inst_hours.items():
        bh = h * hpm / plan.demand[m].hours
        if option == "on_demand":
            c = od_rate[t] * bh
            od[m] += c
        elif option == "spot":
            c = Fraction(offerings[t].spot_hourly[zone]) * bh
            spot[m] += c
        else:
            count = owned[(t, m)]
            c = pool_cost[(t, m)] / (count * hpm) * bh if count else Fraction(0)
        by_w[m][name] += c
        aod += od_rate[t] * bh if t in od_rate else c

    months: list[MonthCost] = []
    exact_total = Fraction(0)
    for m in range(H):
        reserved_all = new[m] + existing[m]
        attributed = sum(by_w[m].values(), Fraction(0)) - od[m] - spot[m]
        unused = reserved_all - attributed
        shares = {w: to_cents(v) for w, v in sorted(by_w[m].items())}
        if unused > 0:
            shares[UNUSED_RESERVED] = to_cents(unused)
        parts = [to_cents(od[m]), to_cents(spot[m]), to_cents(new[m]), to_cents(existing[m])]
        months.append(
            MonthCost(
                month=plan.months[m],
                index=m,
                total=sum(parts, Decimal(0)),
                on_demand=parts[0],
                spot=parts[1],
                reserved=parts[2],
                existing=parts[3],
                upfront_cash=to_cents(upfront[m]),
                by_workload=shares,
            )
        )
        exact_total += od[m] + spot[m] + new[m] + existing[m]

    # soft budgets (penalties) and scope costs for budgets
    scope_costs: dict[str, list[Fraction]] = {}
    penalty = Fraction(0)
    month_penalty = [Fraction(0)] * H
    for bud in plan.budgets:
        if bud.workloads:
            series = [
                sum((by_w[m].get(w, Fraction(0)) for w in bud.workloads), Fraction(0))
                for m in range(H)
            ]
        else:
            series = [od[m] + spot[m] + new[m] + existing[m] for m in range(H)]
        scope_costs[bud.name] = series
        if bud.hard:
            continue
        if bud.monthly is not None:
            for m, v in enumerate(series):
                over = max(Fraction(0), v - Fraction(bud.monthly))
                month_penalty[m] += over * Fraction(bud.penalty)
        if bud.total is not None:
            penalty += max(Fraction(0), sum(series, Fraction(0)) - Fraction(bud.total)) * Fraction(
                bud.penalty
            )
    penalty += sum(month_penalty, Fraction(0))
    months = [
        mc.model_copy(update={"penalty": to_cents(month_penalty[m])}) if month_penalty[m] else mc
        for m, mc in enumerate(months)
    ]

    cost = sum((mc.total for mc in months), Decimal(0))
    aod_c = to_cents(aod)
    completed = [complete_purchase(plan, p) for p in purchases]
    recurring = (
        sum(od, Fraction(0))
        + sum(spot, Fraction(0))
        + sum(new_hourly, Fraction(0))
        + sum(existing, Fraction(0))
    )
    totals = Totals(
        cost=cost,
        all_on_demand_cost=aod_c,
        savings_pct=round(float((aod_c - cost) / aod_c * 100), 4) if aod_c > 0 else 0.0,
        upfront=to_cents(sum(upfront, Fraction(0))),
        recurring=to_cents(recurring),
        beyond_horizon=sum((p.beyond_horizon for p in completed), Decimal(0)),
    )
    workload_costs: dict[str, Decimal] = {}
    for w in plan.workloads:
        workload_costs[w.name] = to_cents(
            sum((by_w[m].get(w.name, Fraction(0)) for m in range(H)), Fraction(0))
        )
    total_owned_hours = sum((owned[(t, m)] * plan.demand[m].hours for (t, m) in owned), 0)
    utilisation = round(float(used_hours / total_owned_hours), 6) if total_owned_hours else None
    share = round(float(spot_hours / all_hours), 6) if all_hours else None
    return Priced(
        months,
        totals,
        workload_costs,
        utilisation,
        share,
        completed,
        penalty,
        exact_total,
        scope_costs,
    )
