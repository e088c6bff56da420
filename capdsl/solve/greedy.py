"""The spreadsheet plan: how capacity is planned by hand today (a baseline, and a start).

Per workload: take the offering with the cheapest on-demand price per unit of capacity;
in every block, run enough of it for demand x (1 + headroom), for N+k (k more instances) and
for losing one zone (spread evenly: each zone carries demand / (zones - survive)); then
reserve "the monthly minimum" -- the month's smallest block count -- with the reserved option
of the lowest effective rate, bought when the minimum grows and kept for its term. No spot.
The result is priced by the same cost rules and checked by the verifier like any plan.

The benchmarks compare against it. The optimiser starts from it too (``decompose.py``),
restricted to the lanes left after pruning and with two changes: each workload's offering is
the one that costs least with the reservations that pay off for it (``reserved=True``),
since its reservations are rescheduled for the usage at once; and each block's instances
are spread over the number of zones that needs the fewest (``fewest=True``: ``_spread``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capdsl.model.plan import Plan, PurchaseOption, Workload
from capdsl.solve.costing import price_solution
from capdsl.solve.solution import Allocation, Purchase, Solution


def _cheapest(
    plan: Plan,
    w: Workload,
    allowed: set[str] | None,
    reserved: bool = False,
    demand: _Demand | None = None,
    fewest: bool = False,
) -> tuple[str, float] | None:
    """The offering whose instances cost least on demand over the horizon for what the
    workload needs (whole instances per block, N+k and zone spread included). Ranking by
    price per unit of capacity alone ties every size of a family (prices are proportional)
    and float noise then picks one; the largest size wastes most of its capacity on small
    workloads (one huge instance per zone), so the baseline stops following demand.

    ``reserved``: the least cost with reservations instead -- in each month, the k-th
    instance costs the lesser of on-demand for the hours it runs (the blocks that need at
    least k) and its cheapest reservation's effective rate for the month (from the lead time
    on). That is how the reservations are scheduled for a usage (``schedule.py``: a
    reservation pays off when its instance runs more than its break-even share of the
    hours), so the offering is chosen for what the plan will pay: on-demand prices alone
    pick a family whose reservations save less (the M benchmark's plan: $73,394 -> $67,746
    from this start)."""
    offerings = {o.id: o.offering for o in plan.offerings}
    options = {(r.term_months, r.payment, r.offering_class) for r in plan.commitments.options}
    demand = demand or _Demand.of(plan, w)
    months = demand.month
    best: tuple[float, float, str, float] | None = None
    for c in w.capacities:
        o = offerings.get(c.offering)
        if o is None or o.on_demand_hourly is None or c.per_instance <= 0 or not c.zones:
            continue
        if allowed is not None and c.offering not in allowed:
            continue
        price = float(o.on_demand_hourly)
        rate = min(
            (
                float(r.effective_hourly(plan.hours_per_month))
                for r in o.reserved
                if (r.term_months, r.payment, r.offering_class) in options
            ),
            default=math.inf,
        )
        counts = _spread(w, demand, c.per_instance, len(c.zones), fewest)[0]
        eligible = np.zeros(len(months), dtype=bool)
        if reserved and rate < price:
            eligible = months >= plan.commitments.lead_time_months
        # instance-hours needed on demand over the horizon (integers: exact in any order)
        hours = float(np.dot(counts[~eligible], demand.hours[~eligible]))
        reserving = 0.0  # with ``reserved``: the cost of the months that can hold reservations
        if eligible.any():
            # the k-th instance of a month runs in its blocks that need at least k (their
            # hours: ``runs``); a reservation is paid for every hour of the month
            n, h, m = counts[eligible], demand.hours[eligible], months[eligible]
            order = np.lexsort((-n, m))
            n, h, m = n[order], h[order], m[order]
            runs = np.cumsum(h)
            first = np.r_[True, m[1:] != m[:-1]]  # each month's first row
            runs -= np.maximum.accumulate(np.where(first, runs - h, 0))
            below = np.r_[np.where(m[1:] == m[:-1], n[1:], 0), 0]
            month_hours = demand.month_hours[m]
            reserving = float(np.sum((n - below) * np.minimum(price * runs, rate * month_hours)))
        cost = price * hours + reserving
        key = (round(cost, 6), price / c.per_instance, c.offering, c.per_instance)
        if best is None or key < best:
            best = key
    return (best[2], best[3]) if best else None


@dataclass(frozen=True)
class _Demand:
    """A workload's blocks over the horizon, flattened: level, hours, month, block index,
    and (batch work) what is due in the block's month; and each month's hours."""

    level: npt.NDArray[np.float64]
    hours: npt.NDArray[np.int64]
    month: npt.NDArray[np.int64]
    block: npt.NDArray[np.int64]
    due: npt.NDArray[np.float64]
    block_month_hours: npt.NDArray[np.int64]
    month_hours: npt.NDArray[np.int64]

    @staticmethod
    def of(plan: Plan, w: Workload) -> _Demand:
        months = plan.demand[: plan.horizon]
        rows = [
            (b.level.get(w.name, 0.0), b.hours, m, b.index, md.work.get(w.name, 0.0), md.hours)
            for m, md in enumerate(months)
            for b in md.blocks
        ]
        level, hours, month, block, due, block_month_hours = (
            (np.array(col) for col in zip(*rows, strict=True)) if rows else (np.zeros(0),) * 6
        )
        return _Demand(
            level.astype(np.float64),
            hours.astype(np.int64),
            month.astype(np.int64),
            block.astype(np.int64),
            due.astype(np.float64),
            block_month_hours.astype(np.int64),
            np.array([md.hours for md in months], dtype=np.int64),
        )


def _counts(w: Workload, demand: _Demand, cap: float, zones: int) -> npt.NDArray[np.int64]:
    """Instances of one offering the spreadsheet runs in each block: batch work, what is due
    in the month at full use; a service, enough for its demand with headroom, for N+k (k
    more instances) and for losing ``survive`` zones (spread evenly over all ``zones``), and
    its replica floors."""
    return _spread(w, demand, cap, zones)[0]


def _spread(
    w: Workload, demand: _Demand, cap: float, zones: int, fewest: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``_counts``, and the zones each block's instances are spread over: all of them, or
    with ``fewest`` (the optimiser's start) the number of zones that needs the fewest
    instances. Surviving a zone over ``z`` zones takes ``z`` times the demand over ``z - 1``:
    a service of one instance's demand runs 2 instances in 2 zones, not 6 in 6, and the
    spreadsheet reserves its quietest block's count. From this start, with the same time
    limits: the XL benchmark (its services in six zones) $1,315,969 -> $1,043,234, L
    $37,530 -> $35,319, the retail and seasonal examples $11,863 -> $11,674 and $9,739 ->
    $9,540; saas-growth $48,355 -> $49,006 (its rounds settle on fewer reservations; before
    the batch placement at the end)."""
    level = demand.level
    used = np.full(len(level), zones, dtype=np.int64)
    if w.kind == "batch":
        n = np.ceil(demand.due / (cap * demand.block_month_hours) - 1e-9)
        return np.where(demand.due > 0, n, 0).astype(np.int64), used
    n = _whole(level * w.required_factor / cap, level)
    n = np.maximum(n, _whole(level / cap, level) + w.redundancy)
    s = w.survive_zones
    if s and zones > s:
        # per candidate zone count (rows), the instances each block needs (columns)
        counts = [zones] if not fewest or w.min_replicas_per_zone else range(zones, s, -1)
        options = np.array(
            [np.maximum(n, _whole(level / ((z - s) * cap), level) * z) for z in counts]
        )
        pick = np.argmin(options, axis=0)  # the first least: the most zones among equals
        n = options[pick, np.arange(len(level))]
        used = np.array(counts, dtype=np.int64)[pick]
    least = np.maximum(w.min_replicas, w.min_replicas_per_zone * zones)
    return np.where(level <= 0, least, np.maximum(n, least)).astype(np.int64), used


