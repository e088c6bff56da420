"""The capdsl hooks (pluggy project ``capdsl``, entry-point group ``capdsl``).

Every hook takes one argument, ``register``: a callable the plugin calls once per object
it contributes. Hooks are always called with keyword arguments. Each hook is documented in
``docs/plugins.md`` with this exact signature (a test checks it).

A plugin module implements any of them::

    from capdsl.plugins import hookimpl

    @hookimpl
    def register_pricing_sources(register):
        register(MyPriceBook())
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from capdsl.plugins.protocols import Check, Exporter, LatencyModel, PricingSource

PROJECT = "capdsl"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    """Register pricing sources: ``register(source)`` for each ``PricingSource``.

    A plan uses a source by name: ``catalog aws from "<source.name>" { ... }``. Names are
    unique; the first registration wins (capdsl's built-in ``bundled`` comes first) and a
    later one with the same name is reported as a plugin problem.
    """


@hookspec
def register_latency_models(register: Callable[[LatencyModel], None]) -> None:
    """Register latency models: ``register(model)`` for each ``LatencyModel``.

    A plan selects one with ``latency_model = "<model.name>"`` inside a ``runs on`` block;
    ``model.capacity(offering, workload=..., unit=..., percentile=..., target_s=...,
    options=...)`` returns the sustainable rate of one instance at the SLO.
    """


@hookspec
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """Register output formats: ``register(exporter)`` for each ``Exporter``.

    ``exporter.render(plan, solution)`` returns ``str`` or ``bytes``; ``exporter.suffix`` is
    the file suffix used for ``-o`` paths.
    """


@hookspec
def register_checks(register: Callable[[Check], None]) -> None:
    """Register plan checks (lints): ``register(check)`` for each ``Check``.

    ``check.run(plan)`` returns diagnostics; they are reported with the plan's own lints.
    ``check.code`` is the diagnostic code it emits; plugin codes should use the
    ``W9xxx`` / ``E9xxx`` range, which capdsl never uses.
    """
