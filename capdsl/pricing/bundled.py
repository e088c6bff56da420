"""The bundled offline price snapshot and the ``bundled`` pricing source.

The snapshot (``capdsl/pricing/data/<provider>.json.gz``, built by
``python -m capdsl.pricing.snapshot``; provenance in ``data/PROVENANCE.md``) is read lazily,
once per process and provider: ``import capdsl`` never touches it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, PricingError, SourceStamp

PROVIDERS: tuple[str, ...] = ("aws", "gcp", "azure")
SCHEMA = 1


@cache
def _raw(provider: str) -> tuple[dict[str, list[dict[str, Any]]], tuple[SourceStamp, ...]]:
    """The provider's file, parsed but not validated: offerings grouped by region."""
    from pydantic import TypeAdapter

    if provider not in PROVIDERS:
        raise PricingError(
            f"the bundled snapshot has no prices for provider `{provider}` (it has {', '.join(PROVIDERS)})",
            code="E0503",
        )
    ref = resources.files("capdsl.pricing").joinpath("data").joinpath(f"{provider}.json.gz")
    try:
        doc: dict[str, Any] = json.loads(gzip.decompress(ref.read_bytes()))
    except (OSError, ValueError) as exc:  # missing or corrupt package data: a broken install
        raise PricingError(f"cannot read the bundled {provider} snapshot: {exc}") from exc
    if doc.get("schema") != SCHEMA:
        raise PricingError(
            f"the bundled {provider} snapshot has schema {doc.get('schema')}, expected {SCHEMA}"
        )
    by_region: dict[str, list[dict[str, Any]]] = {}
    for row in doc["offerings"]:
        by_region.setdefault(row["region"], []).append(row)
    stamps = TypeAdapter(tuple[SourceStamp, ...]).validate_python(doc["stamps"])
    return by_region, stamps


@cache
def _region(provider: str, region: str) -> tuple[Offering, ...]:
    """Validated offerings of one region (validation is most of the load time, so it is
    done per region, when a query first needs it)."""
    from pydantic import TypeAdapter

    rows = _raw(provider)[0].get(region, [])
    return TypeAdapter(tuple[Offering, ...]).validate_python(rows)


def regions(provider: str) -> list[str]:
    """Regions of one provider in the snapshot."""
    return sorted(_raw(provider)[0])


def load_offerings(provider: str | None = None, regions_: tuple[str, ...] = ()) -> list[Offering]:
    """Every bundled offering (of one provider or all; of some regions or all). Cached per
    process; the list is new, the offerings are shared (they are frozen)."""
    out: list[Offering] = []
    for p in (provider,) if provider else PROVIDERS:
        for r in regions(p):
            if not regions_ or r in regions_:
                out.extend(_region(p, r))
    return out


def load_stamps(provider: str | None = None) -> list[SourceStamp]:
    """Where and when the bundled prices came from."""
    out: list[SourceStamp] = []
    for p in (provider,) if provider else PROVIDERS:
        out.extend(_raw(p)[1])
    return out


class BundledSource:
    """The default pricing source: real prices bundled with capdsl, no network needed."""

    name = "bundled"
    description = (
        "real prices bundled with capdsl (AWS us-east-1; GCP us-central1, us-east1, us-east4, "
        "europe-west4; Azure eastus, westus2, northeurope, westeurope); offline"
    )
    providers: tuple[str, ...] = PROVIDERS

    def fetch(
        self,
        query: CatalogQuery,
        *,
        refresh: bool = False,
        progress: Callable[[str, float | None], None] | None = None,
    ) -> PriceTable:
        providers = (query.provider,) if query.provider else PROVIDERS
        offerings: list[Offering] = []
        stamps: list[SourceStamp] = []
        warnings: list[str] = []
        notes: list[str] = []
        for provider in providers:
            if progress is not None:
                progress(f"reading bundled {provider} prices", None)
            known = regions(provider)
            matched = [o for o in load_offerings(provider, query.regions) if query.matches(o)]
            missing = [
                r
                for r in query.regions
                if r not in known and (query.provider or len(providers) == 1)
            ]
            for r in missing:
                warnings.append(
                    f"region `{r}` is not in the bundled {provider} snapshot (it has {', '.join(known)})"
                )
            if not matched:
                continue
            offerings += matched
            stamps += load_stamps(provider)
            derived = sum(1 for o in matched if any(r.derived for r in o.reserved))
            if derived:
                notes.append(
                    f"{provider}: reserved rates of {derived} of {len(matched)} bundled offerings are derived "
                    "from documented family ratios, not published for that type (each says its basis)"
                )
        unused = sorted(set(query.options) - {"refresh"})
        if unused:
            warnings.append(
                f"option{'s' * (len(unused) > 1)} {', '.join(f'`{k}`' for k in unused)} not used by source `bundled`"
            )
        if progress is not None:
            progress(f"{len(offerings)} bundled offerings", 1.0)
        return PriceTable(offerings=offerings, stamps=stamps, warnings=warnings, notes=notes)
