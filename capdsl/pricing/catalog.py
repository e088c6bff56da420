"""The one price-table shape every pricing source yields.

A pricing source (a plugin) turns a provider's own format into ``Offering`` rows: one
instance type in one region, with its zones, hardware facts and every price we know:
on-demand per hour, spot per hour per zone, reserved / committed-use options as
``upfront + hourly`` per term and payment option. Money is ``Decimal`` (exact), in
``currency`` per instance. Each offering carries where and when its prices came from.

The model imports this module (it is the table shape); it never imports a source.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Payment = Literal["no_upfront", "partial_upfront", "all_upfront"]
PAYMENTS: tuple[Payment, ...] = ("no_upfront", "partial_upfront", "all_upfront")
OfferingClass = Literal["standard", "convertible"]


class ReservedPrice(BaseModel):
    """One reserved / committed-use option for one instance.

    Total cost of one instance over the term = ``upfront + hourly * hours_per_month * term_months``.
    ``derived`` is True when this rate was not published for this type but computed from a
    documented ratio of real published rates (``basis`` says which).
    """

    model_config = ConfigDict(frozen=True)

    term_months: int  # 12 or 36
    payment: Payment
    upfront: Decimal = Decimal(0)
    hourly: Decimal = Decimal(0)
    offering_class: OfferingClass = "standard"
    derived: bool = False
    basis: str = ""  # e.g. "aws m5.large 1yr standard no-upfront ratio 0.625"

    def effective_hourly(self, hours_per_month: Decimal | int = 730) -> Decimal:
        """Upfront amortised over the term plus the hourly part."""
        hours = Decimal(hours_per_month) * self.term_months
        return self.hourly + self.upfront / hours

    @property
    def key(self) -> str:
        """``1y-no_upfront`` style key (``-convertible`` appended for convertible)."""
        years = self.term_months // 12
        suffix = "-convertible" if self.offering_class == "convertible" else ""
        return f"{years}y-{self.payment}{suffix}"


class SourceStamp(BaseModel):
    """Where and when a set of prices came from."""

    model_config = ConfigDict(frozen=True)

    source: str  # plugin source name, e.g. "bundled", "aws", "azure", "gcp", "pricebook"
    provider: str  # "aws", "azure", "gcp", or a private-cloud name
    as_of: dt.date
    origin: str  # URL, file path, or "bundled snapshot <name>"
    detail: str = ""  # free text: versions, commits, derived-rate notes
    fetched_at: dt.datetime | None = None


class Offering(BaseModel):
    """One instance type in one region, with prices.

    ``spot_hourly`` maps zone -> $/h (zones where spot is offered); when a source only
    knows a regional spot price it repeats it for each zone. ``spot_interruption`` is the
    upper bound of the interruption-frequency bucket in percent (AWS Spot Advisor ranges:
    5, 10, 15, 20, 100) or None when unknown.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    region: str
    instance_type: str
    zones: tuple[str, ...] = ()  # empty = the source knows no zones (treated as one zone = region)
    vcpu: int
    memory_gib: float
    arch: str = "x86_64"  # x86_64 | arm64
    gpu_model: str | None = None  # lower-case, e.g. "h100", "a10g", "l4"
    gpu_count: float = 0
    gpu_memory_gib: float = 0  # per GPU
    family: str = ""  # e.g. "c7g", "n2-standard", "Dsv5"
    currency: str = "USD"
    on_demand_hourly: Decimal | None = None
    spot_hourly: dict[str, Decimal] = Field(default_factory=dict)
    spot_interruption: float | None = None
    reserved: tuple[ReservedPrice, ...] = ()
    source: str = "bundled"
    as_of: dt.date | None = None
    notes: tuple[str, ...] = ()  # e.g. "zones assumed from region", "spot from advisor savings"

    @property
    def key(self) -> str:
        """``instance_type@region``: unique within one source."""
        return f"{self.instance_type}@{self.region}"

    def zone_list(self) -> tuple[str, ...]:
        return self.zones or (self.region,)


class CatalogQuery(BaseModel):
    """What a plan's ``catalog`` block asks a source for. Empty lists mean 'any'."""

    model_config = ConfigDict(frozen=True)

    provider: str | None = None
    regions: tuple[str, ...] = ()
    families: tuple[str, ...] = ()  # glob patterns on family or instance type
    types: tuple[str, ...] = ()  # glob patterns on instance type
    arch: tuple[str, ...] = ()
    gpu_models: tuple[str, ...] = ()
    min_vcpu: int | None = None
    min_memory_gib: float | None = None
    options: dict[str, str] = Field(default_factory=dict)  # source-specific (file=..., refresh=...)

    def matches(self, o: Offering) -> bool:
        if self.provider and o.provider != self.provider:
            return False
        if self.regions and o.region not in self.regions:
            return False
        if self.families and not any(
            fnmatch.fnmatchcase(o.family, p) or fnmatch.fnmatchcase(o.instance_type, p)
            for p in self.families
        ):
            return False
        if self.types and not any(fnmatch.fnmatchcase(o.instance_type, p) for p in self.types):
            return False
        if self.arch and o.arch not in self.arch:
            return False
        if self.gpu_models and (o.gpu_model or "") not in self.gpu_models:
            return False
        if self.min_vcpu is not None and o.vcpu < self.min_vcpu:
            return False
        return not (self.min_memory_gib is not None and o.memory_gib < self.min_memory_gib)


class PriceTable(BaseModel):
    """What a source returns for a query: offerings plus provenance."""

    offerings: list[Offering]
    stamps: list[SourceStamp]
    warnings: list[str] = Field(default_factory=list)  # e.g. stale cache, derived rates


# A catalog resolver is how the model reaches pricing without importing plugins:
# ``resolve(source_name, query) -> PriceTable``; raises ``LookupError`` for an unknown source
# (message lists known sources) and ``PricingError`` for a source failure.
CatalogResolver = Callable[[str, CatalogQuery], PriceTable]


class PricingError(Exception):
    """A pricing source failed (network, parse, stale cache with no fallback)."""


def filter_offerings(offerings: Iterable[Offering], query: CatalogQuery) -> list[Offering]:
    return [o for o in offerings if query.matches(o)]


def families(offerings: Sequence[Offering]) -> list[str]:
    return sorted({o.family for o in offerings if o.family})
