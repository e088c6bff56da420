"""Facts derived from a (Plan, Solution) pair that every renderer shows the same way.

Nothing here re-optimises or re-verifies: it reads the solution and prices it with the
plan's own numbers (the conventions of ``capdsl.solve.solution``), so the table, the JSON,
the CSV and the reports agree with each other to the cent.

Capacity vs demand (per workload, per month):

- services and streams: ``demand`` is the month's peak demand (the highest block
  ``level``; the exact hourly maximum when the month has no blocks), ``required`` is
  ``demand * Workload.required_factor`` (headroom / max utilisation), ``capacity`` is
  ``sum(count * Capacity.per_instance)`` of the allocations in that peak block. Redundancy
  and zone-loss reserves are on top of ``required``; the verifier checks those.
- batch: ``demand`` is the work due in the month, ``capacity`` the work the month's
  allocations deliver (``count * per_instance * block hours``; spot hours deliver
  ``1 - checkpoint_overhead`` of theirs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from capdsl.model.plan import DemandBlock, ExistingReservation, Plan, Workload
from capdsl.solve.solution import Allocation, Purchase, Solution

MILESTONES = (6, 12, 18, 24)
OPTIONS = ("reserved", "on_demand", "spot")


def dec(value: float) -> Decimal:
    """A float (hours, shares) as the Decimal it prints as, for exact money arithmetic."""
    return Decimal(repr(float(value)))


@dataclass(frozen=True)
class CapacityPoint:
    month_index: int
    month: str
    block: int | None  # the peak block (services); None for batch (the whole month)
    demand: float
    required: float
    capacity: float

    @property
    def coverage(self) -> float | None:
        """capacity / required (1.0 = exactly enough); None when nothing is required."""
        return self.capacity / self.required if self.required > 0 else None


@dataclass(frozen=True)
class MixItem:
    """Instances of one offering bought one way, at a workload's peak block."""

    offering: str
    option: str
    count: int
    zones: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Milestone:
    months: int  # cumulative over the first ``months`` months
    month: str  # label of the last month included
    cost: Decimal


