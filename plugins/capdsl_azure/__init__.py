"""capdsl's reference Azure pricing source, a plugin like any third party's.

Registered through the ``capdsl`` entry-point group (``azure = "capdsl_azure"``); plans use
it with ``catalog az from "azure" { regions = ["eastus"] }`` (online, no key needed) or
``file = "prices.json"`` (saved Retail Prices API pages). See ``capdsl_azure.source``.
"""

from __future__ import annotations

from collections.abc import Callable

from capdsl.plugins import PricingSource, hookimpl

__version__ = "0.1.0"


@hookimpl
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    from capdsl_azure.source import AzureSource

    register(AzureSource())
