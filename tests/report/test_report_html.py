"""``capdsl report -o report.html`` and ``solve --format html``: one self-contained file."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from types import ModuleType
from typing import ClassVar

import pytest

from capdsl.model.plan import Plan
from capdsl.report import render_report, render_solutions
from capdsl.report.charts import cost_chart
from capdsl.report.content import build_document
from capdsl.report.facts import Result
from capdsl.report.fmt import money
from capdsl.report.html import render_html
from capdsl.solve.solution import Solution

Results = list[tuple[Plan, Solution]]


class _Structure(HTMLParser):
    """Collects what a self-contained page must not have, and checks tags are balanced."""

    VOID: ClassVar[set[str]] = {
        "meta",
        "br",
        "img",
        "hr",
        "input",
        "link",
        "col",
        "area",
        "base",
        "source",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.external: list[str] = []
        self.tags: Counter[str] = Counter()
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(f"<{tag} {name}={value}>")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()


@pytest.fixture(scope="module")
def report(f: ModuleType) -> str:
    return render_report(f.make_scenarios(), "html")


@pytest.fixture(scope="module")
def single(f: ModuleType) -> str:
    plan = f.make_plan()
    return render_report([(plan, f.make_solution(plan))], "html")


def _parse(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser


def test_self_contained(single: str, report: str) -> None:
    for html in (single, report):
        assert html.startswith("<!DOCTYPE html>")
        assert "http://" not in html and "https://" not in html
        assert "<script" not in html and "<link" not in html and "@import" not in html
        assert not re.search(r"url\((?!#)", html)
        structure = _parse(html)
        assert structure.external == []
        assert structure.errors == [] and structure.stack == []
        assert structure.tags["style"] >= 1


def test_charts_are_inline_svg(single: str) -> None:
    assert single.count("<svg") == 5  # cost, capacity x2 workloads, mix, savings
    assert "<?xml" not in single and "<metadata" not in single and "<!--" not in single
    assert 'aria-label="recs: capacity vs demand"' in single


def test_svg_ids_are_unique_and_references_resolve(report: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', report)
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert dupes == []
    refs = set(re.findall(r'href="#([^"]+)"', report)) | set(re.findall(r"url\(#([^)]+)\)", report))
    assert refs and refs <= set(ids)


def test_report_sections(single: str) -> None:
    for heading in (
        "Summary",
        "Cost per month",
        "Capacity vs demand",
        "Purchase mix over time",
        "Savings vs all on-demand",
        "Purchase schedule",
        "Binding constraints",
        "Price sources",
    ):
        assert f">{heading}</h2>" in single, heading
    assert "VERIFIED" in single and "NOT VERIFIED" not in single
    assert "2026-07-20" in single  # price source as_of
    assert "N+1 after losing us-east-1a" in single
    assert "◀ capacity cliff" in single and '<tr class="mark">' in single
    # a report lists no individual allocations; solve --format html does
    assert ">Allocations</h2>" not in single


def test_cumulative_cost_at_6_12_18_24_months(f: ModuleType) -> None:
    plan = f.make_plan(horizon=24)
    r = Result(plan, f.make_solution(plan))
    html = render_html(build_document([(plan, r.solution)], charts=False, detail=False))
    for months, label in ((6, "2027-06"), (12, "2027-12"), (18, "2028-06"), (24, "2028-12")):
        assert f"<td>first {months} months</td><td>{label}</td>" in html
    svg = cost_chart(r)  # the same marks on the cost chart
    for m in r.milestones():
        assert f"{m.months} mo: {money(m.cost)}" in svg


def test_scenario_comparison(report: str) -> None:
    assert ">Scenario comparison</h2>" in report
    assert "Scenario: moderate (plan for)" in report
    # the plan-for scenario comes first, then the others in order
    assert (
        report.index("Scenario: moderate")
        < report.index("Scenario: base")
        < report.index("Scenario: aggressive")
    )
    assert "Contingency cost of " in report and "<strong>aggressive</strong>" in report
    assert ">Cost delta per month</h3>" in report
    assert 'aria-label="Cost per month by scenario"' in report


def test_deterministic(f: ModuleType, single: str) -> None:
    plan = f.make_plan()
    assert render_report([(plan, f.make_solution(plan))], "html") == single


def test_plan_text_is_escaped(f: ModuleType) -> None:
    plan = f.make_plan()
    sol = f.make_solution(plan)
    sol = sol.model_copy(
        update={
            "binding": [
                sol.binding[0].model_copy(update={"text": "<script>alert(1)</script> & more"})
            ]
        }
    )
    html = render_html(build_document([(plan, sol)], charts=False, detail=False))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_solve_html_lists_allocations(one: Results) -> None:
    html = render_solutions(one, "html")
    assert ">Allocations</h2>" in html and "<svg" in html


def test_infeasible_and_failed_render_their_diagnostics(
    infeasible: Results, failed: Results
) -> None:
    html = render_report(infeasible, "html")
    assert "INFEASIBLE" in html and "NOT VERIFIED" in html
    assert "error[E0410]: monthly budget of $6,000 cannot carry recs" in html
    assert "help: raise the budget" in html
    assert "<svg" not in html
    html = render_report(failed, "html")
    assert "ERROR" in html and "NOT VERIFIED" in html and "Verification failures" in html
    assert "recs short by 120 prediction/s" in html
    assert ">Purchase schedule<" not in html  # a rejected plan is never shown


def test_unverified_plan_is_flagged(f: ModuleType) -> None:
    plan = f.make_plan()
    html = render_html(
        build_document([(plan, f.make_solution(plan, verified=False))], charts=False, detail=False)
    )
    assert "NOT VERIFIED — do not act on this plan" in html
