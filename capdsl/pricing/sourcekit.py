"""Small helpers shared by pricing-source plugins (the reference ones and third parties).

- ``option_path(query)``: the ``file`` option as a ``Path`` (``~`` expanded; a relative path
  is taken as given, i.e. against the current directory; ``capdsl catalog --file`` passes
  an absolute path).
- ``option_bool`` / ``option_list``: typed views of the string options of a catalog block.
- ``facts_by_type(provider)``: hardware facts (vCPU, memory, arch, GPU) per instance type
  from the bundled snapshot, for price formats that carry no or partial facts.
- ``table(...)``: filter offerings with the query and assemble a ``PriceTable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path

from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, PricingError, SourceStamp

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


def clean_decimal(value: Decimal) -> Decimal:
    """Drop insignificant zeros without scientific notation: ``0.0960000000`` -> ``0.096``,
    ``1161`` stays ``1161``, ``0E-10`` -> ``0``."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def option_path(query: CatalogQuery, name: str = "file") -> Path | None:
    value = query.options.get(name)
    if value is None or not str(value).strip():
        return None
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise PricingError(f"option `{name}`: no such file: {path}", code="E0502")
    return path


def option_bool(query: CatalogQuery, name: str, default: bool = False) -> bool:
    value = query.options.get(name)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise PricingError(f"option `{name}` must be true or false, not `{value}`", code="E0503")


def option_list(query: CatalogQuery, name: str) -> tuple[str, ...]:
    value = query.options.get(name)
    if not value:
        return ()
    return tuple(p.strip() for p in str(value).split(",") if p.strip())


@cache
def facts_by_type(provider: str) -> dict[str, Offering]:
    """One bundled offering per instance type (any region): its hardware facts."""
    from capdsl.pricing.bundled import load_offerings

    out: dict[str, Offering] = {}
    for o in load_offerings(provider):
        out.setdefault(o.instance_type, o)
    return out


@cache
def zones_by_region(provider: str) -> dict[str, tuple[str, ...]]:
    """Every zone the bundled snapshot knows per region."""
    from capdsl.pricing.bundled import load_offerings

    acc: dict[str, set[str]] = {}
    for o in load_offerings(provider):
        acc.setdefault(o.region, set()).update(o.zones)
    return {r: tuple(sorted(z)) for r, z in acc.items()}


def table(
    offerings: Iterable[Offering],
    query: CatalogQuery,
    stamps: list[SourceStamp],
    warnings: Iterable[str] = (),
) -> PriceTable:
    matched = [o for o in offerings if query.matches(o)]
    return PriceTable(offerings=matched, stamps=stamps, warnings=list(dict.fromkeys(warnings)))
