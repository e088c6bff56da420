"""The Solution: what to run, what to buy and when, what it costs, how sure we are.

Produced by ``capdsl.solve.solver.solve``; independently re-checked by
``capdsl.solve.verify.verify``; rendered by ``capdsl.report``. Pure data (no OR-Tools).
Money is ``Decimal`` in ``currency``; months are indices into ``Plan.months``.

Cost conventions (the verifier recomputes them the same way from the Plan alone):

- on-demand / spot: price x count x block ``billed_hours``;
- new reservations: ``hourly`` x ``hours_per_month`` for every month of the term inside the
  horizon, plus the upfront fee spread evenly over the term's months (``amortize``) or the
  whole term's remaining cost booked at purchase (``full``); ``Purchase.beyond_horizon``
  reports what is committed after the horizon either way;
- existing reservations: their ``hourly`` for every active month inside the horizon.

Conventions of the optimiser's plans (``capdsl.solve``):

- new reservations are bought *regional*: ``Purchase.zone`` is then the offering's region
  (usable in any of its zones, by any workload); a zone name means a zonal reservation;
- ``MonthCost`` components are rounded to cents and ``total`` is their sum; ``by_workload``
  attributes reserved cost by use (an offering's reservations cost C in the month for N owned,
  i.e. C / (N x hours_per_month) per instance-hour drawn), and the line
  ``"(unused reserved)"`` holds what no workload used;
- ``Totals.all_on_demand_cost`` prices the same instance-hours on-demand; ``upfront`` is the
  cash paid upfront within the horizon, ``recurring`` the hourly charges within it;
- ``reserved_utilisation`` and ``spot_share`` are ratios of instance-hours.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from capdsl.lang.diagnostics import Diagnostic
from capdsl.model.plan import PurchaseOption
from capdsl.pricing.catalog import Payment

Status = Literal["optimal", "feasible", "infeasible", "error", "unknown"]


class Allocation(BaseModel):
    """``count`` instances of ``offering`` in ``zone``, bought as ``option``, serving
    ``workload`` during block ``block`` of month ``month``."""

    model_config = ConfigDict(frozen=True)

    workload: str
    offering: str
    zone: str
    option: PurchaseOption
    month: int
    block: int
    count: int


class Purchase(BaseModel):
    """Buy ``count`` reservations of ``offering`` in ``zone`` starting at month ``month``."""

    model_config = ConfigDict(frozen=True)

    offering: str
    zone: str  # the offering's region for a regional reservation (what the optimiser buys)
    term_months: int
    payment: Payment
    offering_class: Literal["standard", "convertible"] = "standard"
    month: int
    count: int
    upfront: Decimal  # per instance
    hourly: Decimal  # per instance
    order_by: str | None = None  # month to place the order given the commitment lead time
    beyond_horizon: Decimal = Decimal(0)  # committed cost after the horizon (all instances)


class MonthCost(BaseModel):
    month: str
    index: int
    total: Decimal
    on_demand: Decimal
    spot: Decimal
    reserved: Decimal  # new reservations (amortised or booked per ``beyond_horizon``)
    existing: Decimal  # reservations already owned
    upfront_cash: Decimal  # upfront fees paid this month (cash view)
    penalty: Decimal = Decimal(0)  # soft-budget overrun penalty (objective only, not spend)
    by_workload: dict[str, Decimal] = Field(default_factory=dict)  # attributed spend


class Totals(BaseModel):
    cost: Decimal
    all_on_demand_cost: Decimal  # same capacity, every instance-hour on-demand
    savings_pct: float  # (all_on_demand - cost) / all_on_demand * 100
    upfront: Decimal = Decimal(0)
    recurring: Decimal = Decimal(0)
    beyond_horizon: Decimal = Decimal(0)


class Binding(BaseModel):
    """A constraint that holds with (near) equality: the plan's own words and setting."""

    month: int | None
    setting: str | None  # Plan.settings key, e.g. "recs.redundancy"
    text: str  # "N+1 after losing use1-az2 binds for recs in 2027-11 (peak block)"


class WhyNot(BaseModel):
    """For a chosen offering: the next-best alternative and what switching would cost."""

    workload: str
    chosen: str
    alternative: str
    delta_per_month: Decimal  # extra cost of the alternative, per month on average
    text: str


class SolveStats(BaseModel):
    solve_s: float = 0.0
    build_s: float = 0.0
    vars_before: int = 0
    vars_after: int = 0
    constraints: int = 0
    offerings_before: int = 0
    offerings_after: int = 0
    passes: dict[str, str] = Field(default_factory=dict)  # pass name -> what it removed
    blocks: int = 0
    compression_overhead: float = 0.0
    seed: int = 0
    # the machine speed the search ran at (``solve.speed``): a time limit buys time limit x
    # speed seconds of the reference machine's work; the same plan, seed and speed give the
    # same Solution
    speed: float = 1.0
    workers: int = 0
    warm_start: bool = False


