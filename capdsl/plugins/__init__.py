"""capdsl's plugin system (pluggy project ``capdsl``, entry-point group ``capdsl``).

Plugin authors need only this module::

    from capdsl.plugins import hookimpl

    @hookimpl
    def register_pricing_sources(register):
        register(MySource())

and, in their ``pyproject.toml``::

    [project.entry-points.capdsl]
    mysource = "my_package"

See ``docs/plugins.md`` for every hook and the protocols of what they register.
"""

from __future__ import annotations

from capdsl.plugins.hookspecs import hookimpl, hookspec
from capdsl.plugins.manager import (
    CapdslPluginManager,
    PluginFailure,
    PluginInfo,
    get_manager,
    reset_manager,
)
from capdsl.plugins.protocols import Check, Exporter, LatencyModel, PricingSource

__all__ = [
    "CapdslPluginManager",
    "Check",
    "Exporter",
    "LatencyModel",
    "PluginFailure",
    "PluginInfo",
    "PricingSource",
    "get_manager",
    "hookimpl",
    "hookspec",
    "reset_manager",
]
