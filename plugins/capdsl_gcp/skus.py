"""Cloud Billing Catalog ``services.skus.list`` -> per-resource hourly rates (no network).

GCP prices machine types by resource, not by type: a machine's hourly price is

    vCPUs x (core SKU $/h) + memory GiB x (RAM SKU $/GiB-h) + GPUs x (GPU SKU $/h)

for the SKUs of its series (``A2 Instance Core``, ``A2 Instance Ram``, ``Nvidia Tesla A100
GPU``) in its region. ``usageType`` selects the price kind: ``OnDemand`` (on-demand),
``Preemptible`` (spot), ``Commit1Yr`` / ``Commit3Yr`` (resource-based committed use, paid
monthly: no upfront). A price is ``units + nanos / 1e9`` of the tier starting at 0, in
``usageUnit`` (``h`` for cores and GPUs, ``GiBy.h`` for RAM).

SKUs that are not plain machine resources are ignored: custom, sole-tenancy, extended
memory, premiums, licences, and "Reserved ..." zero-priced reservation SKUs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from capdsl.pricing.sourcekit import clean_decimal

KINDS = {
    "OnDemand": "on_demand",
    "Preemptible": "spot",
    "Commit1Yr": "commit_1y",
    "Commit3Yr": "commit_3y",
}
_EXCLUDE = re.compile(
    r"Custom|Sole Tenancy|Extended|Premium|Licen[cs]e|^Reserved |Upgrade|DWS|Calendar|Flex", re.I
)
_RESOURCE = re.compile(
    r"^(?:Spot Preemptible |Preemptible )?(?P<series>.+?) (?:Instance )?(?P<kind>Core|Ram) running in (?P<loc>.+)$"
)
_COMMIT = re.compile(
    r"^Commitment v\d+: (?P<series>.+?) (?P<kind>Cpu|Core|Ram) in (?P<loc>.+?) for \d+ Years?$",
    re.I,
)
_GPU = re.compile(
    r"^(?:Commitment v\d+: )?(?:Spot Preemptible |Preemptible )?Nvidia (?:Tesla )?(?P<model>[A-Za-z0-9]+)"
    r"(?: (?P<mem>\d+)GB)?(?P<mega> Mega)? GPU (?:running )?in (?P<loc>.+?)(?: for \d+ Years?)?$",
    re.I,
)
# description series -> machine series (first part of the machine type)
SERIES_ALIASES = {"memory-optimized": "m1", "compute": "c2", "compute optimized": "c2"}


@dataclass(frozen=True)
class Rate:
    """One SKU's rate for one resource in one region."""

    sku: str
    description: str
    kind: str  # on_demand | spot | commit_1y | commit_3y
    resource: str  # core | ram | gpu
    series: str  # machine series for core/ram ("a2", "n2d"); GPU key for gpu ("a100", "a100-80", "h100-mega")
    region: str
    price: Decimal
    currency: str
    effective: dt.date | None

    def to_row(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "description": self.description,
            "kind": self.kind,
            "resource": self.resource,
            "series": self.series,
            "region": self.region,
            "price": str(self.price),
            "currency": self.currency,
            "effective": self.effective.isoformat() if self.effective else None,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rate:
        eff = row.get("effective")
        return cls(
            row["sku"],
            row["description"],
            row["kind"],
            row["resource"],
            row["series"],
            row["region"],
            Decimal(row["price"]),
            row["currency"],
            dt.date.fromisoformat(eff) if eff else None,
        )


def money(unit_price: dict[str, Any]) -> tuple[Decimal, str]:
    """``{"units": "2", "nanos": 933908000, "currencyCode": "USD"}`` -> (2.933908, USD)."""
    units = Decimal(str(unit_price.get("units") or "0"))
    nanos = Decimal(int(unit_price.get("nanos") or 0)) / Decimal(10**9)
    return clean_decimal(units + nanos), str(unit_price.get("currencyCode") or "USD")


def series_key(text: str) -> str:
    low = text.strip().lower()
    if low in SERIES_ALIASES:
        return SERIES_ALIASES[low]
    if low.startswith("memory-optimized"):
        return "m1"
    if low.startswith("compute optimized"):
        return "c2"
    return low.split()[0]


def gpu_key(model: str, mem: str | None, mega: bool) -> str:
    key = model.lower()
    if mem and not (key == "h100" and mem == "80") and key != "h200":
        key += f"-{mem}"
    return key + ("-mega" if mega else "")


def classify(sku: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, resource, series) of a machine-resource SKU, None for anything else."""
    cat = sku.get("category") or {}
    if cat.get("resourceFamily") != "Compute":
        return None
    kind = KINDS.get(cat.get("usageType", ""))
    if kind is None:
        return None
    desc = str(sku.get("description", ""))
    group = cat.get("resourceGroup", "")
    if group == "GPU" or " GPU " in f" {desc} ":
        if m := _GPU.match(desc):
            return kind, "gpu", gpu_key(m["model"], m["mem"], bool(m["mega"]))
        return None
    if _EXCLUDE.search(desc.removeprefix("Commitment v1: ").removeprefix("Commitment v2: ")):
        return None
    m = _COMMIT.match(desc) if kind.startswith("commit") else _RESOURCE.match(desc)
    if not m:
        return None
    resource = "core" if m["kind"].lower() in ("core", "cpu") else "ram"
    return kind, resource, series_key(m["series"])


def parse_skus(pages: Iterable[dict[str, Any]]) -> tuple[list[Rate], int]:
    """Rates from ``skus.list`` pages; also the number of SKUs ignored."""
    rates: list[Rate] = []
    ignored = 0
    for page in pages:
        for sku in page.get("skus", []):
            what = classify(sku)
            infos = sku.get("pricingInfo") or []
            if what is None or not infos:
                ignored += 1
                continue
            info = infos[-1]  # the newest pricing info
            expr = info.get("pricingExpression") or {}
            unit = expr.get("usageUnit")
            if (what[1] == "ram" and unit != "GiBy.h") or (what[1] != "ram" and unit != "h"):
                ignored += 1
                continue
            tiers = sorted(
                expr.get("tieredRates") or [], key=lambda t: float(t.get("startUsageAmount") or 0)
            )
            if not tiers:
                ignored += 1
                continue
            price, currency = money(tiers[0].get("unitPrice") or {})
            effective = None
            if info.get("effectiveTime"):
                effective = dt.date.fromisoformat(str(info["effectiveTime"])[:10])
            for region in sku.get("serviceRegions") or []:
                rates.append(
                    Rate(
                        str(sku.get("skuId", "")),
                        str(sku.get("description", "")),
                        *what,
                        region,
                        price,
                        currency,
                        effective,
                    )
                )
    return rates, ignored
