"""Parsers for AWS's own price formats (no network here).

- The regional **bulk offer file** (``/offers/v1.0/aws/AmazonEC2/<version>/<region>/index.json``):
  ``{formatVersion, offerCode, version, publicationDate, products: {sku: product},
  terms: {OnDemand: {sku: {code: term}}, Reserved: {sku: {code: term}}}}``. Real files are
  gigabytes, so ``iter_offer_file`` streams them: it walks the top-level object by hand and
  decodes one product / one SKU's terms at a time with ``json.JSONDecoder.raw_decode``.
- A **GetProducts** response (``{"PriceList": [<record as JSON text or object>, ...]}``) or a
  single record ``{product, serviceCode, terms, version, publicationDate}``: the same
  ``product`` / ``terms`` shapes, one SKU per record.
- ``region_index.json``: region code -> current offer file URL.
- **Spot Advisor** data (``spot-advisor-data.json``): savings % and interruption bucket.
- **DescribeSpotPriceHistory** output: spot price per AZ (the newest per AZ wins).

Which products become offerings: ``productFamily`` "Compute Instance" (or "... (bare metal)"),
Linux, shared tenancy (dedicated for bare metal, as AWS prices them), no pre-installed
software, capacity status "Used", operation exactly ``RunInstances`` (so capacity blocks,
``RunInstances:CB``, and licensed variants are excluded).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from capdsl.pricing.catalog import ReservedPrice
from capdsl.pricing.sourcekit import clean_decimal

PAYMENT = {
    "No Upfront": "no_upfront",
    "Partial Upfront": "partial_upfront",
    "All Upfront": "all_upfront",
}
TERM = {"1yr": 12, "3yr": 36, "1 yr": 12, "3 yr": 36}
INTERRUPTION_BOUND = {0: 5.0, 1: 10.0, 2: 15.0, 3: 20.0, 4: 100.0}
_WS = " \t\r\n"


class OfferFormatError(ValueError):
    """The document is not in an AWS price format we know."""


# --------------------------------------------------------------------------- streaming


def iter_offer_file(fh: IO[str], chunk_size: int = 1 << 20) -> Iterator[tuple[str, str, Any]]:
    """Stream a bulk offer file: yields ``("meta", key, value)`` for top-level scalars,
    ``("product", sku, product)`` and ``("terms:<Type>", sku, {code: term})``.

    Memory stays at one entry plus one chunk, whatever the file size.
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        data = fh.read(chunk_size)
        if not data:
            eof = True
            return False
        buf = buf[pos:] + data
        pos = 0
        return True

    def skip_ws() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf) or not fill():
                return

    def peek() -> str:
        skip_ws()
        if pos >= len(buf):
            raise OfferFormatError("unexpected end of the offer file")
        return buf[pos]

    def expect(char: str) -> None:
        nonlocal pos
        if peek() != char:
            raise OfferFormatError(f"expected `{char}` at offset {pos}, found `{buf[pos]}`")
        pos += 1

    def value() -> Any:
        nonlocal pos
        skip_ws()
        while True:
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                if not fill():
                    raise
                continue
            # a number at the end of the buffer may continue in the next chunk
            if end == len(buf) and not eof and fill():
                continue
            pos = end
            return obj

    def members() -> Iterator[str]:
        """Keys of the object whose ``{`` comes next; the caller consumes each value."""
        nonlocal pos
        expect("{")
        first = True
        while True:
            c = peek()
            if c == "}":
                pos += 1
                return
            if not first:
                expect(",")
            first = False
            key = value()
            if not isinstance(key, str):
                raise OfferFormatError("object key is not a string")
            expect(":")
            yield key

    for top in members():
        if top == "products":
            for sku in members():
                yield "product", sku, value()
        elif top == "terms":
            for term_type in members():
                for sku in members():
                    yield f"terms:{term_type}", sku, value()
        else:
            yield "meta", top, value()


# --------------------------------------------------------------------------- records


@dataclass
class SkuPrices:
    """One product (SKU) with its on-demand rate and reserved options."""

    sku: str
    attributes: dict[str, str]
    on_demand: Decimal | None = None
    currency: str = "USD"
    reserved: list[ReservedPrice] = field(default_factory=list)


@dataclass
class OfferPrices:
    """Everything a price document says about instances: per region, per instance type."""

    by_sku: dict[str, SkuPrices] = field(default_factory=dict)
    publication: str | None = None
    version: str | None = None
    skipped_products: int = 0


