"""What the screens show, derived from a Plan and its Solution (pure functions).

Kept apart from the widgets so the arithmetic (peak instances, capacity at the peak
block, the cost delta between scenarios) is unit-tested without a terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capdsl.model.plan import Plan, Workload
    from capdsl.solve.solution import Binding, Solution, WhyNot


ZERO = Decimal(0)


# --------------------------------------------------------------------------- purchase mix


@dataclass(frozen=True)
class MixRow:
    month: int
    workload: str
    offering: str
    zone: str
    option: str
    peak: int  # most instances in any block of the month
    low: int  # fewest instances over the month's blocks (0 when some block uses none)
    instance_hours: float  # billed instance-hours
    cost: Decimal | None  # on-demand / spot spend of the row; None for reserved capacity

    @property
    def key(self) -> str:
        return f"{self.month}|{self.workload}|{self.offering}|{self.zone}|{self.option}"


def mix_rows(plan: Plan, solution: Solution, month: int | None = None) -> list[MixRow]:
    """The purchase mix by month, workload, offering, zone and option."""
    blocks = {(md.index, b.index): b for md in plan.demand for b in md.blocks}
    n_blocks = {md.index: max(len(md.blocks), 1) for md in plan.demand}
    groups: dict[tuple[int, str, str, str, str], dict[int, int]] = defaultdict(dict)
    for a in solution.allocations:
        if month is not None and a.month != month:
            continue
        key = (a.month, a.workload, a.offering, a.zone, a.option)
        groups[key][a.block] = groups[key].get(a.block, 0) + a.count
    offerings = {o.id: o for o in plan.offerings}
    rows: list[MixRow] = []
    for (m, w, off, zone, option), by_block in groups.items():
        hours = 0.0
        for b, count in by_block.items():
            block = blocks.get((m, b))
            hours += count * (block.billed_hours if block is not None else 0.0)
        cost: Decimal | None = None
        po = offerings.get(off)
        if po is not None and option == "on_demand" and po.offering.on_demand_hourly is not None:
            cost = po.offering.on_demand_hourly * Decimal(str(round(hours, 6)))
        elif po is not None and option == "spot":
            price = po.offering.spot_hourly.get(zone)
            if price is None and po.offering.spot_hourly:
                price = min(po.offering.spot_hourly.values())
            cost = None if price is None else price * Decimal(str(round(hours, 6)))
        counts = list(by_block.values())
        low = min(counts) if len(by_block) >= n_blocks.get(m, 1) else 0
        rows.append(MixRow(m, w, off, zone, option, max(counts), low, hours, cost))
    order = {"reserved": 0, "on_demand": 1, "spot": 2}
    rows.sort(key=lambda r: (r.month, r.workload, order.get(r.option, 3), r.offering, r.zone))
    return rows


# --------------------------------------------------------------------------- explanations


def _workload_names(plan: Plan) -> set[str]:
    return {w.name for w in plan.workloads}


def binding_for(
    plan: Plan, solution: Solution, *, month: int | None = None, workload: str | None = None
) -> list[Binding]:
    """Binding constraints relevant to a month and a workload (all when both are None).

    A binding setting of another workload is left out; plan-wide settings (budget,
    commitments, quotas) are kept."""
    names = _workload_names(plan)
    family = {workload} if workload else set()
    if workload:
        try:
            parent = plan.workload(workload).parent
        except KeyError:
            parent = None
        if parent:
            family.add(parent)
    out = []
    for b in solution.binding:
        if month is not None and b.month is not None and b.month != month:
            continue
        if workload and b.setting:
            head = b.setting.split(".", 1)[0]
            if (
                head in names
                and head not in family
                and not any(b.setting.startswith(f + ".") for f in family)
            ):
                continue
        out.append(b)
    return out


def why_not_for(
    solution: Solution, *, workload: str | None = None, offering: str | None = None
) -> list[WhyNot]:
    rows = [w for w in solution.why_not if workload is None or w.workload == workload]
    exact = [w for w in rows if offering is None or w.chosen == offering]
    return exact or rows


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class ScheduleRow:
    kind: str  # "buy" | "expires"
    month: int
    order_by: str  # month to order (lead time), "" when n/a
    offering: str
    zone: str
    term: int  # months; 0 for an expiring reservation
    payment: str
    count: int
    upfront: Decimal  # all instances
    hourly: Decimal  # per instance
    beyond_horizon: Decimal
    note: str = ""


def schedule_rows(plan: Plan, solution: Solution) -> list[ScheduleRow]:
    """What to buy when (new reservations) and when owned reservations run out."""
    rows = [
        ScheduleRow(
            "buy",
            p.month,
            p.order_by or "",
            p.offering,
            p.zone,
            p.term_months,
            p.payment,
            p.count,
            p.upfront * p.count,
            p.hourly,
            p.beyond_horizon,
        )
        for p in solution.purchases
    ]
    for r in plan.fleet:
        if 0 <= r.end < plan.horizon:
            rows.append(
                ScheduleRow(
                    "expires",
                    r.end,
                    "",
                    r.offering,
                    r.zone or "regional",
                    0,
                    "",
                    r.count,
                    ZERO,
                    r.hourly,
                    ZERO,
                    r.label,
                )
            )
    rows.sort(key=lambda r: (r.month, r.kind != "expires", r.offering, r.zone))
    return rows


# --------------------------------------------------------------------------- capacity


@dataclass
class CapacitySeries:
    workload: str
    unit: str  # "prediction/s" or "gpu_hour/month"
    months: list[str]
    required: list[float]  # demand x the workload's required factor (services) / work due
    demand: list[float]  # peak demand (services) / work due (batch)
    by_option: dict[str, list[float]] = field(default_factory=dict)  # capacity at the peak block
    fleet: list[float] = field(default_factory=list)  # capacity of reservations owned today
    cliff_month: int | None = None
    cliff_reason: str = ""

    def capacity(self, m: int) -> float:
        return sum(v[m] for v in self.by_option.values())


def capacity_series(plan: Plan, solution: Solution | None, workload: str) -> CapacitySeries:
    """Capacity vs demand for one workload, month by month.

    Services and streams: at each month's peak block, capacity (instances x per-instance
    rate, by purchase option) against peak demand and demand x (1 + headroom).
    Batch: work delivered over the month against the work due."""
    w: Workload = plan.workload(workload)
    per = {c.offering: c.per_instance for c in w.capacities}
    batch = w.kind == "batch"
    unit = f"{w.unit}/month" if batch else f"{w.unit}/s"
    n = len(plan.demand)
    series = CapacitySeries(
        workload,
        unit,
        [md.month for md in plan.demand],
        [0.0] * n,
        [0.0] * n,
        {o: [0.0] * n for o in ("reserved", "on_demand", "spot")},
        [0.0] * n,
        w.cliff_month,
        w.cliff_reason,
    )
    peak_block: dict[int, int] = {}
    for md in plan.demand:
        m = md.index
        if batch:
            due = md.work.get(workload, 0.0)
            series.demand[m] = due
            series.required[m] = due
        else:
            levels = [(b.level.get(workload, 0.0), b.index) for b in md.blocks]
            level, block = max(levels, default=(0.0, 0))
            peak_block[m] = block
            series.demand[m] = level
            series.required[m] = level * w.required_factor
        hours = sum(b.hours for b in md.blocks) or md.hours
        for r in plan.fleet:
            if r.start <= m < r.end and r.offering in per:
                series.fleet[m] += r.count * per[r.offering] * (hours if batch else 1.0)
    if solution is not None:
        block_hours = {(md.index, b.index): b.hours for md in plan.demand for b in md.blocks}
        overhead = w.batch.checkpoint_overhead if (batch and w.batch) else 0.0
        for a in solution.allocations:
            if a.workload != workload or a.offering not in per or a.month >= n:
                continue
            if batch:
                eff = (1.0 - overhead) if a.option == "spot" else 1.0
                series.by_option[a.option][a.month] += (
                    a.count * per[a.offering] * block_hours.get((a.month, a.block), 0) * eff
                )
            elif a.block == peak_block.get(a.month):
                series.by_option[a.option][a.month] += a.count * per[a.offering]
    return series


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class CompareRow:
    month: str
    a: Decimal | None
    b: Decimal | None

    @property
    def delta(self) -> Decimal | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a


def compare_rows(a: Solution, b: Solution) -> list[CompareRow]:
    """Cost per month of two solutions, aligned by calendar month."""
    ca = {m.month: m.total for m in a.months}
    cb = {m.month: m.total for m in b.months}
    months = list(dict.fromkeys([*ca, *cb]))
    months.sort()
    return [CompareRow(m, ca.get(m), cb.get(m)) for m in months]


def total_of(rows: Iterable[CompareRow], side: str) -> Decimal:
    return sum((getattr(r, side) or ZERO for r in rows), ZERO)
