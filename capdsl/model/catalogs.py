"""Catalogs: offerings from pricing sources or inline, with the plan's price overrides.

``catalog NAME from "SOURCE" { filters }`` asks the injected resolver for a ``PriceTable``;
``catalog NAME { offering "..." { } }`` declares offerings inline. Price overrides apply on
top of any source (``capdsl.pricing.catalog.apply_overrides``), and every change is written
down in ``PlanOffering.price_notes`` so the plan output shows it:

- ``discount = 12%`` (catalog): every source price of the catalog x (1 - 12%);
- ``price GLOB { discount = 20% }``: a family discount on top (discounts compound);
- ``price GLOB { on_demand = $/h, spot = $/h, reserved { ... } }``: negotiated rates, taken
  as they are (no discount on top); ``spot`` applies to every zone of the offering.

Offerings are referenced as ``CATALOG.TYPE_GLOB`` (``aws.c7g.*``, ``aws.*``); plan offering
ids are ``CATALOG.TYPE@REGION``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from capdsl.lang import ast
from capdsl.lang.diagnostics import Diagnostic, Level, Span, did_you_mean, error, warning
from capdsl.model.plan import PlanOffering
from capdsl.model.tree import Section
from capdsl.model.values import Reader
from capdsl.pricing.catalog import (
    CatalogQuery,
    CatalogResolver,
    Offering,
    PriceTable,
    PricingError,
    ReservedPrice,
    SourceStamp,
    apply_overrides,
)

ZERO = Decimal(0)


@dataclass
class Catalog:
    name: str
    section: Section
    source: str | None
    offerings: list[PlanOffering] = field(default_factory=list)
    stamps: list[SourceStamp] = field(default_factory=list)
    failed: bool = False  # the source failed: references to it are not reported again

    def types(self) -> list[str]:
        return sorted({o.offering.instance_type for o in self.offerings})

    def families(self) -> list[str]:
        return sorted({o.offering.family for o in self.offerings if o.offering.family})


def offering_id(catalog: str, offering: Offering) -> str:
    return f"{catalog}.{offering.instance_type}@{offering.region}"


# --------------------------------------------------------------------------- source query


def catalog_query(section: Section, reader: Reader) -> CatalogQuery:
    options: dict[str, str] = {}
    for key, entry in section.entries.items():
        if key in section.spec.settings:
            continue
        value = entry.value
        if isinstance(value, ast.String):
            options[key] = _relative_to_plan(value) if key in _PATH_OPTIONS else value.value
        elif isinstance(value, ast.Bool):
            options[key] = "true" if value.value else "false"
        elif isinstance(value, ast.Number):
            options[key] = str(value.value)
        elif isinstance(value, ast.Name):
            options[key] = value.name
    return CatalogQuery(
        provider=reader.get(section, "provider"),
        regions=reader.get(section, "regions") or (),
        families=reader.get(section, "families") or (),
        types=reader.get(section, "types") or (),
        arch=reader.get(section, "arch") or (),
        gpu_models=tuple(g.lower() for g in (reader.get(section, "gpus") or ())),
        options=options,
    )


# Source options naming files are relative to the .cap file that writes them, like imports
# and csv() tables, so a plan solves the same from any working directory.
_PATH_OPTIONS = frozenset({"file", "path"})


def _relative_to_plan(value: ast.String) -> str:
    path = Path(value.value).expanduser()
    origin = value.span.file
    if path.is_absolute() or origin.startswith("<"):
        return str(path)
    return str(Path(origin).parent / path)


_KNOWN = re.compile(r"\(known: ([^)]*)\)")


def source_span(section: Section) -> Span:
    label = section.labels[-1] if section.labels else None
    return label.span if label is not None else section.kind_span


def fetch(
    section: Section, source: str, query: CatalogQuery, resolve: CatalogResolver
) -> tuple[PriceTable | None, list[Diagnostic]]:
    """Ask the resolver; unknown sources and source failures become diagnostics at ``from``."""
    span = source_span(section)
    try:
        return resolve(source, query), []
    except LookupError as exc:
        if type(exc) is not LookupError:  # a KeyError/IndexError inside a source is a crash
            return None, [crashed(source, span, exc)]
        message = str(exc.args[0]) if exc.args else str(exc)
        known = _KNOWN.search(message)
        names = [n.strip() for n in known.group(1).split(",")] if known else []
        names = [n for n in names if n and n != "none"]
        help_text = did_you_mean(source, names)
        if help_text is None:
            help_text = (
                f"known sources: {', '.join(names)}"
                if names
                else "install a pricing plugin (`capdsl plugins --all`)"
            )
        return None, [
            error(
                "E0312",
                f"unknown pricing source `{source}`",
                span,
                label="no such source",
                help=help_text,
            )
        ]
    except PricingError as exc:
        # Sources classify their failures (E05xx codes owned by capdsl.pricing).
        message = str(exc).rstrip(".")
        if not message.startswith("pricing source"):
            message = f"pricing source `{source}` failed: {message}"
        return None, [
            error(
                getattr(exc, "code", None) or "E0500",
                message,
                span,
                label="while fetching this catalog",
                help=getattr(exc, "help", None)
                or "try again, or use the `bundled` source to work offline",
            )
        ]
    except Exception as exc:  # a resolver that is not guarded (tests, embedding code)
        return None, [crashed(source, span, exc)]


def crashed(source: str, span: Span, exc: Exception) -> Diagnostic:
    return error(
        "E0504",
        f"pricing source `{source}` crashed: {type(exc).__name__}: {exc}",
        span,
        label="while fetching this catalog",
        help="report it to the source's authors",
    )


# --------------------------------------------------------------------------- inline


def inline_offering(catalog: str, section: Section, reader: Reader) -> Offering | None:
    name = section.name or ""
    region = reader.get(section, "region")
    vcpu = reader.get(section, "vcpu")
    memory = reader.get(section, "memory")
    if region is None or vcpu is None or memory is None:
        return None
    zones = tuple(reader.get(section, "zones") or ())
    spot = reader.get(section, "spot")
    interruption = reader.get(section, "spot_interruption")
    return Offering(
        provider=catalog,
        region=region,
        instance_type=name,
        zones=zones,
        vcpu=vcpu,
        memory_gib=memory,
        arch=reader.get(section, "arch") or "x86_64",
        gpu_model=(reader.get(section, "gpu") or "").lower() or None,
        gpu_count=reader.get(section, "gpu_count") or 0,
        gpu_memory_gib=reader.get(section, "gpu_memory") or 0,
        family=reader.get(section, "family") or name.split(".")[0],
        on_demand_hourly=reader.get(section, "on_demand"),
        spot_hourly={z: spot for z in (zones or (region,))} if spot is not None else {},
        spot_interruption=interruption * 100 if interruption is not None else None,
        reserved=tuple(
            r for r in (reserved_price(s, reader) for s in section.all("reserved")) if r
        ),
        source="inline",
    )


def reserved_price(section: Section, reader: Reader) -> ReservedPrice | None:
    term = reader.get(section, "term")
    payment = reader.get(section, "payment")
    if term is None or payment is None:
        return None
    return ReservedPrice(
        term_months=term,
        payment=payment,
        upfront=reader.get(section, "upfront") or ZERO,
        hourly=reader.get(section, "hourly") or ZERO,
        offering_class=reader.get(section, "class") or "standard",
    )


# --------------------------------------------------------------------------- prices


def matches_type(glob: str, offering: Offering) -> bool:
    return fnmatch.fnmatchcase(offering.instance_type, glob) or fnmatch.fnmatchcase(
        offering.family, glob
    )


def apply_prices(
    catalog: str, offering: Offering, section: Section, reader: Reader
) -> tuple[Offering, tuple[str, ...], str | None]:
    """The offering with the catalog's overrides applied (``pricing.catalog.apply_overrides``:
    the catalog discount, then each matching ``price`` block in order, discounts compounding,
    negotiated rates taken as they are), the notes, and an error message if one is invalid."""
    notes: list[str] = []
    try:
        discount = reader.get(section, "discount")
        if discount:
            offering, changed = apply_overrides(offering, discount=discount)
            notes += [f"{n} (catalog `{catalog}`)" for n in changed]
        for p in section.all("price"):
            if p.name is None or not matches_type(p.name, offering):
                continue
            reserved = [r for r in (reserved_price(s, reader) for s in p.all("reserved")) if r]
            offering, changed = apply_overrides(
                offering,
                discount=reader.get(p, "discount"),
                on_demand=reader.get(p, "on_demand"),
                spot=reader.get(p, "spot"),
                reserved=reserved or None,
            )
            notes += [f"{n} (price `{p.name}`)" for n in changed]
    except ValueError as exc:
        return offering, tuple(notes), str(exc)
    return offering, tuple(notes), None


# --------------------------------------------------------------------------- loading


def load_catalog(
    section: Section, reader: Reader, resolve: CatalogResolver, *, today: dt.date
) -> tuple[Catalog, list[Diagnostic]]:
    name = section.name or ""
    source = section.labels[2].value if len(section.labels) == 3 else None  # type: ignore[union-attr]
    catalog = Catalog(name, section, source)
    diags: list[Diagnostic] = []
    zones_allowed = set(reader.get(section, "zones") or ())
    raw: list[Offering] = []
    if source is not None:
        if section.all("offering"):
            diags.append(
                error(
                    "E0405",
                    f"catalog `{name}` reads from `{source}` and declares inline offerings",
                    section.all("offering")[0].kind_span,
                    help="put inline offerings in a catalog without `from`",
                )
            )
        table, problems = fetch(section, source, catalog_query(section, reader), resolve)
        diags += problems
        if table is None:
            catalog.failed = True
            return catalog, diags
        raw = list(table.offerings)
        catalog.stamps = list(table.stamps)
        diags += [
            warning("W0050", f"pricing source `{source}`: {w.rstrip('.')}", source_span(section))
            for w in table.warnings
        ]
        diags += [
            Diagnostic(
                Level.NOTE,
                "W0051",
                f"pricing source `{source}`: {n.rstrip('.')}",
                source_span(section),
            )
            for n in table.notes
        ]
    else:
        raw = [o for o in (inline_offering(name, s, reader) for s in section.all("offering")) if o]
        if raw:
            catalog.stamps = [
                SourceStamp(source="inline", provider=name, as_of=today, origin=section.span.file)
            ]
    for o in raw:
        if zones_allowed:
            zones = tuple(z for z in o.zone_list() if z in zones_allowed)
            if not zones:
                continue
            o = o.model_copy(
                update={
                    "zones": zones,
                    "spot_hourly": {z: p for z, p in o.spot_hourly.items() if z in zones},
                }
            )
        priced, notes, problem = apply_prices(name, o, section, reader)
        if problem is not None:
            diags.append(
                error("E0402", f"price override of catalog `{name}`: {problem}", section.kind_span)
            )
            catalog.failed = True
            return catalog, diags
        catalog.offerings.append(
            PlanOffering(
                id=offering_id(name, priced), catalog=name, offering=priced, price_notes=notes
            )
        )
    if not catalog.offerings:
        catalog.failed = True
        if not any(d.is_error for d in diags):
            culprit = None
            if source is not None:
                culprit = empty_filter(section, source, catalog_query(section, reader), resolve)
            diags.append(culprit or empty_catalog(section, source))
    diags += unused_prices(catalog, section)
    return catalog, diags


# A catalog filter, the CatalogQuery field it sets, and what it is called in messages.
_FILTERS = (
    ("provider", "provider", "provider"),
    ("regions", "regions", "region"),
    ("families", "families", "family"),
    ("types", "types", "instance type"),
    ("arch", "arch", "architecture"),
    ("gpus", "gpu_models", "GPU model"),
)


def _values(offerings: list[Offering], attr: str) -> list[str]:
    pick = {
        "provider": lambda o: [o.provider],
        "regions": lambda o: [o.region],
        "families": lambda o: [o.family, o.instance_type],
        "types": lambda o: [o.instance_type],
        "arch": lambda o: [o.arch],
        "gpu_models": lambda o: [o.gpu_model or ""],
    }[attr]
    return sorted({v for o in offerings for v in pick(o) if v})


def empty_filter(
    section: Section, source: str, query: CatalogQuery, resolve: CatalogResolver
) -> Diagnostic | None:
    """Which filter of a catalog that matches nothing excludes everything: re-ask the source
    with that one filter dropped; name the values that match nothing, with did-you-mean."""
    for key, attr, what in _FILTERS:
        value = getattr(query, attr)
        if not value or key not in section.entries:
            continue
        try:
            table = resolve(
                source, query.model_copy(update={attr: None if attr == "provider" else ()})
            )
        except (LookupError, PricingError):
            return None
        if not table.offerings:
            continue
        known = _values(table.offerings, attr)
        wanted = [value] if isinstance(value, str) else list(value)
        missing = [v for v in wanted if not any(fnmatch.fnmatchcase(k, v) for k in known)]
        hints = [h for h in (did_you_mean(v, known) for v in missing) if h]
        shown = ", ".join(f"`{v}`" for v in missing or wanted)
        return error(
            "E0316",
            f"catalog `{section.name}`: no offering of `{source}` has {what} {shown}",
            section.entries[key].value_span,
            label="matches nothing here",
            help=hints[0] if hints else f"`capdsl catalog --source {source}` lists what it has",
        )
    return None


def empty_catalog(section: Section, source: str | None) -> Diagnostic:
    if source is None:
        return error(
            "E0316",
            f"catalog `{section.name}` has no offerings",
            section.kind_span,
            help='add `offering "TYPE" { ... }` blocks, or read a source: `catalog NAME from "bundled" { ... }`',
        )
    return error(
        "E0316",
        f"catalog `{section.name}` matches no offering of `{source}`",
        section.kind_span,
        label="its filters exclude everything",
        help="check `provider`, `regions`, `families`, `types`, `arch`, `gpus` and `zones` (`capdsl catalog` lists what a source has)",
    )


def unused_prices(catalog: Catalog, section: Section) -> list[Diagnostic]:
    out = []
    for p in section.all("price"):
        if p.name and not any(matches_type(p.name, o.offering) for o in catalog.offerings):
            out.append(
                error(
                    "E0307",
                    f"`{p.name}` matches no offering of catalog `{catalog.name}`",
                    p.labels[0].span if p.labels else p.kind_span,
                    label="no instance type matches",
                    help=did_you_mean(p.name, glob_candidates(catalog, with_catalog=False)),
                )
            )
    return out


# --------------------------------------------------------------------------- references


def glob_candidates(catalog: Catalog, *, with_catalog: bool = True) -> list[str]:
    prefix = f"{catalog.name}." if with_catalog else ""
    out = [f"{prefix}{f}.*" for f in catalog.families()]
    out += [f"{prefix}{t}" for t in catalog.types()]
    return out


def split_ref(label: ast.Path | ast.String | ast.Name) -> tuple[str, str]:
    """``aws.c7g.*`` -> (``aws``, ``c7g.*``); ``aws`` -> (``aws``, ``*``)."""
    if isinstance(label, ast.Path):
        return label.parts[0], ".".join(label.parts[1:]) or "*"
    text = label.value if isinstance(label, ast.String) else label.name
    head, _, rest = text.partition(".")
    return head, rest or "*"


def ref_text(label: ast.Path | ast.String | ast.Name) -> str:
    if isinstance(label, ast.Path):
        return label.text
    return label.value if isinstance(label, ast.String) else label.name


def resolve_glob(
    label: ast.Path | ast.String | ast.Name, catalogs: Mapping[str, Catalog]
) -> tuple[list[PlanOffering], Diagnostic | None]:
    """The offerings a reference like ``aws.c7g.*`` names, or a diagnostic."""
    cat_name, glob = split_ref(label)
    text = ref_text(label)
    catalog = catalogs.get(cat_name)
    if catalog is None:
        return [], error(
            "E0315",
            f"unknown catalog `{cat_name}` in `{text}`",
            label.span,
            label="no catalog of that name",
            help=did_you_mean(cat_name, catalogs)
            or (
                f"catalogs: {', '.join(sorted(catalogs))}"
                if catalogs
                else 'declare it: `catalog NAME from "bundled" { ... }`'
            ),
        )
    found = [o for o in catalog.offerings if fnmatch.fnmatchcase(o.offering.instance_type, glob)]
    if found or catalog.failed:
        return found, None
    suggestion = did_you_mean(text, glob_candidates(catalog))
    return [], error(
        "E0307",
        f"`{text}` matches no offering of catalog `{catalog.name}`",
        label.span,
        label="matches nothing",
        help=suggestion
        or f"catalog `{catalog.name}` has families {', '.join(catalog.families()[:12])}",
    )
