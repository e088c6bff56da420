"""capdsl_azure against real Azure Retail Prices pages; paging and retries faked."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from capdsl_azure.retail import kind_of, read_items
from capdsl_azure.source import AzureSource

from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import CatalogQuery, PricingError
from capdsl.pricing.http import HttpClient

PAGE_1 = "az-retail-page-1_20220419151719.json"


def items(pricing: Path, name: str = PAGE_1) -> list[dict[str, object]]:
    return json.loads((pricing / "azure" / name).read_text())["Items"]


def test_reservation_term_total_becomes_upfront_and_monthly(pricing: Path) -> None:
    table = AzureSource().fetch(CatalogQuery(options={"file": str(pricing / "azure" / PAGE_1)}))
    (o,) = [x for x in table.offerings if x.instance_type == "Standard_E96_v5"]
    assert (o.region, o.on_demand_hourly, o.family) == ("northeurope", Decimal("6.768"), "Ev5")
    assert (o.vcpu, o.memory_gib) == (96, 672.0)  # facts from the bundled snapshot
    r = {(x.term_months, x.payment): x for x in o.reserved}
    assert r[(12, "all_upfront")].upfront == Decimal(34980)
    assert r[(12, "no_upfront")].hourly == Decimal("3.993151")  # 34980 / (730 x 12)
    assert r[(36, "all_upfront")].upfront == Decimal(67588)
    assert r[(36, "no_upfront")].hourly == Decimal("2.571842")  # 67588 / (730 x 36)
    assert not any(x.derived for x in o.reserved)
    assert o.zones == ("northeurope-1", "northeurope-2", "northeurope-3")


def test_item_kinds_on_real_items(pricing: Path) -> None:
    by_meter = {
        (i["armSkuName"], i["type"], i["skuName"], i["productName"]): kind_of(i)
        for i in items(pricing)
    }
    assert (
        by_meter[("Standard_D5_v2", "Consumption", "D5 v2 Spot", "Virtual Machines Dv2 Series")]
        == "spot"
    )
    assert (
        by_meter[
            ("Standard_D13", "Consumption", "D13 Low Priority", "Virtual Machines D Series Windows")
        ]
        == "windows price"
    )
    assert (
        by_meter[
            (
                "Standard_E8-4ads_v5",
                "Consumption",
                "E8-4ads v5 Low Priority",
                "Virtual Machines Eadsv5 Series",
            )
        ]
        == "low priority price"
    )
    assert (
        by_meter[
            (
                "Standard_D13",
                "DevTestConsumption",
                "D13 Low Priority",
                "Virtual Machines D Series Windows",
            )
        ]
        == "dev/test price"
    )
    assert (
        by_meter[
            ("Standard_E96_v5", "Reservation", "Standard_E96_v5", "Virtual Machines Ev5 Series")
        ]
        == "reservation"
    )
    assert (
        by_meter[
            ("Standard_E96_v5", "Consumption", "Standard_E96_v5", "Virtual Machines Ev5 Series")
        ]
        == "on_demand"
    )


def test_spot_is_kept_apart_from_on_demand(pricing: Path) -> None:
    prices = read_items(items(pricing))
    d5 = prices.sizes[("Standard_D5_v2", "southindia")]
    assert d5.spot == Decimal("0.145125") and d5.on_demand is None
    assert prices.ignored["windows price"] > 0 and prices.ignored["dev/test price"] > 0


def test_every_sample_page_parses(pricing: Path) -> None:
    for page in sorted((pricing / "azure").glob("*.json")):
        table = AzureSource().fetch(CatalogQuery(options={"file": str(page)}))
        assert table.offerings and table.stamps[0].origin == str(page)
        for o in table.offerings:
            assert o.on_demand_hourly and o.on_demand_hourly > 0


def test_not_an_azure_page(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"skus": []}')
    with pytest.raises(PricingError, match="not an Azure Retail Prices API response"):
        AzureSource().fetch(CatalogQuery(options={"file": str(bad)}))


class FakeRetail:
    """Serves three real pages chained by NextPageLink; a 429 first."""

    def __init__(self, pricing: Path):
        pages = [
            json.loads((pricing / "azure" / n).read_text())
            for n in sorted(p.name for p in (pricing / "azure").glob("*.json"))
        ]
        for i, page in enumerate(pages):
            page["NextPageLink"] = (
                f"https://prices.azure.com:443/api/retail/prices?$skip={100 * (i + 1)}"
                if i < len(pages) - 1
                else None
            )
        self.pages = pages
        self.requests: list[httpx.Request] = []
        self.throttled = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.throttled:
            self.throttled = True
            return httpx.Response(429, headers={"Retry-After": "1"})
        skip = int(parse_qs(urlparse(str(request.url)).query).get("$skip", ["0"])[0])
        return httpx.Response(200, json=self.pages[skip // 100])


def test_online_paging_retries_and_cache(pricing: Path, tmp_path: Path) -> None:
    fake = FakeRetail(pricing)
    sleeps: list[float] = []
    http = HttpClient(transport=httpx.MockTransport(fake), sleep=sleeps.append)
    src = AzureSource(http=http, cache=PriceCache("azure", directory=tmp_path))
    table = src.fetch(CatalogQuery(regions=("northeurope",)))
    assert sleeps == [1.0]
    first = parse_qs(urlparse(str(fake.requests[1].url)).query)
    assert first["$filter"] == [
        "serviceName eq 'Virtual Machines' and armRegionName eq 'northeurope'"
    ]
    assert first["api-version"] == ["2023-01-01-preview"]
    assert len(fake.requests) == 4  # 429, then three pages following NextPageLink
    # the fake ignores the filter; the query's region still selects the offerings
    assert {o.region for o in table.offerings} == {"northeurope"}
    assert "Standard_E96_v5" in {o.instance_type for o in table.offerings}
    assert "items" in table.stamps[0].detail
    assert table.stamps[0].fetched_at is not None
    AzureSource(http=http, cache=PriceCache("azure", directory=tmp_path)).fetch(
        CatalogQuery(regions=("northeurope",))
    )
    assert len(fake.requests) == 4  # cached


def test_online_needs_regions() -> None:
    with pytest.raises(PricingError, match="needs `regions`"):
        AzureSource().fetch(CatalogQuery())
