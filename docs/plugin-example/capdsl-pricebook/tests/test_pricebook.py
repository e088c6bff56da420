"""The plugin template's first test: the plugin is installed. Then: it reads its CSV."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from capdsl.pricing.catalog import CatalogQuery

HERE = Path(__file__).resolve().parent.parent


def test_the_plugin_is_installed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "capdsl.cli", "plugins", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    plugins = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    assert "pricebook" in plugins
    assert plugins["pricebook"]["version"] == "0.1.0"
    assert plugins["pricebook"]["registers"] == {"pricing_sources": ["pricebook"]}


def test_it_reads_the_price_book() -> None:
    from capdsl_pricebook import PriceBook

    table = PriceBook().fetch(
        CatalogQuery(regions=("dc-east",), options={"file": str(HERE / "dc-prices.csv")})
    )
    by_type = {o.instance_type: o for o in table.offerings}
    assert set(by_type) == {"rack.small", "rack.large", "rack.gpu"}
    large = by_type["rack.large"]
    assert large.on_demand_hourly == Decimal("0.80")
    assert large.spot_hourly == {"dc-east-a": Decimal("0.30"), "dc-east-b": Decimal("0.30")}
    assert [(r.term_months, r.hourly) for r in large.reserved] == [
        (12, Decimal("0.55")),
        (36, Decimal("0.40")),
    ]
    assert (by_type["rack.gpu"].gpu_model, by_type["rack.gpu"].gpu_count) == ("l4", 2.0)
    assert table.stamps[0].origin.endswith("dc-prices.csv")
