"""capdsl_gcp against real Cloud Billing Catalog SKUs; paging faked at the transport."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from capdsl_gcp.skus import classify, money, parse_skus
from capdsl_gcp.source import GcpSource

from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import CatalogQuery, PricingError
from capdsl.pricing.http import HttpClient


def test_units_plus_nanos() -> None:
    assert money({"currencyCode": "USD", "units": "2", "nanos": 933908000}) == (
        Decimal("2.933908"),
        "USD",
    )
    assert money({"currencyCode": "IDR", "units": "68", "nanos": 204999658}) == (
        Decimal("68.204999658"),
        "IDR",
    )
    assert money({"units": "0", "nanos": 0}) == (Decimal(0), "USD")


def test_sku_classification_on_real_skus(pricing: Path) -> None:
    doc = json.loads((pricing / "gcp" / "skus.json").read_text())
    by_id = {s["skuId"]: classify(s) for s in doc["skus"]}
    assert by_id["039F-D0DA-4055"] == ("on_demand", "gpu", "a100")
    assert by_id["2922-40C5-B19F"] == ("on_demand", "core", "a2")
    assert by_id["2390-DCAF-DA38"] == ("on_demand", "ram", "a2")
    assert by_id["9E37-EAF4-1576"] == ("on_demand", "core", "t2d")
    n4 = json.loads((pricing / "gcp" / "n4_skus.json").read_text())
    kinds = {s["skuId"]: classify(s) for s in n4["skus"]}
    assert kinds["D3A9-FA60-688D"] == ("spot", "core", "n4d")
    assert kinds["F179-06F3-16EC"] is None  # custom
    assert kinds["0F1E-4428-FCCB"] is None  # sole tenancy premium
    assert kinds["60CA-8F25-0951"] is None  # "Reserved N4D Core" (zero-priced reservation SKU)


def test_commitment_skus_are_resource_based_cud() -> None:
    # shape of a Commit1Yr SKU (constructed: the real samples carry no commitment SKU)
    sku = {
        "description": "Commitment v1: A2 Cpu in Americas for 1 Year",
        "category": {"resourceFamily": "Compute", "resourceGroup": "CPU", "usageType": "Commit1Yr"},
    }
    assert classify(sku) == ("commit_1y", "core", "a2")


def test_a100_machine_combines_core_ram_and_gpu(pricing: Path) -> None:
    table = GcpSource().fetch(
        CatalogQuery(regions=("us-central1",), options={"file": str(pricing / "gcp" / "skus.json")})
    )
    by_type = {o.instance_type: o for o in table.offerings}
    a2 = by_type["a2-highgpu-1g"]
    # 12 vCPU x 0.031611 + 85 GiB x 0.004237 + 1 x A100 2.933908
    assert a2.on_demand_hourly == Decimal("3.673385")
    assert (a2.gpu_model, a2.gpu_count, a2.currency) == ("a100", 1.0, "USD")
    assert by_type["a2-highgpu-8g"].on_demand_hourly == Decimal("29.38708")
    assert set(a2.zones) == {"us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"}
    # E2 prices in this sample are in IDR: the offering keeps the SKU currency
    e2 = by_type["e2-standard-4"]
    assert e2.currency == "IDR"
    assert e2.on_demand_hourly == Decimal(
        "2010.34259"
    )  # 4 x 327.173848364 + 16 x 43.85294978, 6 dp
    # shared core: e2-medium is 1 vCPU of E2 + 4 GiB
    assert by_type["e2-medium"].on_demand_hourly == Decimal(
        "502.585647"
    )  # 327.173848364 + 4 x 43.85294978
    assert table.stamps[0].as_of.isoformat() == "2023-03-24"


def test_spot_from_preemptible_and_shapes_file(pricing: Path, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.csv"
    shapes.write_text("machine_type,vcpus,memory_gib\nn4d-standard-8,8,32\n")
    table = GcpSource().fetch(
        CatalogQuery(options={"file": str(pricing / "gcp" / "n4_skus.json"), "shapes": str(shapes)})
    )
    (o,) = table.offerings
    assert o.on_demand_hourly == Decimal("0.3388")  # 8 x 0.02911 + 32 x 0.00331
    assert set(o.spot_hourly.values()) == {Decimal("0.180784")}  # 8 x 0.01553 + 32 x 0.001767
    assert o.family == "n4d-standard"


def test_parse_counts_ignored(pricing: Path) -> None:
    rates, ignored = parse_skus([json.loads((pricing / "gcp" / "n4_skus.json").read_text())])
    assert ignored == 8 and len(rates) == 8


class FakeBilling:
    def __init__(self, pricing: Path):
        doc = json.loads((pricing / "gcp" / "skus.json").read_text())
        self.pages = [
            {"skus": doc["skus"][:3], "nextPageToken": "p2"},
            {"skus": doc["skus"][3:], "nextPageToken": ""},
        ]
        self.seen: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlparse(str(request.url)).query)
        self.seen.append(q)
        if len(self.seen) == 2:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json=self.pages[1 if q.get("pageToken") == ["p2"] else 0])


def test_online_paging_with_api_key_and_timeout_retry(pricing: Path, tmp_path: Path) -> None:
    fake = FakeBilling(pricing)
    http = HttpClient(transport=httpx.MockTransport(fake), sleep=lambda s: None)
    src = GcpSource(http=http, cache=PriceCache("gcp", directory=tmp_path))
    table = src.fetch(CatalogQuery(regions=("us-east1",), options={"api_key": "k123"}))
    assert [q.get("pageToken") for q in fake.seen] == [None, ["p2"], ["p2"]]
    assert all(q["key"] == ["k123"] and q["pageSize"] == ["5000"] for q in fake.seen)
    by_type = {o.instance_type: o for o in table.offerings}
    assert by_type["a2-highgpu-1g"].on_demand_hourly == Decimal("3.673385")
    src.fetch(CatalogQuery(regions=("us-east1",), options={"api_key": "k123"}))
    assert len(fake.seen) == 3  # cached


def test_online_without_key_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAPDSL_GCP_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(PricingError, match="CAPDSL_GCP_API_KEY"):
        GcpSource().fetch(CatalogQuery(regions=("us-east1",)))
