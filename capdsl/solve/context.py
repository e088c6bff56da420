"""The solver's working view of a Plan, passed through the pre-passes (``prune.PASSES``).

A ``SolveContext`` is an immutable value: each pass returns a new one (``dataclasses.replace``)
and records what it did in ``passes``. No OR-Tools here.

Vocabulary (the planner's words, not the solver's):

- a ``Lane`` is one way a workload can get instances: an offering in a zone, bought as
  on-demand, spot, or drawn from reservations;
- a ``Pool`` is the reservations of one offering in one zone, shared by every workload
  (existing zonal reservations plus new purchases of its ``choices``);
- a ``Block`` is a group of hours of one month that the solver treats as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from capdsl.model.plan import Plan, PurchaseOption, Workload
from capdsl.pricing.catalog import OfferingClass, Payment

STANDARD = "standard"  # a non-spot lane: its instances are reserved or on-demand
SPOT = "spot"
ON_DEMAND: PurchaseOption = "on_demand"
RESERVED: PurchaseOption = "reserved"
LaneKind = str  # STANDARD | SPOT


@dataclass(frozen=True, slots=True)
class Lane:
    """``workload`` may run ``offering`` in ``zone``: as spot (``kind == SPOT``, at ``price``
    per hour) or as a standard instance (``kind == STANDARD``), which is drawn from the
    offering's reservations when some are free in that hour and bought on-demand at
    ``price`` otherwise (``price`` None: reservations only)."""

    workload: str
    offering: str
    zone: str
    kind: LaneKind
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """A reserved option that can be bought for one offering."""

    term_months: int
    payment: Payment
    offering_class: OfferingClass
    upfront: Decimal
    hourly: Decimal

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.term_months, self.payment, self.offering_class)

    def effective_hourly(self, hours_per_month: Decimal) -> Decimal:
        return self.hourly + self.upfront / (hours_per_month * self.term_months)


@dataclass(frozen=True, slots=True)
class Pool:
    """Reservations of ``offering`` in its ``region``, shared by every workload and zone:
    regional ones already owned (count per month), zonal ones already owned (per zone, per
    month; usable in that zone only) and new purchases of ``choices`` (regional)."""

    offering: str
    region: str
    choices: tuple[Choice, ...]
    existing: tuple[int, ...]
    zonal: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def owned(self, month: int) -> int:
        """Reservations already owned in ``month``: regional and zonal (in any zone)."""
        return self.existing[month] + sum(v[month] for v in self.zonal.values())

    @property
    def owns_any(self) -> bool:
        return any(self.existing) or any(any(v) for v in self.zonal.values())


@dataclass(frozen=True, slots=True)
class Block:
    """Hours of month ``month`` grouped as one: ``level[w]`` is the max demand of w over them."""

    month: int
    index: int
    hours: int
    billed: Fraction  # billed hours = hours x hours_per_month / calendar hours of the month
    level: Mapping[str, float]
    label: str = ""
    event: str | None = None
    members: tuple[int, ...] = ()  # coarse blocks: the plan's blocks it stands for
    # lowest hourly demand of each workload over the block's hours: upper limits relative to
    # demand (spot share, per pool) must hold in the block's quietest hour
    floor: Mapping[str, float] = field(default_factory=dict)

    def low(self, workload: str) -> float:
        return self.floor.get(workload, self.level.get(workload, 0.0))


@dataclass(frozen=True, slots=True)
class Scaling:
    """Integer scaling for CP-SAT. Money: ``money`` integer units per currency unit.
    Capacity: workload ``w`` counts ``capacity[w]`` units per unit/s (or work unit)."""

    money: int
    capacity: Mapping[str, int]
    cost_error: float  # largest relative rounding error of any cost coefficient
    capacity_error: float  # largest relative rounding error of any capacity coefficient


@dataclass(frozen=True)
class SolveContext:
    plan: Plan
    hours_per_month: Decimal
    cap: Mapping[tuple[str, str], float]  # (workload, offering) -> per instance
    lanes: tuple[Lane, ...]
    pools: Mapping[str, Pool]  # offering -> its reservations (possible or owned)
    blocks: tuple[tuple[Block, ...], ...] = ()  # per month
    zone_groups: tuple[tuple[str, ...], ...] = ()  # interchangeable zones (symmetry)
    scaling: Scaling | None = None
    excluded: frozenset[tuple[str, str]] = frozenset()  # (workload, offering) not allowed
    passes: Mapping[str, str] = field(default_factory=dict)
    vars_before: int = 0
    offerings_before: int = 0
    naive: bool = False
    notes: tuple[str, ...] = ()
    # How new reservations enter the model: "buy" (purchases over the horizon, the exact
    # model), "rent" (per month at their monthly rate: a relaxation, for bounds) or "fixed"
    # (already decided: ``fixed_owned`` per (offering, month), costing ``fixed_cost`` per month).
    # With "rent", ``fixed_owned`` are reservations already bought, beside the rented ones.
    reservations: str = "buy"
    fixed_owned: Mapping[tuple[str, int], int] = field(default_factory=dict)
    fixed_cost: tuple[Fraction, ...] = ()
    # Sub-models of one block: rented reservations cost this share of their monthly rate
    # (the block's billed hours / hours per month), and batch work is due in proportion to
    # the block's calendar hours ("split") or left out ("drop").
    rent_share: Fraction = Fraction(1)
    batch: str = "month"
    only: frozenset[str] | None = None  # sub-models of some workloads only
    # With ``only``: what the other workloads run, held fixed -- (workload, offering, zone,
    # kind, month, block) -> instances. Their standard instances draw on the reservations
    # owned, and count in the quotas, before the sub-model's own (``decompose.place_batch``)
    fixed_use: Mapping[tuple[str, str, str, str, int, int], int] = field(default_factory=dict)

    # ------------------------------------------------------------------ look-ups

    @property
    def horizon(self) -> int:
        return self.plan.horizon

    @cached_property
    def _workloads(self) -> dict[str, Workload]:
        return {w.name: w for w in self.plan.workloads}

    def workload(self, name: str) -> Workload:
        return self._workloads[name]

    def included(self, month: int) -> bool:
        """Whether the model covers ``month`` (sub-models leave other months' blocks empty)."""
        return bool(self.blocks[month]) if month < len(self.blocks) else False

    def lanes_of(self, workload: str) -> list[Lane]:
        return [ln for ln in self.lanes if ln.workload == workload]

    def offering_ids(self) -> set[str]:
        return {ln.offering for ln in self.lanes}

    def with_pass(self, name: str, report: str, **changes: object) -> SolveContext:
        """A copy with ``changes`` applied and ``report`` recorded under ``name``."""
        from dataclasses import replace

        passes = dict(self.passes)
        passes[name] = report
        return replace(self, passes=passes, **changes)  # type: ignore[arg-type]


def purchase_months(plan: Plan) -> range:
    """Months in which a new reservation may start (lead time applied)."""
    return range(max(0, plan.commitments.lead_time_months), plan.horizon)


def count_variables(ctx: SolveContext) -> int:
    """Integer decision variables the formulation creates for this context."""
    blocks_per_month = [len(bs) for bs in ctx.blocks] or [1] * ctx.horizon
    per_month = sum(blocks_per_month)
    n = len(ctx.lanes) * per_month
    starts = len(purchase_months(ctx.plan))
    n += sum(len(p.choices) for p in ctx.pools.values()) * starts
    n += len(ctx.pools) * per_month  # on-demand overflow per offering and block
    return n
