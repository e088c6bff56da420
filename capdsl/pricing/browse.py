"""Data behind ``capdsl catalog``: query a pricing source, summarise its offerings.

Nothing here prints; the CLI renders ``CatalogView`` with rich (table) or as JSON.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, ReservedPrice

ProgressFn = Callable[[str, float | None], None]
INTERRUPTION_LABEL = {5.0: "<5%", 10.0: "5-10%", 15.0: "10-15%", 20.0: "15-20%", 100.0: ">20%"}


class UnknownSource(LookupError):
    """``capdsl catalog --source`` names no registered pricing source."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        close = difflib.get_close_matches(name, known, n=1)
        self.suggestion = close[0] if close else None
        hint = f"; did you mean `{self.suggestion}`?" if self.suggestion else ""
        super().__init__(
            f"unknown pricing source `{name}` (known: {', '.join(known) or 'none'}){hint}"
        )


def interruption_label(bound: float | None) -> str:
    if bound is None:
        return ""
    return INTERRUPTION_LABEL.get(float(bound), f"<{bound:g}%")


def commitment(o: Offering, years: int) -> ReservedPrice | None:
    """The option the catalog table shows for a term: standard no-upfront if offered, else
    the cheapest effective option of that term."""
    options = [r for r in o.reserved if r.term_months == 12 * years]
    if not options:
        return None
    for r in options:
        if r.payment == "no_upfront" and r.offering_class == "standard":
            return r
    return min(options, key=lambda r: r.effective_hourly())


@dataclass(frozen=True)
class CatalogRow:
    """One table row: an offering summarised."""

    provider: str
    instance_type: str
    region: str
    zones: tuple[str, ...]
    vcpu: int
    memory_gib: float
    gpu: str  # "8x h100 80G" or ""
    currency: str
    on_demand: Decimal | None
    spot_min: Decimal | None
    interruption: str
    reserved_1y: Decimal | None
    reserved_1y_derived: bool
    reserved_3y: Decimal | None
    reserved_3y_derived: bool

    @classmethod
    def of(cls, o: Offering) -> CatalogRow:
        gpu = ""
        if o.gpu_model or o.gpu_count:
            count = f"{o.gpu_count:g}x " if o.gpu_count else ""
            mem = f" {o.gpu_memory_gib:.0f}G" if o.gpu_memory_gib else ""
            gpu = f"{count}{o.gpu_model or 'gpu'}{mem}"
        r1, r3 = commitment(o, 1), commitment(o, 3)
        return cls(
            provider=o.provider,
            instance_type=o.instance_type,
            region=o.region,
            zones=o.zones,
            vcpu=o.vcpu,
            memory_gib=o.memory_gib,
            gpu=gpu,
            currency=o.currency,
            on_demand=o.on_demand_hourly,
            spot_min=min(o.spot_hourly.values()) if o.spot_hourly else None,
            interruption=interruption_label(o.spot_interruption),
            reserved_1y=r1.effective_hourly() if r1 else None,
            reserved_1y_derived=bool(r1 and r1.derived),
            reserved_3y=r3.effective_hourly() if r3 else None,
            reserved_3y_derived=bool(r3 and r3.derived),
        )


@dataclass
class CatalogView:
    source: str
    query: CatalogQuery
    table: PriceTable

    def offerings(self) -> list[Offering]:
        return sorted(
            self.table.offerings,
            key=lambda o: (o.provider, o.region, o.family, o.vcpu, o.memory_gib, o.instance_type),
        )

    def rows(self, limit: int = 0) -> list[CatalogRow]:
        items = self.offerings()
        return [CatalogRow.of(o) for o in (items[:limit] if limit else items)]

    @property
    def has_derived(self) -> bool:
        return any(r.derived for o in self.table.offerings for r in o.reserved)

    def to_json(self) -> dict[str, Any]:
        """The full shape: every offering as ``Offering`` JSON, stamps, warnings."""
        return {
            "source": self.source,
            "query": json.loads(self.query.model_dump_json()),
            "count": len(self.table.offerings),
            "offerings": [json.loads(o.model_dump_json()) for o in self.offerings()],
            "stamps": [json.loads(s.model_dump_json()) for s in self.table.stamps],
            "warnings": list(self.table.warnings),
        }


def browse_catalog(
    sources: Mapping[str, Any],
    *,
    source: str = "bundled",
    provider: str | None = None,
    regions: list[str] | tuple[str, ...] = (),
    families: list[str] | tuple[str, ...] = (),
    gpus: list[str] | tuple[str, ...] = (),
    file: str | None = None,
    refresh: bool = False,
    progress: ProgressFn | None = None,
) -> CatalogView:
    """Query ``sources[source]``; raises ``UnknownSource`` or ``PricingError``."""
    if source not in sources:
        raise UnknownSource(source, sorted(sources))
    src = sources[source]
    if provider is None and len(getattr(src, "providers", ())) == 1:
        provider = src.providers[0]
    options = {"file": str(Path(file).expanduser().resolve())} if file else {}
    query = CatalogQuery(
        provider=provider,
        regions=tuple(regions),
        families=tuple(families),
        gpu_models=tuple(g.lower() for g in gpus),
        options=options,
    )
    table = src.fetch(query, refresh=refresh, progress=progress)
    return CatalogView(source, query, table)
