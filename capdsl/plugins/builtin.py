"""capdsl's own plugin: registered through the same hooks as any third-party plugin."""

from __future__ import annotations

from collections.abc import Callable

from capdsl.plugins.hookspecs import hookimpl
from capdsl.plugins.protocols import PricingSource


@hookimpl
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    from capdsl.pricing.bundled import BundledSource

    register(BundledSource())
