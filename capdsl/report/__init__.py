"""Every rendering of a solved plan: Solution -> table | json | csv | md | html (+ charts).

``render_solutions`` is ``capdsl solve --format ...``; ``render_report`` is ``capdsl report``.
Both return text (the CLI writes it). Heavy dependencies (rich, matplotlib) are imported
only by the format that needs them.

Walls: this package imports ``capdsl.solve.solution``, ``capdsl.model``,
``capdsl.lang.diagnostics`` and ``capdsl.pricing.catalog`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capdsl.model.plan import Plan
    from capdsl.solve.solution import Solution

__all__ = ["FORMATS", "REPORT_FORMATS", "render_report", "render_solutions"]

FORMATS = ("table", "json", "csv", "md", "html")
REPORT_FORMATS = ("html", "md")


def render_solutions(
    results: Sequence[tuple[Plan, Solution]], fmt: str, *, color: bool = False, width: int = 100
) -> str:
    """``capdsl solve --format FMT`` for one plan or several scenarios of it.

    ``table`` is the terminal view (ANSI colour only when ``color``; ``width`` columns);
    ``json`` the stable schema of ``docs/json-schema.md``; ``csv`` one row per allocation,
    purchase and owned reservation; ``md`` and ``html`` the planning report with every
    allocation listed (HTML with charts)."""
    results = list(results)
    if not results:
        raise ValueError("nothing to render: no results")
    if fmt == "table":
        from capdsl.report.table import render_table

        return render_table(results, color=color, width=width)
    if fmt == "json":
        from capdsl.report.json_out import render_json

        return render_json(results)
    if fmt == "csv":
        from capdsl.report.csv_out import render_csv

        return render_csv(results)
    if fmt in REPORT_FORMATS:
        return _document(results, fmt, detail=True)
    raise ValueError(f"unknown format `{fmt}` (expected one of {', '.join(FORMATS)})")


def render_report(results: Sequence[tuple[Plan, Solution]], fmt: str) -> str:
    """``capdsl report``: cost per month and at 6/12/18/24 months, capacity vs demand with
    the capacity cliff, purchase mix, savings, binding constraints, purchase schedule,
    scenario comparison and price sources. ``html`` is one self-contained file with inline
    SVG charts; ``md`` has the same content with tables in place of charts."""
    results = list(results)
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"unknown report format `{fmt}` (expected html or md)")
    return _document(results, fmt, detail=False)


def _document(results: list[tuple[Plan, Solution]], fmt: str, *, detail: bool) -> str:
    from capdsl.report.content import build_document

    doc = build_document(results, charts=fmt == "html", detail=detail)
    if fmt == "html":
        from capdsl.report.html import render_html

        return render_html(doc)
    from capdsl.report.markdown import render_markdown

    return render_markdown(doc)
