"""The ``gcp`` pricing source: Compute Engine prices from the Cloud Billing Catalog API.

Online: ``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus`` with an
API key (option ``api_key`` or ``$CAPDSL_GCP_API_KEY`` / ``$GOOGLE_API_KEY``), every page
(``nextPageToken``), through the disk cache. Offline: ``file = "skus.json"``: one
``skus.list`` response, or a JSON list of them.

Machine shapes (vCPU, memory, GPUs) come from the bundled snapshot's GCP machine types;
``shapes = "shapes.csv"`` adds others (CSV columns ``machine_type,vcpus,memory_gib`` and
optionally ``gpu_model,gpu_count,gpu_memory_gib``). Shared-core e2 types are priced at their
fractional vCPU (e2-micro 0.25, e2-small 0.5, e2-medium 1); f1/g1 are not priced from SKUs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import (
    CatalogQuery,
    Offering,
    PriceTable,
    PricingError,
    ReservedPrice,
    SourceStamp,
)
from capdsl.pricing.http import HttpClient
from capdsl.pricing.naming import gcp_family
from capdsl.pricing.sourcekit import (
    clean_decimal,
    facts_by_type,
    option_path,
    table,
    zones_by_region,
)
from capdsl_gcp.skus import Rate, parse_skus

ProgressFn = Callable[[str, float | None], None]

SKUS_URL = "https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus"
SHARED_CORE = {"e2-micro": Decimal("0.25"), "e2-small": Decimal("0.5"), "e2-medium": Decimal(1)}
NOT_FROM_SKUS = ("f1-", "g1-")
HOURS = 730


@dataclass(frozen=True)
class Shape:
    machine_type: str
    vcpu: int
    memory_gib: float
    gpu_model: str | None = None
    gpu_count: float = 0
    gpu_memory_gib: float = 0
    zones: dict[str, tuple[str, ...]] | None = None  # region -> zones (bundled)

    @property
    def series(self) -> str:
        return self.machine_type.split("-", 1)[0]

    def gpu_keys(self) -> list[str]:
        if not self.gpu_model:
            return []
        model = self.gpu_model
        keys = []
        if self.machine_type.startswith("a3-megagpu"):
            keys.append(f"{model}-mega")
        if self.gpu_memory_gib and model == "a100" and self.gpu_memory_gib >= 80:
            keys.append(f"{model}-80")
        keys.append(model)
        return keys


def bundled_shapes() -> dict[str, Shape]:
    from capdsl.pricing.bundled import load_offerings

    zones: dict[str, dict[str, tuple[str, ...]]] = {}
    for o in load_offerings("gcp"):
        zones.setdefault(o.instance_type, {})[o.region] = o.zones
    return {
        t: Shape(t, o.vcpu, o.memory_gib, o.gpu_model, o.gpu_count, o.gpu_memory_gib, zones.get(t))
        for t, o in facts_by_type("gcp").items()
    }


def read_shapes(path: Path) -> dict[str, Shape]:
    out = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                t = row["machine_type"].strip()
                out[t] = Shape(
                    t,
                    int(row["vcpus"]),
                    float(row["memory_gib"]),
                    (row.get("gpu_model") or "").strip().lower() or None,
                    float(row.get("gpu_count") or 0),
                    float(row.get("gpu_memory_gib") or 0),
                )
    except (OSError, KeyError, ValueError) as exc:
        raise PricingError(
            f"{path}: not a shapes CSV (machine_type,vcpus,memory_gib,...): {exc}", code="E0502"
        ) from exc
    return out


def price_machines(
    rates: Iterable[Rate], shapes: dict[str, Shape], regions: tuple[str, ...] = ()
) -> tuple[list[Offering], list[str]]:
    """Combine per-resource rates into machine-type offerings (see module docstring)."""
    table_: dict[tuple[str, str, str, str], Rate] = {}
    for r in rates:
        if regions and r.region not in regions:
            continue
        table_.setdefault((r.kind, r.resource, r.series, r.region), r)
    all_regions = sorted({k[3] for k in table_})
    known_zones = zones_by_region("gcp")
    offerings: list[Offering] = []
    warnings: list[str] = []
    missing_zones: set[str] = set()
    for region in all_regions:
        for shape in sorted(shapes.values(), key=lambda s: s.machine_type):
            if shape.machine_type.startswith(NOT_FROM_SKUS) or shape.machine_type.endswith("-tpu"):
                continue

            def price(
                kind: str, shape: Shape = shape, region: str = region
            ) -> tuple[Decimal, list[Rate]] | None:
                core = table_.get((kind, "core", shape.series, region))
                ram = table_.get((kind, "ram", shape.series, region))
                if core is None or ram is None or core.currency != ram.currency:
                    return None
                vcpu = SHARED_CORE.get(shape.machine_type, Decimal(shape.vcpu))
                total = vcpu * core.price + Decimal(str(shape.memory_gib)) * ram.price
                used = [core, ram]
                if shape.gpu_count:
                    gpu = next(
                        (
                            table_[k]
                            for k in ((kind, "gpu", g, region) for g in shape.gpu_keys())
                            if k in table_
                        ),
                        None,
                    )
                    if gpu is None or gpu.currency != core.currency:
                        return None
                    total += Decimal(str(shape.gpu_count)) * gpu.price
                    used.append(gpu)
                return clean_decimal(total.quantize(Decimal("0.000001"))), used

            od = price("on_demand")
            if od is None:
                continue
            zones = (shape.zones or {}).get(region) or known_zones.get(region, ())
            if not zones:
                missing_zones.add(region)
            notes = ["zones from the bundled snapshot (SKUs have none)"] if zones else []
            spot = price("spot")
            reserved = []
            for months, kind in ((12, "commit_1y"), (36, "commit_3y")):
                commit = price(kind)
                if commit is not None and commit[0] < od[0]:
                    reserved.append(
                        ReservedPrice(
                            term_months=months,
                            payment="no_upfront",
                            hourly=commit[0],
                            basis="gcp resource-based committed use: "
                            + " + ".join(r.sku for r in commit[1]),
                        )
                    )
            effective = max((r.effective for r in od[1] if r.effective), default=None)
            offerings.append(
                Offering(
                    provider="gcp",
                    region=region,
                    instance_type=shape.machine_type,
                    zones=zones,
                    vcpu=shape.vcpu,
                    memory_gib=shape.memory_gib,
                    arch="arm64" if shape.series in ("t2a", "c4a", "n4a") else "x86_64",
                    gpu_model=shape.gpu_model,
                    gpu_count=shape.gpu_count,
                    gpu_memory_gib=shape.gpu_memory_gib,
                    family=gcp_family(shape.machine_type),
                    currency=od[1][0].currency,
                    on_demand_hourly=od[0],
                    spot_hourly=dict.fromkeys(zones, spot[0]) if spot and zones else {},
                    reserved=tuple(reserved),
                    source="gcp",
                    as_of=effective,
                    notes=(
                        *notes,
                        "price = " + " + ".join(f"{r.description} ({r.sku})" for r in od[1]),
                    ),
                )
            )
    for region in sorted(missing_zones):
        warnings.append(f"zones of {region} are unknown: its offerings count as one zone")
    return offerings, warnings


class GcpSource:
    """GCP Compute Engine prices from Cloud Billing Catalog SKUs (core + RAM + GPU)."""

    name = "gcp"
    description = "GCP Cloud Billing Catalog SKUs (on-demand, spot, 1y/3y committed use); online (API key) or file"
    providers: tuple[str, ...] = ("gcp",)

    def __init__(
        self,
        *,
        http: HttpClient | None = None,
        cache: PriceCache | None = None,
        url: str = SKUS_URL,
    ):
        self._http = http
        self._cache = cache
        self.url = url

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            self._http = HttpClient()
        return self._http

    @property
    def cache(self) -> PriceCache:
        if self._cache is None:
            self._cache = PriceCache(self.name)
        return self._cache

    def fetch(
        self, query: CatalogQuery, *, refresh: bool = False, progress: ProgressFn | None = None
    ) -> PriceTable:
        if query.provider not in (None, "gcp"):
            raise PricingError(
                f"source `gcp` serves provider `gcp`, not `{query.provider}`", code="E0503"
            )
        shapes = bundled_shapes()
        if (p := option_path(query, "shapes")) is not None:
            shapes.update(read_shapes(p))
        path = option_path(query)
        warnings: list[str] = []
        if path is not None:
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise PricingError(f"{path}: cannot read JSON ({exc})", code="E0502") from exc
            pages = doc if isinstance(doc, list) else [doc]
            if not all(isinstance(p, dict) and "skus" in p for p in pages):
                raise PricingError(
                    f"{path}: not a Cloud Billing Catalog skus.list response (no `skus`)",
                    code="E0502",
                )
            rates, _ = parse_skus(pages)
            origin, fetched_at = str(path), None
        else:
            currency = str(query.options.get("currency") or "USD")
            loaded = self.cache.load(
                f"skus:{self.url}:{currency}",
                lambda: self._download(query, currency, progress),
                refresh=refresh
                or str(query.options.get("refresh", "")).lower() in ("1", "true", "yes"),
                what="GCP Compute Engine SKUs",
            )
            warnings += loaded.warnings
            rates = [Rate.from_row(r) for r in json.loads(loaded.payload)["rates"]]
            origin, fetched_at = self.url, loaded.fetched_at
        offerings, more = price_machines(rates, shapes, query.regions)
        warnings += more
        if not offerings:
            warnings.append(
                "no machine type could be priced from these SKUs (core and RAM SKUs of a known series needed)"
            )
        dates = [o.as_of for o in offerings if o.as_of]
        stamp = SourceStamp(
            source=self.name,
            provider="gcp",
            as_of=max(dates) if dates else (fetched_at.date() if fetched_at else dt.date.today()),
            origin=origin,
            detail="Cloud Billing Catalog services/6F81-5844-456A skus; machine price = vCPU x core + GiB x RAM + GPUs",
            fetched_at=fetched_at,
        )
        return table(offerings, query, [stamp], warnings)

    def _download(self, query: CatalogQuery, currency: str, progress: ProgressFn | None) -> bytes:
        key = (
            query.options.get("api_key")
            or os.environ.get("CAPDSL_GCP_API_KEY")
            or os.environ.get("GOOGLE_API_KEY")
        )
        if not key:
            raise PricingError(
                "source `gcp` needs a Cloud Billing API key online: set CAPDSL_GCP_API_KEY (or the "
                "catalog option `api_key`), or give `file` with a saved skus.list response, or use `bundled`",
                code="E0503",
            )
        pages: list[dict[str, Any]] = []
        token = ""
        while True:
            params = {"key": str(key), "pageSize": "5000", "currencyCode": currency}
            if token:
                params["pageToken"] = token
            page = self.http.get_json(
                self.url, params=params, progress=progress, what=f"GCP SKUs page {len(pages) + 1}"
            )
            pages.append(page)
            if progress is not None:
                progress(f"GCP SKUs: {sum(len(p.get('skus', [])) for p in pages)} read", None)
            token = page.get("nextPageToken") or ""
            if not token:
                break
            if len(pages) > 1000:
                raise PricingError(
                    "GCP SKUs: more than 1000 pages; giving up (a paging loop?)", code="E0501"
                )
        rates, _ = parse_skus(pages)
        return json.dumps({"rates": [r.to_row() for r in rates]}, separators=(",", ":")).encode(
            "utf-8"
        )
