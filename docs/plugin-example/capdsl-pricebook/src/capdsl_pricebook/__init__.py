"""capdsl-pricebook: a private cloud's price book (CSV) as a capdsl pricing source.

Plans use it with ``catalog dc from "pricebook" { file = "dc-prices.csv" }``; the columns
are described in README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from capdsl.plugins import PricingSource, hookimpl
from capdsl.pricing.catalog import (
    CatalogQuery,
    Offering,
    PriceTable,
    PricingError,
    ReservedPrice,
    SourceStamp,
)

__version__ = "0.1.0"

REQUIRED = ("type", "region", "vcpu", "memory_gib", "on_demand")


class PriceBook:
    """Offerings from a CSV price book (one row per instance type and region)."""

    name = "pricebook"
    description = "a private cloud's price book (CSV file given as the `file` option)"
    providers: tuple[str, ...] = ("dc",)

    def fetch(
        self,
        query: CatalogQuery,
        *,
        refresh: bool = False,
        progress: Callable[[str, float | None], None] | None = None,
    ) -> PriceTable:
        file = query.options.get("file")
        if not file:
            raise PricingError(
                'source `pricebook` needs the price book: add `file = "prices.csv"` to the catalog',
                code="E0503",
            )
        path = Path(file).expanduser()
        if not path.is_file():
            raise PricingError(f"pricebook: no such file: {path}", code="E0502")
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise PricingError(f"{path}: missing column(s) {', '.join(missing)}", code="E0502")
            offerings = [
                self._offering(row, path, line) for line, row in enumerate(reader, start=2)
            ]
        if progress is not None:
            progress(f"{len(offerings)} rows read from {path.name}", 1.0)
        stamp = SourceStamp(
            source=self.name,
            provider="dc",
            as_of=dt.date.fromtimestamp(path.stat().st_mtime),
            origin=str(path),
            detail="private price book",
        )
        return PriceTable(offerings=[o for o in offerings if query.matches(o)], stamps=[stamp])

    def _offering(self, row: dict[str, str], path: Path, line: int) -> Offering:
        def money(column: str) -> Decimal | None:
            text = (row.get(column) or "").strip()
            if not text:
                return None
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise PricingError(
                    f"{path}:{line}: `{column}` is not a number: {text!r}", code="E0502"
                ) from None
            if value < 0:
                raise PricingError(f"{path}:{line}: `{column}` is negative", code="E0502")
            return value

        try:
            zones = tuple((row.get("zones") or "").split())
            reserved = tuple(
                ReservedPrice(term_months=months, payment="no_upfront", hourly=price)
                for months, price in ((12, money("reserved_1y")), (36, money("reserved_3y")))
                if price is not None
            )
            spot = money("spot")
            return Offering(
                provider="dc",
                region=row["region"].strip(),
                instance_type=row["type"].strip(),
                zones=zones,
                vcpu=int(row["vcpu"]),
                memory_gib=float(row["memory_gib"]),
                arch=(row.get("arch") or "x86_64").strip(),
                gpu_model=(row.get("gpu") or "").strip().lower() or None,
                gpu_count=float(row.get("gpu_count") or 0),
                gpu_memory_gib=float(row.get("gpu_memory_gib") or 0),
                family=row["type"].strip().split(".")[0],
                currency=(row.get("currency") or "USD").strip(),
                on_demand_hourly=money("on_demand"),
                spot_hourly=dict.fromkeys(zones or (row["region"].strip(),), spot)
                if spot is not None
                else {},
                reserved=reserved,
                source=self.name,
                as_of=dt.date.fromtimestamp(path.stat().st_mtime),
            )
        except (KeyError, ValueError) as exc:
            raise PricingError(f"{path}:{line}: {exc}", code="E0502") from exc


@hookimpl
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    register(PriceBook())