class Violation(BaseModel):
    """One failed check of the verifier, in the plan's words."""

    check: str  # "demand", "zone_loss", "redundancy", "spot_share", "spot_pool", "quota",
    #             "budget_monthly", "budget_total", "reservations", "cost", "placement", ...
    message: str
    workload: str | None = None
    month: int | None = None
    hour: int | None = None  # calendar hour within the month
    setting: str | None = None


class VerifyReport(BaseModel):
    ok: bool
    checks: dict[str, int] = Field(default_factory=dict)  # check -> number of evaluations
    violations: list[Violation] = Field(default_factory=list)
    recomputed_cost: Decimal | None = None


# --------------------------------------------------------------------------- stress test


class HourShortfall(BaseModel):
    """The worst hour of one workload under the actual demand."""

    workload: str
    month: int
    hour: int  # calendar hour within the month
    when: str  # "2027-11-26 19:00"
    demand: float  # actual demand, unit/s
    carried: float  # what the provisioned fleet carries at the SLO in that hour, unit/s
    shortfall_pct: float  # (demand - carried) / demand * 100, 0 when carried
    utilization: float  # demand / saturation throughput (>= 1: the queue grows without bound)
    latency_s: float | None = None  # predicted percentile latency; None if unbounded or unknown
    slo_s: float | None = None
    percentile: float | None = None


class WorkloadStress(BaseModel):
    workload: str
    unit: str
    hours_short: int  # hours where demand exceeds what the fleet carries at the SLO
    hours_without_headroom: int  # hours where demand x required factor exceeds it
    worst: HourShortfall | None = None

    @property
    def broken(self) -> bool:
        return self.hours_short > 0


class StressReport(BaseModel):
    provisioned: str | None  # scenario the fleet was bought for (None = base)
    actual: str | None  # scenario whose demand was replayed
    workloads: list[WorkloadStress] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(w.broken for w in self.workloads)

    def summary(self) -> str:
        """One line per broken workload, in the plan's words."""
        lines = []
        for w in self.workloads:
            if not w.broken or w.worst is None:
                continue
            h = w.worst
            line = (
                f"{w.workload}: the fleet bought for {self.provisioned or 'the base plan'} carries "
                f"{h.carried:,.0f} {w.unit}/s at the SLO but {self.actual or 'the base plan'} brings "
                f"{h.demand:,.0f} {w.unit}/s on {h.when} ({h.shortfall_pct:.0f}% short, "
                f"{w.hours_short} hours short in all)"
            )
            if h.utilization >= 1.0:
                line += f"; utilisation {h.utilization:.0%}: the queue grows without bound, requests time out"
            elif h.latency_s is not None and h.slo_s is not None and h.percentile is not None:
                line += (
                    f"; p{round(h.percentile * 100)} latency {_fmt_s(h.latency_s)} "
                    f"against the {_fmt_s(h.slo_s)} SLO"
                )
            lines.append(line)
        return "\n".join(lines)


def _fmt_s(seconds: float) -> str:
    if math.isinf(seconds):
        return "unbounded"
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


class Solution(BaseModel):
    plan: str
    scenario: str | None = None
    status: Status
    objective: Decimal | None = None  # what the solver minimised (cost + soft penalties)
    bound: Decimal | None = None  # proven lower bound on the objective
    gap: float | None = None  # (objective - bound) / objective; 0.001 = 0.1%
    currency: str = "USD"
    allocations: list[Allocation] = Field(default_factory=list)
    purchases: list[Purchase] = Field(default_factory=list)
    months: list[MonthCost] = Field(default_factory=list)
    totals: Totals | None = None
    workload_costs: dict[str, Decimal] = Field(default_factory=dict)
    reserved_utilisation: float | None = None  # used reserved instance-hours / owned
    spot_share: float | None = None  # spot capacity-hours / all capacity-hours
    binding: list[Binding] = Field(default_factory=list)
    why_not: list[WhyNot] = Field(default_factory=list)
    stats: SolveStats = SolveStats()
    message: str = ""  # for error / infeasible: a one-line summary
    diagnostics: list[Diagnostic] = Field(default_factory=list)  # infeasibility core, warnings
    verified: bool = False  # set only by capdsl.api after verify() passed
    verification: VerifyReport | None = None
    stress: StressReport | None = None  # this plan's fleet against another scenario's demand
