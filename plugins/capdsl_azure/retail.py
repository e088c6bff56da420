"""Azure Retail Prices API items -> per-size prices (no network).

Item kinds (all visible in real pages):

- ``type: "Consumption"`` with a plain ``skuName``: the Linux on-demand price, unless
  ``productName`` ends with `` Windows`` (Windows licence included: ignored);
- ``skuName`` / ``meterName`` ending with `` Spot``: the spot price (Linux only);
- `` Low Priority``: the retired Batch/VMSS low-priority price: ignored (not spot);
- ``type: "DevTestConsumption"``: Dev/Test subscription prices: ignored;
- ``type: "Reservation"`` with ``reservationTerm`` ``1 Year`` / ``3 Years``: ``retailPrice``
  is the **total for the whole term** (although ``unitOfMeasure`` says "1 Hour"). Azure bills
  a reservation upfront or monthly at the same total, so it becomes two options:
  ``all_upfront`` (upfront = total) and ``no_upfront`` (hourly = total / (730 x months)).

Only ``serviceName == "Virtual Machines"`` items with a ``Standard_`` ``armSkuName`` count;
``unitOfMeasure`` must be ``1 Hour``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from capdsl.pricing.catalog import ReservedPrice
from capdsl.pricing.sourcekit import clean_decimal

HOURS_PER_MONTH = 730
TERMS = {"1 Year": 12, "3 Years": 36, "5 Years": 60}


@dataclass
class SizePrices:
    size: str
    region: str
    currency: str = "USD"
    on_demand: Decimal | None = None
    on_demand_primary: bool = False
    spot: Decimal | None = None
    reserved: dict[int, Decimal] = field(default_factory=dict)  # term months -> total
    effective: dt.date | None = None


@dataclass
class RetailPrices:
    sizes: dict[tuple[str, str], SizePrices] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.ignored[why] = self.ignored.get(why, 0) + 1


def kind_of(item: dict[str, Any]) -> str:
    """``on_demand``, ``spot``, ``reservation`` or why the item is ignored."""
    if item.get("serviceName") != "Virtual Machines":
        return "not a virtual machine"
    if not str(item.get("armSkuName", "")).startswith("Standard_"):
        return "not a VM size"
    t = item.get("type")
    if t == "DevTestConsumption":
        return "dev/test price"
    name = f"{item.get('skuName', '')} {item.get('meterName', '')}"
    if t == "Reservation":
        return "reservation" if item.get("reservationTerm") in TERMS else "unknown reservation term"
    if t != "Consumption":
        return f"type {t}"
    if str(item.get("productName", "")).endswith(" Windows"):
        return "windows price"
    if item.get("unitOfMeasure") != "1 Hour":
        return "not hourly"
    if "Low Priority" in name:
        return "low priority price"
    if str(item.get("skuName", "")).endswith(" Spot") or str(item.get("meterName", "")).endswith(
        " Spot"
    ):
        return "spot"
    return "on_demand"


def read_items(items: Iterable[dict[str, Any]]) -> RetailPrices:
    out = RetailPrices()
    for item in items:
        kind = kind_of(item)
        if kind not in ("on_demand", "spot", "reservation"):
            out.skip(kind)
            continue
        size, region = item["armSkuName"], item["armRegionName"]
        entry = out.sizes.setdefault((size, region), SizePrices(size, region))
        price = clean_decimal(Decimal(str(item["retailPrice"])))
        entry.currency = item.get("currencyCode", entry.currency)
        if item.get("effectiveStartDate"):
            eff = dt.date.fromisoformat(str(item["effectiveStartDate"])[:10])
            entry.effective = max(entry.effective or eff, eff)
        primary = bool(item.get("isPrimaryMeterRegion", True))
        if kind == "on_demand":
            # several meters may carry one size; the primary meter region wins
            if entry.on_demand is None or (primary and not entry.on_demand_primary):
                entry.on_demand, entry.on_demand_primary = price, primary
        elif kind == "spot":
            entry.spot = price if entry.spot is None else min(entry.spot, price)
        else:
            entry.reserved[TERMS[item["reservationTerm"]]] = price
    return out


def reservation_options(
    total: Decimal, months: int, basis: str
) -> tuple[ReservedPrice, ReservedPrice]:
    hours = Decimal(HOURS_PER_MONTH * months)
    return (
        ReservedPrice(term_months=months, payment="all_upfront", upfront=total, basis=basis),
        ReservedPrice(
            term_months=months,
            payment="no_upfront",
            hourly=(total / hours).quantize(Decimal("0.000001")),
            basis=basis + "; monthly payment = total / term hours",
        ),
    )
