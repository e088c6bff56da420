"""A source's `file` option is relative to the .cap file that names it."""

from __future__ import annotations

from pathlib import Path

from capdsl.api import build_text
from capdsl.pricing.catalog import CatalogQuery, Offering, PriceTable, SourceStamp

PLAN = """\
unit request
plan "p" {
  start   = 2027-01
  horizon = 1 months
}
catalog dc from "book" {
  file = "prices/book.csv"
}
service web {
  unit     = request
  baseline = 10 request/s
  runs on dc.* {
    throughput = 100 request/s
  }
}
"""


def test_file_option_is_resolved_next_to_the_plan(tmp_path: Path, monkeypatch) -> None:
    seen: list[CatalogQuery] = []

    def resolve(name: str, query: CatalogQuery) -> PriceTable:
        seen.append(query)
        import datetime as dt
        from decimal import Decimal

        o = Offering(
            provider="dc",
            region="dc1",
            instance_type="box",
            vcpu=4,
            memory_gib=16,
            on_demand_hourly=Decimal("0.1"),
        )
        return PriceTable(
            offerings=[o],
            stamps=[
                SourceStamp(
                    source=name,
                    provider="dc",
                    as_of=dt.date(2026, 1, 1),
                    origin=query.options["file"],
                )
            ],
        )

    plan_dir = tmp_path / "plans"
    plan_dir.mkdir()
    monkeypatch.chdir(tmp_path)  # somewhere else than the plan's folder
    built = build_text(PLAN, str(plan_dir / "p.cap"), resolve=resolve)
    assert built.ok, built.diagnostics
    assert seen[0].options["file"] == str(plan_dir / "prices" / "book.csv")


def test_absolute_and_stdin_paths_are_kept(tmp_path: Path) -> None:
    seen: list[str] = []

    def resolve(name: str, query: CatalogQuery) -> PriceTable:
        seen.append(query.options["file"])
        raise LookupError("stop here")

    absolute = str(tmp_path / "book.csv")
    build_text(
        PLAN.replace('"prices/book.csv"', f'"{absolute}"'), str(tmp_path / "p.cap"), resolve=resolve
    )
    build_text(PLAN, "<stdin>", resolve=resolve)
    assert seen == [absolute, "prices/book.csv"]
