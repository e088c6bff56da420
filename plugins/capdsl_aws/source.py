"""The ``aws`` pricing source: AWS Price List offer files, Spot Advisor, spot history.

Online (default): for each region of the query, ``region_index.json`` gives the current
regional EC2 offer file, which is downloaded (streamed to disk, it is large), parsed
incrementally and cached as offerings; Spot Advisor data adds spot estimates and
interruption buckets. Offline: ``file = "..."`` reads a bulk offer file, a GetProducts
response or a single Price List record; ``spot_advisor = "..."`` and ``spot_history =
"..."`` (a ``DescribeSpotPriceHistory`` JSON) add spot data from files.

Options (strings in the catalog block): ``file``, ``spot_advisor``, ``spot_history``,
``spot`` (``false`` to skip spot data online), ``base_url`` (a Price List mirror).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, PricingError, SourceStamp
from capdsl.pricing.http import HttpClient
from capdsl.pricing.naming import aws_family
from capdsl.pricing.sourcekit import facts_by_type, option_bool, option_path, table, zones_by_region
from capdsl_aws import offers

ProgressFn = Callable[[str, float | None], None]

PRICE_LIST = "https://pricing.us-east-1.amazonaws.com"
REGION_INDEX = "/offers/v1.0/aws/AmazonEC2/current/region_index.json"
SPOT_ADVISOR = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
LARGE_FILE = 64 * 1024 * 1024  # stream-parse files above this size


def _one_sku_per_type(
    prices: offers.OfferPrices, region_hint: str | None
) -> list[offers.SkuPrices]:
    """One SKU per (region, instance type): bare-metal types can appear both as shared and
    dedicated products; the shared one (and one with an hourly rate) wins."""
    best: dict[tuple[str, str], offers.SkuPrices] = {}

    def rank(s: offers.SkuPrices) -> tuple[bool, bool]:
        return (s.on_demand is not None, s.attributes.get("tenancy") == "Shared")

    for sku in prices.by_sku.values():
        key = (offers.region_of(sku.attributes, region_hint) or "", sku.attributes["instanceType"])
        if key not in best or rank(sku) > rank(best[key]):
            best[key] = sku
    return sorted(best.values(), key=lambda s: (s.attributes["instanceType"], s.sku))


def build_offerings(
    prices: offers.OfferPrices,
    *,
    region_hint: str | None = None,
    advisor: dict[str, dict[str, offers.AdvisorEntry]] | None = None,
    history: dict[str, dict[str, Decimal]] | None = None,
    as_of: dt.date | None = None,
) -> tuple[list[Offering], list[str]]:
    """Offerings from parsed Price List data plus optional spot data (per region)."""
    facts = facts_by_type("aws")
    known_zones = zones_by_region("aws")
    history = history or {}
    history_zones = sorted({az for by_az in history.values() for az in by_az})
    out: list[Offering] = []
    warnings: list[str] = []
    no_region: list[str] = []
    no_rate: list[str] = []
    no_zones: set[str] = set()
    for sku in _one_sku_per_type(prices, region_hint):
        a = sku.attributes
        itype = a["instanceType"]
        if sku.on_demand is None or sku.on_demand <= 0:
            no_rate.append(itype)
            continue
        region = offers.region_of(a, region_hint)
        if region is None:
            no_region.append(itype)
            continue
        notes: list[str] = []
        fact = facts.get(itype)
        vcpu = int(a["vcpu"]) if str(a.get("vcpu", "")).isdigit() else (fact.vcpu if fact else 0)
        memory = offers.memory_gib(a.get("memory")) or (fact.memory_gib if fact else 0.0)
        if not vcpu or not memory:
            warnings.append(f"{itype}: no vCPU/memory in the price data; left out")
            continue
        gpu_count = float(a["gpu"]) if str(a.get("gpu", "")).replace(".", "", 1).isdigit() else 0.0
        gpu_model = fact.gpu_model if fact else None
        gpu_mem = fact.gpu_memory_gib if fact else 0.0
        if gpu_count and not gpu_model:
            notes.append(
                "GPU model unknown (not in the Price List attributes nor the bundled facts)"
            )
        arch = fact.arch if fact else offers.arch_of(a)
        # zones and spot
        spot: dict[str, Decimal] = {}
        if itype in history:
            zones = tuple(sorted(history[itype]))
            spot = dict(history[itype])
        elif history_zones:
            zones = tuple(history_zones)
        else:
            zones = known_zones.get(region, ())
            if zones:
                notes.append("zones from the bundled snapshot (the Price List has none)")
            else:
                no_zones.add(region)
        adv = (advisor or {}).get(region, {}).get(itype)
        if adv is not None and not spot:
            price = (sku.on_demand * (100 - adv.savings_pct) / 100).quantize(Decimal("0.000001"))
            spot = dict.fromkeys(zones or (region,), price)
            notes.append(
                f"spot estimated: on-demand x (1 - {adv.savings_pct}% Spot Advisor savings)"
            )
        out.append(
            Offering(
                provider="aws",
                region=region,
                instance_type=itype,
                zones=zones,
                vcpu=vcpu,
                memory_gib=memory,
                arch=arch,
                gpu_model=gpu_model,
                gpu_count=gpu_count,
                gpu_memory_gib=gpu_mem,
                family=aws_family(itype),
                currency=sku.currency,
                on_demand_hourly=sku.on_demand,
                spot_hourly=spot,
                spot_interruption=adv.interruption if adv else None,
                reserved=tuple(
                    sorted(sku.reserved, key=lambda r: (r.term_months, r.offering_class, r.payment))
                ),
                source="aws",
                as_of=as_of,
                notes=tuple(notes),
            )
        )
    if no_rate:
        warnings.append(
            f"{len(no_rate)} instance products have no hourly on-demand rate (e.g. {no_rate[0]}); left out"
        )
    if no_region:
        warnings.append(
            f"{len(no_region)} products have no known region (e.g. {no_region[0]}); give `regions` with one region"
        )
    for region in sorted(no_zones):
        warnings.append(
            f"zones of {region} are unknown: its offerings count as one zone; "
            "give `spot_history` (DescribeSpotPriceHistory output) to know them"
        )
    return out, warnings


class AwsSource:
    """AWS EC2 prices from the Price List (on-demand + every Reserved term) and spot data."""

    name = "aws"
    description = "AWS Price List offer files (on-demand, reserved), Spot Advisor, spot history; online or file"
    providers: tuple[str, ...] = ("aws",)

    def __init__(
        self,
        *,
        http: HttpClient | None = None,
        cache: PriceCache | None = None,
        base_url: str = PRICE_LIST,
        advisor_url: str = SPOT_ADVISOR,
    ):
        self._http = http
        self._cache = cache
        self.base_url = base_url.rstrip("/")
        self.advisor_url = advisor_url

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            self._http = HttpClient(timeout=60.0)
        return self._http

    @property
    def cache(self) -> PriceCache:
        if self._cache is None:
            self._cache = PriceCache(self.name)
        return self._cache

    # ------------------------------------------------------------------ fetch

    def fetch(
        self,
        query: CatalogQuery,
        *,
        refresh: bool = False,
        progress: ProgressFn | None = None,
    ) -> PriceTable:
        if query.provider not in (None, "aws"):
            raise PricingError(
                f"source `aws` serves provider `aws`, not `{query.provider}`", code="E0503"
            )
        refresh = refresh or option_bool(query, "refresh")
        path = option_path(query)
        if path is not None:
            return self._from_file(path, query)
        return self._online(query, refresh=refresh, progress=progress)

    def _spot_files(
        self, query: CatalogQuery, regions: list[str]
    ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        advisor: dict[str, dict[str, offers.AdvisorEntry]] = {}
        history: dict[str, dict[str, Decimal]] = {}
        origins = []
        if (p := option_path(query, "spot_advisor")) is not None:
            doc = _read_json(p)
            for region in regions:
                advisor[region] = offers.spot_advisor(doc, region)
            origins.append(str(p))
        if (p := option_path(query, "spot_history")) is not None:
            history = offers.spot_history(_read_json(p))
            origins.append(str(p))
        return advisor, history, origins

    def _from_file(self, path: Path, query: CatalogQuery) -> PriceTable:
        try:
            if path.stat().st_size > LARGE_FILE:
                with path.open(encoding="utf-8") as fh:
                    prices = offers.read_offer_stream(offers.iter_offer_file(fh))
            else:
                prices = offers.read_document(_read_json(path))
        except (offers.OfferFormatError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PricingError(f"{path}: {exc}", code="E0502") from exc
        hint = query.regions[0] if len(query.regions) == 1 else None
        regions = sorted(
            {offers.region_of(s.attributes, hint) or "" for s in prices.by_sku.values()} - {""}
        )
        advisor, history, spot_origins = self._spot_files(query, regions)
        as_of = offers.publication_date(prices.publication)
        offerings, warnings = build_offerings(
            prices, region_hint=hint, advisor=advisor, history=history, as_of=as_of
        )
        stamps = [
            SourceStamp(
                source=self.name,
                provider="aws",
                as_of=as_of or dt.date.fromtimestamp(path.stat().st_mtime),
                origin=str(path),
                detail=f"Price List {prices.version or ''} publication {prices.publication or 'unknown'}".strip(),
            )
        ]
        stamps += [
            SourceStamp(
                source=self.name,
                provider="aws",
                as_of=dt.date.fromtimestamp(Path(o).stat().st_mtime),
                origin=o,
            )
            for o in spot_origins
        ]
        if not offerings:
            warnings.append(f"{path}: no Linux shared-tenancy instance prices found")
        return table(offerings, query, stamps, warnings)

    def _online(
        self, query: CatalogQuery, *, refresh: bool, progress: ProgressFn | None
    ) -> PriceTable:
        if not query.regions:
            raise PricingError(
                "source `aws` needs `regions` (each region's offer file is large); "
                'e.g. regions = ["us-east-1"], or use the offline `bundled` source',
                code="E0503",
            )
        base = str(query.options.get("base_url") or self.base_url).rstrip("/")
        index_loaded = self.cache.load(
            f"region_index:{base}",
            lambda: self.http.get(
                base + REGION_INDEX, progress=progress, what="AWS region_index.json"
            ),
            refresh=refresh,
            what="AWS region_index.json",
        )
        try:
            index = offers.region_index(json.loads(index_loaded.payload))
        except (ValueError, offers.OfferFormatError) as exc:
            raise PricingError(f"AWS region_index.json: {exc}", code="E0501") from exc
        warnings = list(index_loaded.warnings)
        advisor: dict[str, dict[str, offers.AdvisorEntry]] = {}
        if option_bool(query, "spot", True):
            adv_loaded = self.cache.load(
                f"spot_advisor:{self.advisor_url}",
                lambda: self.http.get(
                    self.advisor_url, progress=progress, what="AWS Spot Advisor data"
                ),
                refresh=refresh,
                what="AWS Spot Advisor data",
            )
            warnings += adv_loaded.warnings
            adv_doc = json.loads(adv_loaded.payload)
            advisor = {r: offers.spot_advisor(adv_doc, r) for r in query.regions}
        offerings: list[Offering] = []
        stamps: list[SourceStamp] = []
        for region in query.regions:
            if region not in index:
                raise PricingError(
                    f"AWS has no EC2 offer file for region `{region}` (see region_index.json)",
                    code="E0503",
                )
            url = base + index[region]
            loaded = self.cache.load(
                f"offerings:{region}:{url}",
                partial(self._download_offerings, url, region, progress),
                refresh=refresh,
                what=f"AWS EC2 prices for {region}",
            )
            warnings += loaded.warnings
            doc = json.loads(loaded.payload)
            for row in doc["offerings"]:
                o = Offering.model_validate(row)
                adv = advisor.get(region, {}).get(o.instance_type)
                if adv is not None and o.on_demand_hourly:
                    price = (o.on_demand_hourly * (100 - adv.savings_pct) / 100).quantize(
                        Decimal("0.000001")
                    )
                    o = o.model_copy(
                        update={
                            "spot_hourly": dict.fromkeys(o.zone_list(), price),
                            "spot_interruption": adv.interruption,
                            "notes": (
                                *o.notes,
                                f"spot estimated: on-demand x (1 - {adv.savings_pct}% Spot Advisor savings)",
                            ),
                        }
                    )
                offerings.append(o)
            warnings += doc.get("warnings", [])
            stamps.append(
                SourceStamp(
                    source=self.name,
                    provider="aws",
                    as_of=dt.date.fromisoformat(doc["as_of"])
                    if doc.get("as_of")
                    else loaded.fetched_at.date(),
                    origin=url,
                    detail=f"EC2 offer file version {doc.get('version') or '?'}",
                    fetched_at=loaded.fetched_at,
                )
            )
        if advisor:
            stamps.append(
                SourceStamp(
                    source=self.name,
                    provider="aws",
                    as_of=dt.date.today(),
                    origin=self.advisor_url,
                    detail="Spot Advisor: savings % and interruption buckets",
                )
            )
        return table(offerings, query, stamps, warnings)

    def _download_offerings(self, url: str, region: str, progress: ProgressFn | None) -> bytes:
        """Download one regional offer file, parse it as a stream, return offerings JSON."""
        with tempfile.TemporaryDirectory(prefix="capdsl-aws-") as tmp:
            path = self.http.download(
                url, Path(tmp) / "index.json", progress=progress, what=f"AWS offer file {region}"
            )
            if progress is not None:
                progress(f"parsing AWS offer file {region}", None)
            try:
                with path.open(encoding="utf-8") as fh:
                    prices = offers.read_offer_stream(offers.iter_offer_file(fh))
            except (offers.OfferFormatError, ValueError) as exc:
                raise PricingError(f"AWS offer file {region}: {exc}", code="E0501") from exc
        as_of = offers.publication_date(prices.publication)
        offerings, warnings = build_offerings(prices, region_hint=region, as_of=as_of)
        doc = {
            "as_of": as_of.isoformat() if as_of else None,
            "version": prices.version,
            "warnings": warnings,
            "offerings": [json.loads(o.model_dump_json(exclude_defaults=True)) for o in offerings],
        }
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PricingError(f"{path}: cannot read JSON ({exc})", code="E0502") from exc