def is_instance_product(product: dict[str, Any]) -> bool:
    attrs = product.get("attributes") or {}
    family = product.get("productFamily", "")
    if family not in ("Compute Instance", "Compute Instance (bare metal)"):
        return False
    tenancy_ok = attrs.get("tenancy") == "Shared" or (
        family == "Compute Instance (bare metal)" and attrs.get("tenancy") == "Dedicated"
    )
    return bool(
        attrs.get("instanceType")
        and attrs.get("operatingSystem") == "Linux"
        and tenancy_ok
        and attrs.get("preInstalledSw", "NA") == "NA"
        and attrs.get("capacitystatus", "Used") == "Used"
        and attrs.get("operation", "RunInstances") == "RunInstances"
        and attrs.get("marketoption", "OnDemand") == "OnDemand"
    )


def _money(dim: dict[str, Any]) -> tuple[Decimal, str] | None:
    for currency, text in (dim.get("pricePerUnit") or {}).items():
        try:
            return clean_decimal(Decimal(str(text))), currency
        except InvalidOperation:
            return None
    return None


def apply_terms(target: SkuPrices, term_type: str, terms: dict[str, Any]) -> None:
    """Fold the OnDemand / Reserved terms of one SKU into ``target``."""
    for term in terms.values():
        dims = list((term.get("priceDimensions") or {}).values())
        if term_type == "OnDemand":
            for dim in dims:
                # hourly only: a "Quantity" dimension is not an on-demand rate (the opencost
                # us-east-2 fixture has a crafted OnDemand term with a 1161 USD fee)
                if dim.get("unit") in ("Hrs", "Hours") and (m := _money(dim)):
                    target.on_demand, target.currency = m
        elif term_type == "Reserved":
            attrs = term.get("termAttributes") or {}
            months = TERM.get(attrs.get("LeaseContractLength", ""))
            payment = PAYMENT.get(attrs.get("PurchaseOption", ""))
            klass = (attrs.get("OfferingClass") or "standard").lower()
            if months is None or payment is None or klass not in ("standard", "convertible"):
                continue
            upfront = hourly = Decimal(0)
            for dim in dims:
                m = _money(dim)
                if m is None:
                    continue
                if dim.get("unit") == "Quantity":
                    upfront = m[0]
                elif dim.get("unit") in ("Hrs", "Hours"):
                    hourly = m[0]
            target.reserved.append(
                ReservedPrice(
                    term_months=months,
                    payment=payment,  # type: ignore[arg-type]
                    upfront=upfront,
                    hourly=hourly,
                    offering_class=klass,  # type: ignore[arg-type]
                )
            )


def read_offer_stream(entries: Iterable[tuple[str, str, Any]]) -> OfferPrices:
    """Fold ``iter_offer_file`` output (products come before terms in AWS's files)."""
    out = OfferPrices()
    for kind, key, value in entries:
        if kind == "meta":
            if key == "publicationDate":
                out.publication = str(value)
            elif key == "version":
                out.version = str(value)
        elif kind == "product":
            if is_instance_product(value):
                out.by_sku[key] = SkuPrices(key, dict(value["attributes"]))
            else:
                out.skipped_products += 1
        elif kind.startswith("terms:") and key in out.by_sku:
            apply_terms(out.by_sku[key], kind.split(":", 1)[1], value)
    return out


def read_records(records: Iterable[dict[str, Any]]) -> OfferPrices:
    """GetProducts records: ``{product, terms: {OnDemand, Reserved}, publicationDate}``."""
    out = OfferPrices()
    for rec in records:
        product = rec.get("product") or {}
        sku = product.get("sku") or ""
        if not is_instance_product(product):
            out.skipped_products += 1
            continue
        target = out.by_sku.setdefault(sku, SkuPrices(sku, dict(product["attributes"])))
        for term_type, by_code in (rec.get("terms") or {}).items():
            apply_terms(target, term_type, by_code)
        if rec.get("publicationDate"):
            out.publication = max(out.publication or "", str(rec["publicationDate"]))
        if rec.get("version"):
            out.version = str(rec["version"])
    return out


