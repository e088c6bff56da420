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
from fractions import Fraction
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
    warnings: list[str] = Field(default_factory=list)  # the author should act: stale cache, ...
    notes: list[str] = Field(default_factory=list)  # worth knowing, nothing to fix: derived rates


# A catalog resolver is how the model reaches pricing without importing plugins:
# ``resolve(source_name, query) -> PriceTable``; raises ``LookupError`` for an unknown source
# (message lists known sources) and ``PricingError`` for a source failure.
CatalogResolver = Callable[[str, CatalogQuery], PriceTable]


class PricingError(Exception):
    """A pricing source failed (network, parse, stale cache with no fallback).

    ``code`` says which kind of failure (``capdsl explain CODE``): ``E0500`` a source
    failed, ``E0501`` the price service could not be reached, ``E0502`` a price file cannot
    be used, ``E0503`` the source needs another setting, ``E0504`` a pricing plugin crashed,
    ``E0505`` offline and not cached. ``help`` is the fix, when one is known.
    """

    def __init__(self, message: str, *, code: str = "E0500", help: str | None = None):
        super().__init__(message)
        self.code = code
        self.help = help


def filter_offerings(offerings: Iterable[Offering], query: CatalogQuery) -> list[Offering]:
    return [o for o in offerings if query.matches(o)]


def families(offerings: Sequence[Offering]) -> list[str]:
    return sorted({o.family for o in offerings if o.family})


# --------------------------------------------------------------------------- plan overrides

Number = Decimal | Fraction | int | float | str


def _dec(value: Number, what: str) -> Decimal:
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, Fraction):
        out = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        out = Decimal(str(value))
    if not out.is_finite() or out < 0:
        raise ValueError(f"{what} must be a non-negative number, not {value}")
    return out


def _money(value: Decimal, currency: str, per_hour: bool = True) -> str:
    text = f"{value:.6f}".rstrip("0")
    text = text + "00" if text.endswith(".") else text
    if len(text.split(".")[1]) < 2:
        text += "0"
    unit = "/h" if per_hour else ""
    return f"${text}{unit}" if currency == "USD" else f"{text} {currency}{unit}"


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def apply_overrides(
    offering: Offering,
    *,
    discount: Number | None = None,
    on_demand: Number | None = None,
    spot: Number | None = None,
    reserved: Sequence[ReservedPrice] | None = None,
) -> tuple[Offering, list[str]]:
    """Apply a plan's price overrides to one offering: ``(new offering, notes)``.

    - ``on_demand`` / ``spot`` (per hour) and ``reserved`` options are **negotiated rates**:
      they replace the source's price (a reserved option replaces the one with the same
      term, payment and class, or is added). Negotiated rates are what you pay, so no
      discount applies to them. ``spot`` sets the price in every zone where spot is offered
      (in every zone when the source has no spot price).
    - ``discount`` (a fraction: ``0.12`` for 12%) lowers every price still coming from the
      source: on-demand, spot in every zone, reserved upfront and hourly parts. Calling this
      twice compounds (a catalog discount, then a family discount).

    The notes are for people ("enterprise discount 12% on every source price"); the plan
    shows them next to the offering. Raises ``ValueError`` for a negative price or a
    discount outside [0, 1).
    """
    notes: list[str] = []
    cur = offering.currency
    update: dict[str, object] = {}
    factor = Decimal(1)
    if discount is not None:
        d = _dec(discount, "discount")
        if d >= 1:
            raise ValueError(f"discount must be below 100%, not {_pct(d)}")
        factor = Decimal(1) - d
    od = offering.on_demand_hourly
    if on_demand is not None:
        new_od = _dec(on_demand, "on-demand rate")
        source = f" (source {_money(od, cur)})" if od is not None else ""
        notes.append(f"negotiated on-demand {_money(new_od, cur)}{source}")
        update["on_demand_hourly"] = new_od
    elif od is not None and factor != 1:
        update["on_demand_hourly"] = od * factor
    if spot is not None:
        new_spot = _dec(spot, "spot rate")
        zones = tuple(offering.spot_hourly) or offering.zone_list()
        update["spot_hourly"] = dict.fromkeys(zones, new_spot)
        notes.append(
            f"negotiated spot {_money(new_spot, cur)} in {len(zones)} zone{'s' * (len(zones) != 1)}"
        )
    elif offering.spot_hourly and factor != 1:
        update["spot_hourly"] = {z: p * factor for z, p in offering.spot_hourly.items()}
    options: dict[tuple[int, str, str], ReservedPrice] = {
        (r.term_months, r.payment, r.offering_class): (
            r.model_copy(update={"upfront": r.upfront * factor, "hourly": r.hourly * factor})
            if factor != 1
            else r
        )
        for r in offering.reserved
    }
    for r in reserved or ():
        _dec(r.upfront, "reserved upfront")
        _dec(r.hourly, "reserved hourly rate")
        key = (r.term_months, r.payment, r.offering_class)
        options[key] = r.model_copy(
            update={"derived": False, "basis": r.basis or "negotiated rate"}
        )
        parts = []
        if r.upfront:
            parts.append(f"{_money(r.upfront, cur, per_hour=False)} upfront")
        if r.hourly or not r.upfront:
            parts.append(_money(r.hourly, cur))
        notes.append(f"negotiated reserved {r.key}: {' + '.join(parts)}")
    if factor != 1 or reserved:
        update["reserved"] = tuple(
            sorted(options.values(), key=lambda r: (r.term_months, r.offering_class, r.payment))
        )
    if factor != 1:
        negotiated = [n for n, v in (("on-demand", on_demand), ("spot", spot)) if v is not None]
        if reserved:
            negotiated.append("the negotiated reserved options")
        but = f" (not to {', '.join(negotiated)})" if negotiated else ""
        notes.insert(0, f"discount {_pct(Decimal(1) - factor)} applied to every source price{but}")
    if not update:
        return offering, notes
    return offering.model_copy(update=update), notes
