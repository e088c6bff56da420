"""The ``azure`` pricing source: the Azure Retail Prices API (no key needed).

Online: ``GET https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview``
with ``$filter=serviceName eq 'Virtual Machines' and armRegionName eq '<region>'`` per
region, following ``NextPageLink`` to the end, through the disk cache. Offline:
``file = "page.json"``: one API response page, or a JSON list of pages.

The API has prices, not hardware: vCPU, memory and GPUs of each size come from the bundled
snapshot (sizes it does not know are left out, with a warning). Zones: the regions' three
availability zones where the bundled snapshot knows the region, else none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
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
from capdsl.pricing.naming import azure_arch, azure_family
from capdsl.pricing.sourcekit import facts_by_type, option_path, table, zones_by_region
from capdsl_azure.retail import RetailPrices, read_items, reservation_options

ProgressFn = Callable[[str, float | None], None]

API = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
MAX_PAGES = 5000


def build_offerings(prices: RetailPrices, origin: str) -> tuple[list[Offering], list[str]]:
    facts = facts_by_type("azure")
    zones_known = zones_by_region("azure")
    out: list[Offering] = []
    unknown: list[str] = []
    no_od: list[str] = []
    for (size, region), p in sorted(prices.sizes.items()):
        if p.on_demand is None or p.on_demand <= 0:
            no_od.append(f"{size}@{region}")
            continue
        fact = facts.get(size)
        if fact is None:
            unknown.append(size)
            continue
        zones = zones_known.get(region, ())
        notes = [f"vCPU/memory/GPU of {size} from the bundled snapshot (the API has prices only)"]
        if zones:
            notes.append(
                "zones assumed from the bundled snapshot (the API has none); spot repeated per zone"
            )
        reserved: list[ReservedPrice] = []
        for months, total in sorted(p.reserved.items()):
            reserved += reservation_options(
                total, months, f"Azure reservation {months // 12}y total {total} ({origin})"
            )
        out.append(
            Offering(
                provider="azure",
                region=region,
                instance_type=size,
                zones=zones,
                vcpu=fact.vcpu,
                memory_gib=fact.memory_gib,
                arch=fact.arch or azure_arch(size),
                gpu_model=fact.gpu_model,
                gpu_count=fact.gpu_count,
                gpu_memory_gib=fact.gpu_memory_gib,
                family=azure_family(size),
                currency=p.currency,
                on_demand_hourly=p.on_demand,
                spot_hourly=dict.fromkeys(zones or (region,), p.spot) if p.spot is not None else {},
                reserved=tuple(reserved),
                source="azure",
                as_of=p.effective,
                notes=tuple(notes),
            )
        )
    warnings = []
    if unknown:
        warnings.append(
            f"{len(set(unknown))} VM sizes are not in the bundled snapshot, so their vCPU/memory are "
            f"unknown; left out (e.g. {sorted(set(unknown))[0]})"
        )
    if no_od:
        warnings.append(
            f"{len(no_od)} sizes have no Linux on-demand price in the data; left out (e.g. {no_od[0]})"
        )
    return out, warnings


class AzureSource:
    """Azure VM prices from the Retail Prices API: on-demand, spot, 1y/3y reservations."""

    name = "azure"
    description = (
        "Azure Retail Prices API (Linux on-demand, spot, 1y/3y reservations); online or file"
    )
    providers: tuple[str, ...] = ("azure",)

    def __init__(
        self, *, http: HttpClient | None = None, cache: PriceCache | None = None, url: str = API
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
        if query.provider not in (None, "azure"):
            raise PricingError(
                f"source `azure` serves provider `azure`, not `{query.provider}`", code="E0503"
            )
        path = option_path(query)
        if path is not None:
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise PricingError(f"{path}: cannot read JSON ({exc})", code="E0502") from exc
            pages = doc if isinstance(doc, list) else [doc]
            if not all(isinstance(p, dict) and "Items" in p for p in pages):
                raise PricingError(
                    f"{path}: not an Azure Retail Prices API response (no `Items`)", code="E0502"
                )
            prices = read_items(i for p in pages for i in p["Items"])
            found, notes = build_offerings(prices, path.name)
            dates = [o.as_of for o in found if o.as_of]
            stamp = SourceStamp(
                source=self.name,
                provider="azure",
                as_of=max(dates) if dates else dt.date.fromtimestamp(path.stat().st_mtime),
                origin=str(path),
                detail="Azure Retail Prices API page(s)",
            )
            return table(found, query, [stamp], notes)
        if not query.regions:
            raise PricingError(
                'source `azure` needs `regions` online (e.g. regions = ["eastus"]), or `file`, or use `bundled`',
                code="E0503",
            )
        offerings: list[Offering] = []
        warnings: list[str] = []
        stamps: list[SourceStamp] = []
        refresh = refresh or str(query.options.get("refresh", "")).lower() in ("1", "true", "yes")
        for region in query.regions:
            loaded = self.cache.load(
                f"items:{self.url}:{region}",
                partial(self._download, region, progress),
                refresh=refresh,
                what=f"Azure VM prices for {region}",
            )
            warnings += loaded.warnings
            items = json.loads(loaded.payload)["Items"]
            more, w = build_offerings(read_items(items), f"Retail Prices API {region}")
            offerings += more
            warnings += w
            stamps.append(
                SourceStamp(
                    source=self.name,
                    provider="azure",
                    as_of=loaded.fetched_at.date(),
                    origin=f"{self.url} ({region})",
                    detail=f"api-version {API_VERSION}, {len(items)} items",
                    fetched_at=loaded.fetched_at,
                )
            )
        return table(offerings, query, stamps, warnings)

    def _download(self, region: str, progress: ProgressFn | None) -> bytes:
        """Every item for one region, following NextPageLink."""
        items: list[dict[str, Any]] = []
        url: str | None = self.url
        params: dict[str, str] | None = {
            "api-version": API_VERSION,
            "$filter": f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}'",
        }
        pages = 0
        while url:
            page = self.http.get_json(
                url,
                params=params,
                progress=progress,
                what=f"Azure prices {region} page {pages + 1}",
            )
            if not isinstance(page, dict) or "Items" not in page:
                raise PricingError(
                    f"Azure prices {region}: unexpected response (no `Items`)", code="E0501"
                )
            items += page["Items"]
            pages += 1
            if progress is not None:
                progress(f"Azure prices {region}: {len(items)} items", None)
            url = page.get("NextPageLink") or None
            params = None  # NextPageLink carries the query
            if pages >= MAX_PAGES:
                raise PricingError(
                    f"Azure prices {region}: more than {MAX_PAGES} pages; giving up", code="E0501"
                )
        # keep only what read_items uses: the cache stays small
        keep = [
            "armSkuName",
            "armRegionName",
            "type",
            "skuName",
            "meterName",
            "productName",
            "serviceName",
            "unitOfMeasure",
            "retailPrice",
            "currencyCode",
            "reservationTerm",
            "effectiveStartDate",
            "isPrimaryMeterRegion",
        ]
        slim = [{k: i[k] for k in keep if k in i} for i in items]
        return json.dumps({"Items": slim}, separators=(",", ":")).encode("utf-8")
