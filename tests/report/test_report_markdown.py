"""``capdsl report --format md`` and ``solve --format md``: the report as Markdown tables."""

from __future__ import annotations

import re
from types import ModuleType

from capdsl.model.plan import Plan
from capdsl.report import render_report, render_solutions
from capdsl.report.fmt import money, signed_money
from capdsl.report.markdown import escape
from capdsl.solve.solution import Solution

Results = list[tuple[Plan, Solution]]


def _headings(md: str) -> list[str]:
    return re.findall(r"^#{1,6} (.+)$", md, flags=re.M)


def test_sections(one: Results) -> None:
    md = render_report(one, "md")
    assert md.startswith("# Capacity plan: shop\n")
    assert _headings(md) == [
        "Capacity plan: shop",
        "Summary",
        "Cost per month",
        "Capacity vs demand",
        "recs",
        "etl",
        "Purchase mix over time",
        "Savings vs all on-demand",
        "Purchase schedule",
        "Reservations already owned",
        "Binding constraints",
        "Why not the alternatives",
        "Workloads",
        "Price sources",
        "Diagnostics",
        "Solver",
    ]
    assert "**OPTIMAL** · **VERIFIED**" in md


def test_tables_carry_the_numbers_instead_of_charts(one: Results) -> None:
    md = render_report(one, "md")
    assert "<svg" not in md and "data:image" not in md
    _plan, sol = one[0]
    # cost per month table, one row per month, totals as in the solution
    for mc in sol.months:
        assert re.search(rf"^\| {mc.month} \| \$[\d,.]+ \|", md, flags=re.M), mc.month
    # capacity vs demand with the cliff month marked
    assert "| **2027-02** |" in md and "◀ capacity cliff" in md
    # purchase schedule with order-by, offering, zone, term, payment, count
    assert (
        "| 2027-01 | 2027-02 | aws.c7g.2xlarge@us-east-1 | us-east-1a | 3y | all upfront | 1 | $3,504 |"
        in md
    )
    assert "| bundled | aws | 2026-07-20 |" in md


def test_tables_are_well_formed(one: Results) -> None:
    md = render_report(one, "md")
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        lines = block.strip("\n").split("\n")
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(widths) == 1, lines[:3]
        assert re.fullmatch(r"\|(?:---:?\|)+", lines[1])


def test_solve_md_adds_allocations(one: Results) -> None:
    md = render_solutions(one, "md")
    assert "## Allocations" in md
    _plan, sol = one[0]
    allocation_rows = re.findall(
        r"^\| 20\d\d-\d\d \| \d+ (?:daytime peak|night) \|", md, flags=re.M
    )
    assert len(allocation_rows) == len(sol.allocations)


def test_scenarios(scenarios: Results) -> None:
    md = render_report(scenarios, "md")
    heads = _headings(md)
    assert heads[1] == "Scenario comparison"
    assert [h for h in heads if h.startswith("Scenario: ")] == [
        "Scenario: moderate (plan for)",
        "Scenario: base",
        "Scenario: aggressive",
    ]
    cost = {p.scenario: s.totals.cost for p, s in scenarios if s.totals}
    assert f"Plan for **moderate**: **{money(cost['moderate'])}** over 3 months." in md
    up = cost["aggressive"] - cost["moderate"]
    assert (
        f"Contingency cost of **aggressive**: **{signed_money(up)} ({up / cost['moderate'] * 100:+.1f}%)** "
        f"(total {money(cost['aggressive'])})." in md
    )
    down = cost["moderate"] - cost[None]
    assert f"**base** costs **{money(down)} less ({-down / cost['moderate'] * 100:+.1f}%)**" in md
    assert "| month | moderate | base Δ | aggressive Δ |" in md


def test_infeasible(infeasible: Results) -> None:
    md = render_report(infeasible, "md")
    assert "**INFEASIBLE** · **NOT VERIFIED**" in md
    assert (
        "```text\nerror[E0410]: monthly budget of $6,000 cannot carry recs in 2027-03 with N+1"
        in md
    )
    assert "--> shop.cap:31:1" in md
    assert "## Summary" not in md


def test_escaping() -> None:
    assert escape("aws.c7g.* | x") == "aws.c7g.\\* | x"
    assert escape("no_upfront") == "no_upfront"  # intra-word underscores are literal
    assert escape("_x_") == "\\_x\\_"
    assert escape("<b>") == "\\<b\\>"


def test_deterministic(f: ModuleType) -> None:
    assert render_report(f.make_scenarios(), "md") == render_report(f.make_scenarios(), "md")
