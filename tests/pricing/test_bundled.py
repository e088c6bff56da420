"""The bundled snapshot: real prices, derived rates marked, the `bundled` source."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from capdsl.pricing import bundled
from capdsl.pricing.catalog import CatalogQuery, Offering, PricingError


def _one(provider: str, itype: str, region: str | None = None) -> Offering:
    found = [
        o
        for o in bundled.load_offerings(provider)
        if o.instance_type == itype and (region is None or o.region == region)
    ]
    assert len(found) == 1, (itype, region, len(found))
    return found[0]


def test_every_provider_has_its_regions_and_many_offerings() -> None:
    assert bundled.regions("aws") == ["us-east-1"]
    assert bundled.regions("gcp") == ["europe-west4", "us-central1", "us-east1", "us-east4"]
    assert bundled.regions("azure") == ["eastus", "northeurope", "westeurope", "westus2"]
    assert len(bundled.load_offerings("aws")) > 1300
    assert len(bundled.load_offerings("gcp")) > 1400
    assert len(bundled.load_offerings("azure")) > 5000


def test_aws_m5_large_has_the_twelve_real_price_list_options() -> None:
    o = _one("aws", "m5.large")
    assert o.on_demand_hourly == Decimal("0.096")
    got = {(r.term_months, r.offering_class, r.payment): (r.upfront, r.hourly) for r in o.reserved}
    assert len(got) == 12
    assert got[(12, "standard", "partial_upfront")] == (Decimal(252), Decimal("0.029"))
    assert got[(12, "standard", "no_upfront")] == (Decimal(0), Decimal("0.06"))
    assert got[(36, "standard", "all_upfront")] == (Decimal(949), Decimal(0))
    assert got[(36, "convertible", "all_upfront")] == (Decimal(1161), Decimal(0))
    assert not any(r.derived for r in o.reserved)
    # spot per AZ from the SkyPilot subset; Spot Advisor bucket 15-20% -> 20
    assert o.zones == ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6")
    assert o.spot_hourly["use1-az5"] == Decimal("0.0319")
    assert o.spot_interruption == 20.0


def test_aws_derived_rates_are_marked_and_reproduce_real_m5_xlarge_rates() -> None:
    o = _one("aws", "m5.xlarge")
    assert all(
        r.derived and r.basis.startswith("derived: aws m5.large Price List") for r in o.reserved
    )
    got = {(r.term_months, r.offering_class, r.payment): (r.upfront, r.hourly) for r in o.reserved}
    # same family, twice the on-demand price: the published m5.xlarge rates are exactly 2x m5.large
    assert got[(12, "standard", "all_upfront")][0] == Decimal("988.00")
    assert got[(12, "standard", "partial_upfront")] == (Decimal("504.00"), Decimal("0.058000"))
    assert got[(36, "standard", "no_upfront")][1] == Decimal("0.082000")


def test_aws_gpu_types_have_gpu_facts_and_advisor_spot() -> None:
    g5 = _one("aws", "g5.xlarge")
    assert (g5.gpu_model, g5.gpu_count, g5.on_demand_hourly) == ("a10g", 1.0, Decimal("1.006"))
    assert g5.zones == tuple(f"use1-az{i}" for i in range(1, 7))
    assert any("zones assumed" in n for n in g5.notes)
    # spot = on-demand x (1 - 59% advisor savings), the same in every zone
    assert set(g5.spot_hourly.values()) == {Decimal("0.412460")}
    p5 = _one("aws", "p5.48xlarge")
    assert (p5.gpu_model, p5.gpu_count, p5.gpu_memory_gib) == ("h100", 8.0, 80.0)


def test_gcp_gpu_machine_is_vm_plus_accelerator_with_real_cud() -> None:
    o = _one("gcp", "a2-highgpu-1g", "us-central1")
    # SkyPilot VM 0.73948 + A100 2.93391
    assert o.on_demand_hourly == Decimal("3.67339")
    assert (o.gpu_model, o.gpu_count, o.gpu_memory_gib) == ("a100", 1.0, 40.0)
    assert o.family == "a2-highgpu"
    cud = {r.term_months: r for r in o.reserved}
    # Cyclenerd month_1y 1689.3711392 / 730 h, no upfront, real (not derived)
    assert cud[12].hourly == Decimal("2.314207") and cud[12].payment == "no_upfront"
    assert not cud[12].derived
    assert set(o.zones) == {"us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"}


def test_gcp_prices_off_by_more_than_one_percent_come_from_cyclenerd() -> None:
    o = _one("gcp", "a3-highgpu-8g", "us-central1")
    assert o.on_demand_hourly == Decimal("88.49")
    assert any("Cyclenerd" in n for n in o.notes)


def test_azure_real_reservation_and_derived_elsewhere() -> None:
    real = _one("azure", "Standard_E96_v5", "northeurope")
    r = {(x.term_months, x.payment): x for x in real.reserved}
    assert r[(12, "all_upfront")].upfront == Decimal(34980) and not r[(12, "all_upfront")].derived
    assert r[(36, "all_upfront")].upfront == Decimal(67588)
    assert r[(12, "no_upfront")].hourly == Decimal("3.993151")  # 34980 / 8760 h
    other = _one("azure", "Standard_E96_v5", "eastus")
    assert all(x.derived and "Ev5 series" in x.basis for x in other.reserved)
    assert real.family == "Ev5" and real.zones == (
        "northeurope-1",
        "northeurope-2",
        "northeurope-3",
    )


def test_every_derived_rate_says_how() -> None:
    for o in bundled.load_offerings():
        for r in o.reserved:
            assert not r.derived or r.basis.startswith("derived:"), (o.key, r)
        assert o.on_demand_hourly is not None and o.on_demand_hourly > 0
        assert o.as_of is not None


def test_bundled_source_filters_and_stamps() -> None:
    src = bundled.BundledSource()
    table = src.fetch(CatalogQuery(provider="aws", families=("c7g",), arch=("arm64",)))
    assert {o.family for o in table.offerings} == {"c7g"}
    assert len(table.offerings) == 9
    assert {s.provider for s in table.stamps} == {"aws"}
    assert all(s.source == "bundled" for s in table.stamps)
    # derived reserved rates are worth knowing, not a problem: a note, not a warning
    assert any("derived" in n for n in table.notes)
    assert not any("derived" in w for w in table.warnings)
    gpu = src.fetch(CatalogQuery(gpu_models=("h100",)))
    assert {o.provider for o in gpu.offerings} == {"aws", "gcp", "azure"}


def test_bundled_source_warns_about_missing_regions_and_unused_options() -> None:
    table = bundled.BundledSource().fetch(
        CatalogQuery(provider="aws", regions=("eu-west-1",), options={"file": "x.json"})
    )
    assert table.offerings == []
    assert any("eu-west-1" in w and "us-east-1" in w for w in table.warnings)
    assert any("`file`" in w for w in table.warnings)


def test_unknown_provider_is_a_pricing_error() -> None:
    with pytest.raises(PricingError, match="no prices for provider `oracle`"):
        bundled.BundledSource().fetch(CatalogQuery(provider="oracle"))


def test_import_capdsl_does_not_load_the_snapshot() -> None:
    code = "import sys, capdsl, capdsl.cli; print('capdsl.pricing.bundled' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