def read_document(doc: Any) -> OfferPrices:
    """Any of the JSON shapes above, already parsed (small files)."""
    if isinstance(doc, dict) and "products" in doc and "terms" in doc:

        def entries() -> Iterator[tuple[str, str, Any]]:
            for k, v in doc.items():
                if k not in ("products", "terms"):
                    yield "meta", k, v
            for sku, p in doc["products"].items():
                yield "product", sku, p
            for term_type, by_sku in doc["terms"].items():
                for sku, terms in by_sku.items():
                    yield f"terms:{term_type}", sku, terms

        return read_offer_stream(entries())
    if isinstance(doc, dict) and "PriceList" in doc:
        records = [json.loads(r) if isinstance(r, str) else r for r in doc["PriceList"]]
        return read_records(records)
    if isinstance(doc, dict) and "product" in doc and "terms" in doc:
        return read_records([doc])
    if isinstance(doc, list) and all(isinstance(r, dict) and "product" in r for r in doc):
        return read_records(doc)
    raise OfferFormatError(
        "not an AWS Price List document (expected a bulk offer file, a GetProducts response "
        "or a Price List record)"
    )


# --------------------------------------------------------------------------- facts


def memory_gib(text: str | None) -> float | None:
    """``"8 GiB"`` / ``"1,152 GiB"`` -> 8.0."""
    if not text:
        return None
    m = re.match(r"^\s*([\d,.]+)\s*GiB", text)
    return float(m.group(1).replace(",", "")) if m else None


def arch_of(attrs: dict[str, str]) -> str:
    proc = attrs.get("physicalProcessor", "") + " " + attrs.get("processorArchitecture", "")
    return "arm64" if "Graviton" in proc or "arm" in proc.lower().split() else "x86_64"


# Price List ``location`` names of the commercial regions (GetProducts records carry only
# the name; bulk offer files also have ``regionCode``).
LOCATIONS = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "Africa (Cape Town)": "af-south-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Milan)": "eu-south-1",
    "EU (Paris)": "eu-west-3",
    "EU (Spain)": "eu-south-2",
    "EU (Stockholm)": "eu-north-1",
    "EU (Zurich)": "eu-central-2",
    "Israel (Tel Aviv)": "il-central-1",
    "Mexico (Central)": "mx-central-1",
    "Middle East (Bahrain)": "me-south-1",
    "Middle East (UAE)": "me-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
}


def region_of(attrs: dict[str, str], fallback: str | None = None) -> str | None:
    return attrs.get("regionCode") or LOCATIONS.get(attrs.get("location", "")) or fallback


def publication_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


# --------------------------------------------------------------------------- other documents


def region_index(doc: dict[str, Any]) -> dict[str, str]:
    """``region_index.json`` -> {region code: current offer file path}."""
    regions = doc.get("regions")
    if not isinstance(regions, dict):
        raise OfferFormatError("not a region_index.json document (no `regions` object)")
    return {
        code: entry["currentVersionUrl"]
        for code, entry in regions.items()
        if "currentVersionUrl" in entry
    }


@dataclass(frozen=True)
class AdvisorEntry:
    savings_pct: int
    interruption: float  # bucket upper bound, percent
    label: str


def spot_advisor(
    doc: dict[str, Any], region: str, os_name: str = "Linux"
) -> dict[str, AdvisorEntry]:
    """Spot Advisor data for one region: instance type -> savings and interruption bucket."""
    try:
        ranges = {int(r["index"]): r for r in doc["ranges"]}
        table = doc["spot_advisor"].get(region, {}).get(os_name, {})
    except (KeyError, TypeError, ValueError) as exc:
        raise OfferFormatError(f"not Spot Advisor data ({exc})") from exc
    out = {}
    for itype, entry in table.items():
        r = int(entry["r"])
        out[itype] = AdvisorEntry(
            int(entry["s"]), INTERRUPTION_BOUND.get(r, 100.0), ranges.get(r, {}).get("label", "")
        )
    return out


def spot_history(doc: dict[str, Any], product: str = "Linux/UNIX") -> dict[str, dict[str, Decimal]]:
    """DescribeSpotPriceHistory -> {instance type: {AZ: newest price}}."""
    rows = doc.get("SpotPriceHistory")
    if not isinstance(rows, list):
        raise OfferFormatError(
            "not a DescribeSpotPriceHistory response (no `SpotPriceHistory` list)"
        )
    newest: dict[tuple[str, str], tuple[str, Decimal]] = {}
    for row in rows:
        if row.get("ProductDescription") != product:
            continue
        key = (row["InstanceType"], row["AvailabilityZone"])
        stamp = str(row.get("Timestamp", ""))
        if key not in newest or stamp > newest[key][0]:
            newest[key] = (stamp, Decimal(str(row["SpotPrice"])))
    out: dict[str, dict[str, Decimal]] = {}
    for (itype, az), (_, price) in newest.items():
        out.setdefault(itype, {})[az] = price
    return out
