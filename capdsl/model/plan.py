"""The Plan: a validated, unit-resolved statement of what the optimiser must satisfy.

``capdsl.model.build`` turns an AST plus catalogs into a ``Plan``; ``capdsl.solve`` turns a
``Plan`` into a ``Solution``. Everything here is in fixed units so that the solver and the
verifier never convert anything:

- demand of services and streams: workload units **per second** (``Workload.unit`` names the
  count unit, e.g. ``prediction``); ``Capacity.per_instance`` is in the same unit per second,
  already at the latency SLO;
- batch work: work units per month (``gpu_hour`` or ``vcpu_hour``); ``Capacity.per_instance``
  is work units per hour of one instance (its GPU or vCPU count);
- money: ``Decimal`` in ``Plan.currency``; prices are per instance-hour; a month is billed
  as ``hours_per_month`` hours (730 by convention), spread evenly over its calendar hours;
- months are indices ``0..horizon-1`` into ``Plan.months`` (``"2027-01"``...).

``Plan.offerings`` holds the offerings some workload can run on (``Capacity.offering``) and
those of the existing fleet; ``Workload.ineligible`` may name others (with the reason).
A traffic-mix share is its own workload (``chat.small``, ``parent="chat"``); its parent is
not a workload of the plan. A stream's demand is already its burst rate (``Workload.burst``).

``Plan.settings`` indexes every setting of the .cap source by a dotted key, so the optimiser
and explanations can speak in the plan's own words. The key is the setting's block path
plus its name; the text is the source as written (a scenario's override line where a
scenario set it, with the scenario's span):

- workloads: ``recs.headroom``, ``recs.redundancy``, ``recs.survive``, ``recs.latency``,
  ``recs.growth``, ``recs.baseline``, ``recs.spot.max``, ``recs.spot.per_pool``,
  ``recs.event.annual sale.scale`` (event names unquoted), ``recs.runs_on.service_time``;
  mix shares ``chat.small.share``;
- ``budget.monthly``, ``budget.total``, ``budget.<name>.monthly``; ``quota.<name>.max``;
  ``commitments.max``, ``commitments.terms``; ``<catalog>.regions``, ``<catalog>.discount``;
  ``plan.horizon``; fleet ``fleet.<catalog>.<type>.count`` (``#2``, ``#3`` for repeats);
- blocks themselves under their path with their header line as text: the workload
  ``recs`` and catalog ``aws``, ``recs.spot``, ``recs.runs_on`` (``runs_on#2`` for a second
  block), ``recs.event.annual sale``, ``quota.<name>``, ``budget``, ``commitments``,
  ``fleet.aws.c7g.2xlarge``.

The Plan serialises to JSON (``capdsl check --emit plan``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from capdsl.lang.diagnostics import Diagnostic, Span
from capdsl.pricing.catalog import Offering, Payment, SourceStamp

WorkloadKind = Literal["service", "batch", "stream"]
PurchaseOption = Literal["reserved", "on_demand", "spot"]


class Setting(BaseModel):
    """A setting of the .cap file, so the optimiser can speak in the plan's own words.

    ``path`` is a dotted name (``recs.redundancy``, ``budget.monthly``,
    ``quota.gpu_us_east.max``); ``text`` the source as written (``redundancy = N+1``)."""

    model_config = ConfigDict(frozen=True)

    path: str
    text: str
    span: Span | None = None


class PlanOffering(BaseModel):
    """An offering as the plan sees it: prices after plan overrides (discounts, negotiated
    rates). ``id`` is ``<catalog>.<instance_type>@<region>``, e.g. ``aws.c7g.2xlarge@us-east-1``."""

    model_config = ConfigDict(frozen=True)

    id: str
    catalog: str
    offering: Offering
    price_notes: tuple[str, ...] = ()  # "enterprise discount 12% on all prices", ...

    @property
    def zones(self) -> tuple[str, ...]:
        return self.offering.zone_list()


class QueueModel(BaseModel):
    """The M/M/c parameters behind a queueing-derived capacity, so the latency of a load
    other than the SLO's can be predicted (stress tests: "p95 at the sale peak is 3.2 s")."""

    model_config = ConfigDict(frozen=True)

    servers: int  # concurrency slots per instance
    service_time_s: float  # mean time one slot spends on one unit of work
    prompt_cache: float = 1.0  # capacity multiplier applied on top of the queue