def _whole(x: npt.NDArray[np.float64], level: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Whole instances for ``x`` instances' worth of demand ``level``: rounded up, float
    noise just above a whole number let go, and at least one for any demand at all (a
    demand of 1e-300 is a demand)."""
    return np.where(level > 0, np.maximum(np.ceil(x - 1e-9), 1.0), 0.0)


def greedy_counts(
    plan: Plan,
    eligible: dict[str, set[str]] | None = None,
    reserved: bool = False,
    fewest: bool = False,
) -> tuple[list[Allocation], list[Purchase]]:
    """The spreadsheet plan as allocations and purchases; ``eligible[w]`` limits the
    offerings a workload may be given (all when None); ``reserved``: each workload's offering
    chosen for its cost with reservations (``_cheapest``), not on demand."""
    offerings = {o.id: o.offering for o in plan.offerings}
    allowed = {(r.term_months, r.payment, r.offering_class) for r in plan.commitments.options}
    hpm = plan.hours_per_month
    counts: dict[tuple[str, str, int, int], int] = {}  # (workload, offering, month, block)
    spread: dict[tuple[str, int, int], int] = {}  # (workload, month, block) -> zones used
    choice: dict[str, tuple[str, float, tuple[str, ...]]] = {}
    for w in plan.workloads:
        demand = _Demand.of(plan, w)
        pick = _cheapest(
            plan,
            w,
            eligible.get(w.name, set()) if eligible is not None else None,
            reserved,
            demand,
            fewest,
        )
        if pick is None:
            continue
        t, cap = pick
        zones = next(c.zones for c in w.capacities if c.offering == t)
        choice[w.name] = (t, cap, zones)
        per_block, used = _spread(w, demand, cap, len(zones), fewest)
        for m, b, n, z in zip(
            demand.month.tolist(),
            demand.block.tolist(),
            per_block.tolist(),
            used.tolist(),
            strict=True,
        ):
            counts[(w.name, t, m, b)] = n
            spread[(w.name, m, b)] = z
    # reserve the monthly minimum of every offering used, with its cheapest reserved option
    minimum: dict[tuple[str, int], int] = defaultdict(int)
    for m, md in enumerate(plan.demand[: plan.horizon]):
        position = {blk.index: i for i, blk in enumerate(md.blocks)}
        per_offering: dict[str, list[int]] = {}
        for (_w, t, mm, bi), n in counts.items():
            if mm == m:
                per_offering.setdefault(t, [0] * len(md.blocks))[position[bi]] += n
        for t, ns in per_offering.items():
            minimum[(t, m)] = min(ns)
    purchases: list[Purchase] = []
    held: dict[tuple[str, int], int] = defaultdict(int)
    for (t, m), need in sorted(minimum.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps = [
            r
            for r in offerings[t].reserved
            if (r.term_months, r.payment, r.offering_class) in allowed
        ]
        if not rps or m < plan.commitments.lead_time_months:
            continue
        rp = min(rps, key=lambda r: (r.effective_hourly(hpm), r.term_months))
        extra = need - held[(t, m)]
        if extra <= 0:
            continue
        purchases.append(
            Purchase(
                offering=t,
                zone=offerings[t].region,
                term_months=rp.term_months,
                payment=rp.payment,
                offering_class=rp.offering_class,
                month=m,
                count=extra,
                upfront=rp.upfront,
                hourly=rp.hourly,
            )
        )
        for mm in range(m, min(plan.horizon, m + rp.term_months)):
            held[(t, mm)] += extra
    # allocate: spread each workload's instances over its zones, reserved first
    allocations: list[Allocation] = []
    for m, md in enumerate(plan.demand[: plan.horizon]):
        for b in md.blocks:
            left = dict((t, held[(t, m)]) for t in {t for (t, mm) in held if mm == m})
            for w in plan.workloads:
                if w.name not in choice:
                    continue
                t, _cap, zones = choice[w.name]
                n = counts.get((w.name, t, m, b.index), 0)
                zones = zones[: spread.get((w.name, m, b.index), len(zones))]
                per_zone = [
                    n // len(zones) + (1 if i < n % len(zones) else 0) for i in range(len(zones))
                ]
                for z, k in zip(zones, per_zone, strict=True):
                    if not k:
                        continue
                    r = min(k, left.get(t, 0))
                    if r:
                        left[t] -= r
                    split: tuple[tuple[PurchaseOption, int], ...] = (
                        ("reserved", r),
                        ("on_demand", k - r),
                    )
                    for option, count in split:
                        if count:
                            allocations.append(
                                Allocation(
                                    workload=w.name,
                                    offering=t,
                                    zone=z,
                                    option=option,
                                    month=m,
                                    block=b.index,
                                    count=count,
                                )
                            )
    purchases.sort(key=lambda p: (p.month, p.offering))
    return allocations, purchases


def greedy_plan(plan: Plan) -> Solution:
    """The spreadsheet plan, priced (the benchmarks' baseline)."""
    allocations, purchases = greedy_counts(plan)
    priced = price_solution(plan, allocations, purchases)
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status="feasible",
        objective=priced.totals.cost,
        currency=plan.currency,
        allocations=allocations,
        message="spreadsheet baseline",
        **priced.solution_fields(),
    )
