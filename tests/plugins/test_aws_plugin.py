"""capdsl_aws against the real AWS samples, field by field; HTTP faked at the transport."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from capdsl_aws import offers
from capdsl_aws.source import AwsSource

from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import CatalogQuery, PricingError
from capdsl.pricing.http import HttpClient


def fetch_file(path: Path, **options: str) -> object:
    return AwsSource().fetch(CatalogQuery(options={"file": str(path), **options}))


def test_getproducts_record_m5_large_all_twelve_reserved_terms(pricing: Path) -> None:
    table = fetch_file(pricing / "aws" / "getproducts_m5_large.json")
    (o,) = table.offerings  # type: ignore[attr-defined]
    assert (o.instance_type, o.region, o.vcpu, o.memory_gib, o.family) == (
        "m5.large",
        "us-east-1",
        2,
        8.0,
        "m5",
    )
    assert o.on_demand_hourly == Decimal("0.096") and o.currency == "USD"
    got = {(r.term_months, r.offering_class, r.payment): (r.upfront, r.hourly) for r in o.reserved}
    assert got == {
        (12, "standard", "no_upfront"): (Decimal(0), Decimal("0.06")),
        (12, "standard", "partial_upfront"): (Decimal(252), Decimal("0.029")),
        (12, "standard", "all_upfront"): (Decimal(494), Decimal(0)),
        (12, "convertible", "no_upfront"): (Decimal(0), Decimal("0.071")),
        (12, "convertible", "partial_upfront"): (Decimal(294), Decimal("0.034")),
        (12, "convertible", "all_upfront"): (Decimal(577), Decimal(0)),
        (36, "standard", "no_upfront"): (Decimal(0), Decimal("0.041")),
        (36, "standard", "partial_upfront"): (Decimal(505), Decimal("0.019")),
        (36, "standard", "all_upfront"): (Decimal(949), Decimal(0)),
        (36, "convertible", "no_upfront"): (Decimal(0), Decimal("0.049")),
        (36, "convertible", "partial_upfront"): (Decimal(592), Decimal("0.023")),
        (36, "convertible", "all_upfront"): (Decimal(1161), Decimal(0)),
    }
    assert not any(r.derived for r in o.reserved)
    (stamp,) = table.stamps  # type: ignore[attr-defined]
    assert stamp.as_of.isoformat() == "2021-02-05" and "20210205204500" in stamp.detail


def test_getproducts_response_shape_with_json_text_records(pricing: Path, tmp_path: Path) -> None:
    record = (pricing / "aws" / "getproducts_m5_large.json").read_text()
    response = tmp_path / "response.json"
    response.write_text(json.dumps({"FormatVersion": "aws_v1", "PriceList": [record]}))
    (o,) = fetch_file(response).offerings  # type: ignore[attr-defined]
    assert len(o.reserved) == 12


def test_spot_history_and_advisor_files(pricing: Path) -> None:
    table = fetch_file(
        pricing / "aws" / "getproducts_m5_large.json",
        spot_history=str(pricing / "aws" / "spot_price_history_m5_large.json"),
        spot_advisor=str(pricing / "aws" / "spot-advisor-subset.json"),
    )
    (o,) = table.offerings  # type: ignore[attr-defined]
    # newest record per AZ of the DescribeSpotPriceHistory response
    assert o.spot_hourly["us-east-1f"] == Decimal("0.0437")
    assert o.spot_hourly["us-east-1a"] == Decimal("0.0423")
    assert set(o.zones) == set(o.spot_hourly)
    assert o.spot_interruption == 20.0  # advisor r=3: "15-20%"


def test_spot_history_keeps_the_newest_price(pricing: Path) -> None:
    doc = json.loads((pricing / "aws" / "spot_price_history_m5_large.json").read_text())
    rows = [r for r in doc["SpotPriceHistory"] if r["AvailabilityZone"] == "us-east-1b"]
    newest = max(rows, key=lambda r: r["Timestamp"])
    assert offers.spot_history(doc)["m5.large"]["us-east-1b"] == Decimal(newest["SpotPrice"])


def test_bulk_offer_file_us_east_1_excludes_capacity_blocks(pricing: Path) -> None:
    table = fetch_file(pricing / "aws" / "pricing-us-east-1.json")
    (o,) = table.offerings  # type: ignore[attr-defined]
    assert (o.instance_type, o.on_demand_hourly, o.vcpu, o.memory_gib) == (
        "p4d.24xlarge",
        Decimal("32.7726"),
        96,
        1152.0,
    )
    assert (o.gpu_count, o.gpu_model) == (8.0, "a100")  # model from the bundled facts
    assert table.stamps[0].as_of.isoformat() == "2024-05-28"  # type: ignore[attr-defined]


def test_crafted_on_demand_fee_is_not_an_hourly_rate(pricing: Path) -> None:
    # us-east-2: the m5.large OnDemand term carries only a 1161 USD "Quantity" fee
    table = fetch_file(pricing / "aws" / "pricing-us-east-2.json")
    assert table.offerings == []  # type: ignore[attr-defined]
    assert any("no hourly on-demand rate" in w and "m5.large" in w for w in table.warnings)  # type: ignore[attr-defined]


def test_non_instance_products_are_ignored(pricing: Path) -> None:
    prices = offers.read_document(
        json.loads((pricing / "aws" / "pricing-cn-northwest-1.json").read_text())
    )
    assert prices.by_sku == {} and prices.skipped_products == 1


@pytest.mark.parametrize(
    "name", ["pricing-us-east-1.json", "pricing-us-east-2.json", "pricing-cn-northwest-1.json"]
)
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_streaming_parser_matches_json_load(pricing: Path, name: str, chunk: int) -> None:
    text = (pricing / "aws" / name).read_text()
    doc = json.loads(text)
    # an empty member of `terms` (us-east-2 has "attributesList": {}) yields no entries
    doc["terms"] = {k: v for k, v in doc["terms"].items() if v}
    got: dict[str, object] = {"products": {}, "terms": {}}
    for kind, key, value in offers.iter_offer_file(io.StringIO(text), chunk_size=chunk):
        if kind == "meta":
            got[key] = value
        elif kind == "product":
            got["products"][key] = value  # type: ignore[index]
        else:
            got["terms"].setdefault(kind.split(":", 1)[1], {})[key] = value  # type: ignore[union-attr]
    assert got == doc


def test_streaming_parser_rejects_other_documents() -> None:
    with pytest.raises((offers.OfferFormatError, json.JSONDecodeError)):
        list(offers.iter_offer_file(io.StringIO('["not", "an", "offer"]')))


def test_region_index(pricing: Path) -> None:
    index = offers.region_index(json.loads((pricing / "aws" / "region_index.json").read_text()))
    assert len(index) == 101
    assert index["us-east-1"] == "/offers/v1.0/aws/AmazonEC2/20250523232744/us-east-1/index.json"


def test_not_a_price_list_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(PricingError, match="not an AWS Price List document"):
        fetch_file(bad)


# --------------------------------------------------------------------------- online, faked


class FakeAws:
    """The Price List endpoints, served from the real samples."""

    def __init__(self, pricing: Path, failures: int = 0):
        self.pricing = pricing
        self.failures = failures
        self.hits: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.hits.append(path)
        if self.failures:
            self.failures -= 1
            return httpx.Response(503)
        if path.endswith("region_index.json"):
            return httpx.Response(
                200, content=(self.pricing / "aws" / "region_index.json").read_bytes()
            )
        if path == "/offers/v1.0/aws/AmazonEC2/20250523232744/us-east-1/index.json":
            return httpx.Response(
                200, content=(self.pricing / "aws" / "pricing-us-east-1.json").read_bytes()
            )
        if path == "/spot-advisor-data.json":
            return httpx.Response(
                200, content=(self.pricing / "aws" / "spot-advisor-subset.json").read_bytes()
            )
        return httpx.Response(404, text="NoSuchKey")


def online(fake: FakeAws, tmp_path: Path) -> AwsSource:
    http = HttpClient(transport=httpx.MockTransport(fake), sleep=lambda s: None)
    return AwsSource(http=http, cache=PriceCache("aws", directory=tmp_path))


def test_online_fetch_region_index_offer_file_and_advisor_then_cache(
    pricing: Path, tmp_path: Path
) -> None:
    fake = FakeAws(pricing, failures=1)  # the first request gets a 503 and is retried
    src = online(fake, tmp_path)
    progress: list[str] = []
    table = src.fetch(
        CatalogQuery(regions=("us-east-1",)), progress=lambda m, f: progress.append(m)
    )
    (o,) = table.offerings
    assert (o.instance_type, o.on_demand_hourly) == ("p4d.24xlarge", Decimal("32.7726"))
    assert o.spot_interruption == 15.0  # advisor r=2 "10-15%"
    assert set(o.spot_hourly.values()) == {Decimal("10.814958")}  # 32.7726 x (1 - 67%)
    assert any(s.origin.endswith("us-east-1/index.json") for s in table.stamps)
    assert any("downloading" in m for m in progress)
    hits = len(fake.hits)
    again = online(fake, tmp_path).fetch(CatalogQuery(regions=("us-east-1",)))
    assert len(fake.hits) == hits  # served from the disk cache
    assert again.offerings[0].on_demand_hourly == Decimal("32.7726")
    online(fake, tmp_path).fetch(CatalogQuery(regions=("us-east-1",)), refresh=True)
    assert len(fake.hits) > hits


def test_online_needs_regions_and_known_regions(pricing: Path, tmp_path: Path) -> None:
    src = online(FakeAws(pricing), tmp_path)
    with pytest.raises(PricingError, match="needs `regions`"):
        src.fetch(CatalogQuery())
    with pytest.raises(PricingError, match="no EC2 offer file for region `mars-1`"):
        src.fetch(CatalogQuery(regions=("mars-1",), options={"spot": "false"}))


def test_one_offering_per_type_shared_product_wins(pricing: Path, tmp_path: Path) -> None:
    shared = json.loads((pricing / "aws" / "getproducts_m5_large.json").read_text())
    dedicated = json.loads(json.dumps(shared).replace("6C86BEPQVG73ZGGR", "DEDICATEDSKU0001"))
    dedicated["product"]["productFamily"] = "Compute Instance (bare metal)"
    dedicated["product"]["attributes"]["tenancy"] = "Dedicated"
    (term,) = dedicated["terms"]["OnDemand"].values()
    (dim,) = term["priceDimensions"].values()
    dim["pricePerUnit"]["USD"] = "0.5"
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"PriceList": [dedicated, shared]}))
    (o,) = fetch_file(path).offerings  # type: ignore[attr-defined]
    assert o.on_demand_hourly == Decimal("0.096")