class Capacity(BaseModel):
    """What one instance of an offering does for a workload, already at the workload's SLO."""

    model_config = ConfigDict(frozen=True)

    offering: str  # PlanOffering.id
    per_instance: float  # unit/s (service, stream) or work-unit/h (batch); > 0
    zones: tuple[str, ...]  # zones this workload may use on this offering (placement applied)
    spot_zones: tuple[str, ...] = ()  # zones where spot is eligible (policy + interruption limit)
    basis: str = ""  # how per_instance was derived, for explanations
    queue: QueueModel | None = None  # set when per_instance comes from the M/M/c model


class Ineligible(BaseModel):
    model_config = ConfigDict(frozen=True)

    offering: str
    reason: str  # "p95 of an idle instance is 95 ms > 80 ms", "needs 40 GiB GPU memory, has 24"


class SpotPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool = True
    max_share: float | None = None  # spot capacity <= max_share * demand (per month, block)
    per_pool: float | None = (
        None  # spot capacity in one pool (offering x zone) <= per_pool * demand
    )
    max_interruption: float | None = None  # percent; pools whose bucket exceeds it are ineligible


class LatencySLO(BaseModel):
    model_config = ConfigDict(frozen=True)

    percentile: float  # 0.95 for p95
    target_s: float


class BatchSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    work_unit: str  # "gpu_hour" | "vcpu_hour" | a declared unit-hour
    deadline_hours: float | None = None  # work must fit in this many hours of the month
    interruptible: bool = True
    checkpoint_overhead: float = 0.0  # spot hours deliver (1 - overhead) of their work


