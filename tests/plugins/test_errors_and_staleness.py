"""Failures carry their E05xx code; stale cached prices warn on every use."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from capdsl_aws.source import AwsSource
from capdsl_azure.source import AzureSource

from capdsl.codes import get_code
from capdsl.plugins import CapdslPluginManager, hookimpl
from capdsl.pricing.cache import PriceCache
from capdsl.pricing.catalog import CatalogQuery, PricingError
from capdsl.pricing.http import HttpClient


def code_of(call: object) -> str:
    with pytest.raises(PricingError) as info:
        call()  # type: ignore[operator]
    assert get_code(info.value.code) is not None, info.value.code
    return info.value.code


def test_error_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    down = HttpClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(503)),
        retries=1,
        sleep=lambda s: None,
    )
    cache = PriceCache("azure", directory=tmp_path)
    assert (
        code_of(
            lambda: AzureSource(http=down, cache=cache).fetch(CatalogQuery(regions=("eastus",)))
        )
        == "E0501"
    )
    assert (
        code_of(lambda: AwsSource().fetch(CatalogQuery(options={"file": "missing.json"})))
        == "E0502"
    )
    assert code_of(lambda: AwsSource().fetch(CatalogQuery())) == "E0503"
    assert code_of(lambda: AwsSource().fetch(CatalogQuery(provider="gcp"))) == "E0503"
    monkeypatch.setenv("CAPDSL_OFFLINE", "1")
    assert (
        code_of(lambda: AzureSource(cache=cache).fetch(CatalogQuery(regions=("eastus",))))
        == "E0505"
    )

    class Boom:
        name, description, providers = "boom", "raises", ("x",)

        def fetch(self, query: CatalogQuery, **kw: object) -> object:
            raise ZeroDivisionError("oops")

    class Plugin:
        @hookimpl
        def register_pricing_sources(self, register: object) -> None:
            register(Boom())  # type: ignore[operator]

    m = CapdslPluginManager(entry_points=False)
    m.register(Plugin(), name="boomer")
    assert code_of(lambda: m.pricing_sources()["boom"].fetch(CatalogQuery())) == "E0504"


def test_stale_online_prices_are_used_with_a_warning_when_offline(
    pricing: Path, tmp_path: Path
) -> None:
    page = json.loads((pricing / "azure" / "az-retail-page-1_20220419151719.json").read_text())
    page["NextPageLink"] = None
    up = HttpClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=page)),
        sleep=lambda s: None,
    )
    cache = PriceCache("azure", directory=tmp_path, ttl=dt.timedelta(days=7))
    fresh = AzureSource(http=up, cache=cache).fetch(CatalogQuery(regions=("northeurope",)))
    assert fresh.offerings and not any("cached prices" in w for w in fresh.warnings)
    # age the entry past the TTL
    path = next((tmp_path / "azure").iterdir())
    doc = json.loads(path.read_text())
    doc["fetched_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).isoformat()
    path.write_text(json.dumps(doc))

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)

    down = HttpClient(transport=httpx.MockTransport(offline), retries=0, sleep=lambda s: None)
    for _ in range(2):  # every plan that uses them is warned
        stale = AzureSource(http=down, cache=PriceCache("azure", directory=tmp_path)).fetch(
            CatalogQuery(regions=("northeurope",))
        )
        assert [o.instance_type for o in stale.offerings] == [
            o.instance_type for o in fresh.offerings
        ]
        (warning,) = [w for w in stale.warnings if "cached prices" in w]
        assert "30 days old" in warning and "network is unreachable" in warning