class Result:
    """One solved (or failed) plan with the derived facts the renderers need."""

    def __init__(self, plan: Plan, solution: Solution):
        self.plan = plan
        self.solution = solution

    # ------------------------------------------------------------------ status

    @property
    def name(self) -> str:
        return self.solution.plan or self.plan.name

    @property
    def scenario(self) -> str | None:
        return self.solution.scenario if self.solution.scenario is not None else self.plan.scenario

    @property
    def currency(self) -> str:
        return self.solution.currency

    @property
    def solved(self) -> bool:
        """A plan to show: optimal or feasible, with costs."""
        return self.solution.status in ("optimal", "feasible") and self.solution.totals is not None

    @property
    def trusted(self) -> bool:
        """Solved and independently verified."""
        return self.solved and self.solution.verified

    @property
    def status(self) -> str:
        """The public status: ``unknown`` (no solution within the limit) reads as ``error``."""
        return "error" if self.solution.status == "unknown" else self.solution.status

    def month_label(self, index: int | None) -> str | None:
        if index is None:
            return None
        if 0 <= index < len(self.plan.months):
            return self.plan.months[index]
        for mc in self.solution.months:
            if mc.index == index:
                return mc.month
        return _shift_month(self.plan.start, index)

    # ------------------------------------------------------------------ prices

    def block(self, month: int, block: int) -> DemandBlock | None:
        if not 0 <= month < len(self.plan.demand):
            return None
        for b in self.plan.demand[month].blocks:
            if b.index == block:
                return b
        return None

    def hourly_price(self, alloc: Allocation) -> Decimal | None:
        """What one instance-hour of an on-demand or spot allocation costs; None for
        reserved capacity (paid by its reservation) or an unknown price."""
        try:
            offering = self.plan.offering(alloc.offering).offering
        except KeyError:
            return None
        if alloc.option == "on_demand":
            return offering.on_demand_hourly
        if alloc.option == "spot":
            return offering.spot_hourly.get(alloc.zone)
        return None

    def allocation_cost(self, alloc: Allocation) -> Decimal | None:
        """price x count x block billed hours (on-demand and spot); None for reserved."""
        hourly = self.hourly_price(alloc)
        hours = self.billed_hours(alloc.month, alloc.block)
        if hourly is None or hours is None:
            return None
        return hourly * alloc.count * hours

    def billed_hours(self, month: int, block: int) -> Decimal | None:
        """Billed hours of a block, exactly: its calendar hours x hours_per_month / the
        month's calendar hours (``DemandBlock.billed_hours`` as a float)."""
        b = self.block(month, block)
        if b is None:
            return None
        calendar_hours = self.plan.demand[month].hours
        if calendar_hours > 0:
            return Decimal(b.hours) * self.plan.hours_per_month / Decimal(calendar_hours)
        return dec(b.billed_hours)

    def purchase_cost_in_horizon(self, p: Purchase) -> Decimal:
        """What a new reservation adds to the horizon's cost (``CommitmentPolicy.beyond_horizon``:
        ``amortize`` counts its months inside the horizon, ``full`` the whole term)."""
        hpm = self.plan.hours_per_month
        if self.plan.commitments.beyond_horizon == "full":
            return p.count * (p.upfront + p.hourly * hpm * p.term_months)
        inside = max(0, min(p.term_months, self.plan.horizon - p.month))
        return p.count * inside * (p.hourly * hpm + p.upfront / p.term_months)

    def existing_months(self, r: ExistingReservation) -> range:
        return range(max(0, r.start), min(self.plan.horizon, r.end))

    def existing_cost_in_horizon(self, r: ExistingReservation) -> Decimal:
        return r.count * r.hourly * self.plan.hours_per_month * len(self.existing_months(r))

    # ------------------------------------------------------------------ allocations

    @cached_property
    def _by_cell(self) -> dict[tuple[int, int, str], list[Allocation]]:
        cells: dict[tuple[int, int, str], list[Allocation]] = defaultdict(list)
        for a in self.solution.allocations:
            cells[(a.month, a.block, a.workload)].append(a)
        return cells

    def allocations_at(self, month: int, block: int, workload: str) -> list[Allocation]:
        return self._by_cell.get((month, block, workload), [])

    def sorted_allocations(self) -> list[Allocation]:
        return sorted(
            self.solution.allocations,
            key=lambda a: (
                a.month,
                a.block,
                a.workload,
                a.offering,
                a.zone,
                OPTIONS.index(a.option),
            ),
        )

    def per_instance(self, workload: Workload, offering: str) -> float:
        for c in workload.capacities:
            if c.offering == offering:
                return c.per_instance
        return 0.0

    # ------------------------------------------------------------------ capacity vs demand

    def peak_block(self, month: int, workload: str) -> int | None:
        """The block of ``month`` with the highest demand of ``workload``."""
        if not 0 <= month < len(self.plan.demand):
            return None
        blocks = [b for b in self.plan.demand[month].blocks if workload in b.level]
        if not blocks:
            return None
        return max(blocks, key=lambda b: (b.level[workload], -b.index)).index

    @cached_property
    def capacity(self) -> dict[str, list[CapacityPoint]]:
        """Capacity vs demand per workload and month (see the module docstring)."""
        series: dict[str, list[CapacityPoint]] = {}
        months = range(min(len(self.plan.demand), len(self.plan.months)))
        for w in self.plan.workloads:
            points = []
            for m in months:
                md = self.plan.demand[m]
                if w.kind == "batch":
                    demand = md.work.get(w.name, 0.0)
                    capacity = 0.0
                    overhead = w.batch.checkpoint_overhead if w.batch else 0.0
                    for b in md.blocks:
                        for a in self.allocations_at(m, b.index, w.name):
                            done = a.count * self.per_instance(w, a.offering) * b.hours
                            capacity += done * (1 - overhead) if a.option == "spot" else done
                    points.append(
                        CapacityPoint(
                            m, md.month, None, demand, demand * w.required_factor, capacity
                        )
                    )
                    continue
                block = self.peak_block(m, w.name)
                if block is not None:
                    demand = next(b.level[w.name] for b in md.blocks if b.index == block)
                else:
                    demand = max(md.hourly.get(w.name) or [0.0])
                cap = 0.0
                if block is not None:
                    cap = sum(
                        a.count * self.per_instance(w, a.offering)
                        for a in self.allocations_at(m, block, w.name)
                    )
                points.append(
                    CapacityPoint(m, md.month, block, demand, demand * w.required_factor, cap)
                )
            series[w.name] = points
        return series

    def peak_mix(self, workload: str, month: int) -> list[MixItem]:
        """The instance mix of ``workload`` at its peak block of ``month`` (batch: the
        block with the most instances)."""
        w = self.plan.workload(workload)
        if w.kind == "batch":
            blocks = (
                [b.index for b in self.plan.demand[month].blocks]
                if month < len(self.plan.demand)
                else []
            )
            block = max(
                blocks,
                key=lambda b: (sum(a.count for a in self.allocations_at(month, b, workload)), -b),
                default=None,
            )
        else:
            block = self.peak_block(month, workload)
        if block is None:
            return []
        groups: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for a in self.allocations_at(month, block, workload):
            groups[(a.offering, a.option)][a.zone] += a.count
        items = [
            MixItem(off, opt, sum(zones.values()), tuple(sorted(zones.items())))
            for (off, opt), zones in groups.items()
        ]
        items.sort(key=lambda i: (OPTIONS.index(i.option), -i.count, i.offering))
        return [i for i in items if i.count > 0]

    # ------------------------------------------------------------------ mix and money over time

    @cached_property
    def instance_hours(self) -> list[dict[str, float]]:
        """Billed instance-hours per month by purchase option (the purchase mix)."""
        rows: list[dict[str, float]] = [dict.fromkeys(OPTIONS, 0.0) for _ in self.plan.months]
        for a in self.solution.allocations:
            b = self.block(a.month, a.block)
            if b is not None and a.month < len(rows):
                rows[a.month][a.option] += a.count * b.billed_hours
        return rows

    @cached_property
    def on_demand_equivalent(self) -> list[Decimal | None]:
        """Per month: every allocated instance-hour at the on-demand price (None when an
        offering has no on-demand price). Sums to the all-on-demand cost of the same fleet."""
        rows: list[Decimal | None] = [Decimal(0) for _ in self.plan.months]
        for a in self.solution.allocations:
            b = self.block(a.month, a.block)
            if b is None or a.month >= len(rows):
                continue
            try:
                od = self.plan.offering(a.offering).offering.on_demand_hourly
            except KeyError:
                od = None
            current = rows[a.month]
            rows[a.month] = (
                None
                if od is None or current is None
                else current + od * a.count * (self.billed_hours(a.month, a.block) or Decimal(0))
            )
        return rows

    @cached_property
    def cumulative(self) -> list[Decimal]:
        total = Decimal(0)
        out = []
        for mc in self.solution.months:
            total += mc.total
            out.append(total)
        return out

    def milestones(self) -> list[Milestone]:
        """Cumulative cost after 6, 12, 18 and 24 months (those inside the horizon) and at
        the end of the horizon."""
        n = len(self.solution.months)
        marks = [k for k in MILESTONES if k <= n]
        if n and n not in marks:
            marks.append(n)
        return [
            Milestone(k, self.solution.months[k - 1].month, self.cumulative[k - 1]) for k in marks
        ]

    def cliffs(self) -> list[tuple[Workload, str]]:
        """Workloads whose current fleet stops carrying demand inside the horizon."""
        out = []
        for w in self.plan.workloads:
            label = self.month_label(w.cliff_month)
            if label is not None:
                out.append((w, label))
        return out


def order_results(results: Sequence[tuple[Plan, Solution]]) -> list[Result]:
    """Results with the plan-for scenario first (the one the team commits to)."""
    views = [Result(p, s) for p, s in results]
    ref = reference_index(views)
    return [views[ref], *views[:ref], *views[ref + 1 :]]


def reference_index(views: Sequence[Result]) -> int:
    """The result others are compared with: the plan's ``plan_for`` scenario when it was
    solved, else the first one."""
    plan_for = views[0].plan.plan_for if views else None
    for i, v in enumerate(views):
        if plan_for is not None and v.scenario == plan_for:
            return i
    return 0


def _shift_month(start: str, months: int) -> str:
    year, month = (int(x) for x in start.split("-")[:2])
    total = year * 12 + month - 1 + months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"
