"""What plugins register: the structural types behind each ``register_*`` hook.

A plugin does not subclass anything: any object with these attributes works (checked
with ``isinstance`` against the runtime-checkable protocols when it is registered).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from capdsl.model.latency import LatencyModel
from capdsl.pricing.catalog import CatalogQuery, PriceTable

if TYPE_CHECKING:
    from capdsl.lang.diagnostics import Diagnostic
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution

__all__ = ["Check", "Exporter", "LatencyModel", "PricingSource", "ProgressFn"]

ProgressFn = Callable[[str, float | None], None]
"""``progress(message, fraction)``: fraction in [0, 1], or None when unknown."""


@runtime_checkable
class PricingSource(Protocol):
    """A source of prices, referenced by plans as ``catalog NAME from "<name>" { ... }``.

    ``fetch`` returns the offerings matching ``query`` (use ``query.matches``), with one
    ``SourceStamp`` per origin (URL, file, snapshot) and ``warnings`` for anything the plan's
    author should know (stale cache, derived rates, ignored options). Source-specific options
    of the catalog block (``file = "offers.json"``) arrive in ``query.options``. ``refresh``
    asks to bypass caches. Report progress through ``progress`` when given. Raise
    ``capdsl.pricing.catalog.PricingError`` (with a message that says what to do) on failure.
    """

    name: str
    description: str
    providers: tuple[str, ...]

    def fetch(
        self,
        query: CatalogQuery,
        *,
        refresh: bool = False,
        progress: ProgressFn | None = None,
    ) -> PriceTable: ...


@runtime_checkable
class Exporter(Protocol):
    """An output format for solved plans (``capdsl solve --format <name>``).

    ``suffix`` is the file suffix (``.xlsx``); ``render`` returns text or bytes.
    """

    name: str
    suffix: str

    def render(self, plan: Plan, solution: Solution) -> str | bytes: ...


@runtime_checkable
class Check(Protocol):
    """A lint run on every built plan: returns diagnostics (warnings, usually ``W``-codes)."""

    code: str
    name: str

    def run(self, plan: Plan) -> list[Diagnostic]: ...
