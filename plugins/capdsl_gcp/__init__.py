"""capdsl's reference GCP pricing source, a plugin like any third party's.

Registered through the ``capdsl`` entry-point group (``gcp = "capdsl_gcp"``); plans use it
with ``catalog gcp from "gcp" { regions = ["us-central1"] }`` (online, API key) or
``file = "skus.json"`` (a saved ``skus.list`` response). See ``capdsl_gcp.source``.
"""

from __future__ import annotations

from collections.abc import Callable

from capdsl.plugins import PricingSource, hookimpl

__version__ = "0.1.0"


@hookimpl
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    from capdsl_gcp.source import GcpSource

    register(GcpSource())