class Workload(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: WorkloadKind
    unit: str  # count unit of demand: "prediction", "token", "event", "gpu_hour"
    parent: str | None = None  # set for a traffic-mix share (``chat.small`` of ``chat``)
    team: str | None = None
    capacities: tuple[Capacity, ...]
    ineligible: tuple[Ineligible, ...] = ()
    headroom: float = 0.0  # capacity >= demand * (1 + headroom)
    burst: float = 1.0  # stream: demand is already the burst rate (burst x average events)
    max_utilization: float | None = None  # capacity >= demand / max_utilization
    redundancy: int = 0  # N+k: capacity minus its k largest instances still carries demand
    survive_zones: int = 0  # any k zones lost (and all spot lost): demand still carried
    survive_regions: int = 0
    min_replicas: int = 0  # instances in every block
    min_replicas_per_zone: int = 0
    regions: tuple[str, ...] = ()  # allowed regions (already applied to ``capacities``)
    spot: SpotPolicy = SpotPolicy()
    latency: LatencySLO | None = None
    availability: float | None = None  # e.g. 0.999
    batch: BatchSpec | None = None
    cliff_month: int | None = None  # first month today's fleet no longer carries demand
    cliff_reason: str = ""

    @property
    def required_factor(self) -> float:
        """Capacity needed per unit of demand under normal operation."""
        f = 1.0 + self.headroom
        if self.max_utilization:
            f = max(f, 1.0 / self.max_utilization)
        return f


class DemandBlock(BaseModel):
    """A group of hours of one month that look alike for every workload.

    ``level[w]`` is the **maximum** demand of workload ``w`` over the block's hours (never
    the mean). ``billed_hours`` = calendar hours x the month's hour weight; the blocks'
    ``billed_hours`` sum to ``Plan.hours_per_month``."""

    model_config = ConfigDict(frozen=True)

    index: int
    hours: int
    billed_hours: float
    level: dict[str, float]
    label: str = ""  # "weekday peak", "night", "event: annual sale"
    event: str | None = None


class MonthDemand(BaseModel):
    index: int
    month: str  # "2027-11"
    hours: int  # calendar hours (672..744)
    hour_weight: float  # billed hours per calendar hour = hours_per_month / hours
    hourly: dict[str, list[float]] = Field(default_factory=dict)  # exact demand, unit/s
    block_of_hour: list[int] = Field(default_factory=list)  # calendar hour -> block index
    blocks: list[DemandBlock] = Field(default_factory=list)
    work: dict[str, float] = Field(default_factory=dict)  # batch workload -> work units due
    # Calendar hours under each set of events ("annual sale", "sale + launch"); every one of
    # them sits in a block whose ``event`` is that name, and no other hour does.
    event_hours: dict[str, list[int]] = Field(default_factory=dict)
    overhead: float = 0.0  # capacity-hours added by grouping / exact capacity-hours


class ExistingReservation(BaseModel):
    """A reservation already owned. Month indices are relative to the plan start: it covers
    months ``start <= m < end`` (``start`` may be negative, ``end`` beyond the horizon); a
    reservation that expires during a month does not cover that month."""

    model_config = ConfigDict(frozen=True)

    offering: str  # PlanOffering.id
    zone: str | None  # None = regional (usable in any zone of the offering's region)
    count: int
    start: int
    end: int
    hourly: Decimal = Decimal(0)  # still billed per instance-hour while active
    label: str = ""
    span: Span | None = None


class ReservedOption(BaseModel):
    model_config = ConfigDict(frozen=True)

    term_months: int
    payment: Payment
    offering_class: Literal["standard", "convertible"] = "standard"


class CommitmentPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    options: tuple[ReservedOption, ...] = ()  # allowed purchases; empty = no new reservations
    max_hourly: Decimal | None = None  # cap on reserved $/h (effective) committed at any time
    lead_time_months: int = 0  # no new reservation may start before this month index
    # How a term that runs past the horizon is priced: "amortize" counts the months inside
    # the horizon (upfront spread evenly over the term); "full" counts the whole term.
    beyond_horizon: Literal["amortize", "full"] = "amortize"


class Budget(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # "budget" or "budget.<team>"
    workloads: tuple[str, ...] = ()  # empty = the whole plan
    monthly: Decimal | None = None
    total: Decimal | None = None
    hard: bool = True
    penalty: Decimal = Decimal(1)  # soft: objective adds penalty x overrun
    alert: float | None = None  # fraction of the cap that triggers an alert (0.9)


class Quota(BaseModel):
    """At most this many running instances / vCPUs / GPUs at any time (all workloads)."""

    model_config = ConfigDict(frozen=True)

    name: str
    offerings: tuple[str, ...]  # PlanOffering ids it covers
    region: str | None = None
    max_instances: int | None = None
    max_vcpu: int | None = None
    max_gpu: int | None = None


class CompressionReport(BaseModel):
    blocks_per_month: list[int] = Field(default_factory=list)
    overhead_max: float = 0.0
    overhead_mean: float = 0.0


class Plan(BaseModel):
    name: str
    scenario: str | None = None  # None = the base plan
    scenarios: tuple[str, ...] = ()  # every scenario the file declares
    plan_for: str | None = None  # the scenario the team commits to ("moderate")
    start: str  # "2027-01"
    horizon: int
    months: list[str]
    currency: str = "USD"
    hours_per_month: Decimal = Decimal(730)
    offerings: list[PlanOffering]
    workloads: list[Workload]
    fleet: list[ExistingReservation] = Field(default_factory=list)
    commitments: CommitmentPolicy = CommitmentPolicy()
    budgets: list[Budget] = Field(default_factory=list)
    quotas: list[Quota] = Field(default_factory=list)
    demand: list[MonthDemand]
    compression: CompressionReport = CompressionReport()
    sources: list[SourceStamp] = Field(default_factory=list)
    settings: dict[str, Setting] = Field(default_factory=dict)
    source_path: str | None = None
    warnings: list[Diagnostic] = Field(default_factory=list)  # lints found while building

    # Rebuilds the plan for another scenario from the same source (set by the builder).
    _variant: Any = PrivateAttr(default=None)

    # ------------------------------------------------------------------ look-ups

    def offering(self, offering_id: str) -> PlanOffering:
        for o in self.offerings:
            if o.id == offering_id:
                return o
        raise KeyError(offering_id)

    def workload(self, name: str) -> Workload:
        for w in self.workloads:
            if w.name == name:
                return w
        raise KeyError(name)

    def setting(self, path: str) -> Setting | None:
        return self.settings.get(path)

    def variant(self, scenario: str | None) -> Plan:
        """The plan under another scenario (``None`` = base)."""
        if scenario == self.scenario:
            return self
        if self._variant is None:
            raise LookupError("this plan was not built from a source; scenarios unavailable")
        result: Plan = self._variant(scenario)
        return result
