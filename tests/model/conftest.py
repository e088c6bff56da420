"""Model test helpers: a fake pricing resolver over handmade offerings, and plan builders."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pytest

from capdsl.lang import parse_file
from capdsl.lang.diagnostics import Diagnostic, has_errors
from capdsl.model import build
from capdsl.model.plan import Plan
from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, PricingError, SourceStamp

MODEL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "model"
PLANS = MODEL_FIXTURES / "plans"


@lru_cache(maxsize=1)
def fixture_offerings() -> tuple[Offering, ...]:
    doc = json.loads((MODEL_FIXTURES / "offerings.json").read_text(encoding="utf-8"))
    return tuple(Offering.model_validate(row) for row in doc["offerings"])


STAMP = SourceStamp(
    source="fixture",
    provider="aws",
    as_of="2026-07-20",
    origin="tests/fixtures/model/offerings.json",
)


def fake_resolve(source: str, query: CatalogQuery) -> PriceTable:
    """Like api.catalog_resolver: LookupError for unknown sources (message lists known ones)."""
    if source == "broken":
        raise PricingError("HTTP 503 from the price API")
    if source != "fixture":
        raise LookupError(f"unknown pricing source `{source}` (known: broken, fixture)")
    rows = [o for o in fixture_offerings() if query.matches(o)]
    return PriceTable(offerings=rows, stamps=[STAMP])


BuildFn = Callable[..., tuple[Plan | None, list[Diagnostic]]]


def build_text(
    text: str, tmp_path: Path | None = None, *, scenario: str | None = None, **kw: object
) -> tuple[Plan | None, list[Diagnostic]]:
    """Parse and build plan text (written to ``tmp_path`` when given, for csv/imports)."""
    path = "<string>"
    if tmp_path is not None:
        file = tmp_path / "plan.cap"
        file.write_text(text, encoding="utf-8")
        path = str(file)
    parsed = parse_file(path, text=text)
    if has_errors(parsed.diagnostics):
        return None, list(parsed.diagnostics)
    return build(parsed, resolve=fake_resolve, scenario=scenario, **kw)  # type: ignore[arg-type]


def build_path(path: Path, *, scenario: str | None = None) -> tuple[Plan | None, list[Diagnostic]]:
    parsed = parse_file(str(path))
    if has_errors(parsed.diagnostics):
        return None, list(parsed.diagnostics)
    return build(parsed, resolve=fake_resolve, scenario=scenario)


@pytest.fixture
def build_plan() -> Callable[..., tuple[Plan | None, list[Diagnostic]]]:
    return build_text
