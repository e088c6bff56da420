"""``capdsl solve`` in the terminal (the default table format)."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from capdsl.model.plan import Plan
from capdsl.report import render_solutions
from capdsl.report.fmt import money, signed_money
from capdsl.solve.solution import Solution

Results = list[tuple[Plan, Solution]]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_header_totals_and_badge(one: Results) -> None:
    _, sol = one[0]
    assert sol.totals is not None and sol.objective is not None and sol.bound is not None
    out = render_solutions(one, "table")
    first = out.splitlines()[0]
    assert first.startswith("shop ─")
    assert "OPTIMAL" in out and "✔ VERIFIED" in out and "NOT VERIFIED" not in out
    assert (
        f"objective {money(sol.objective, cents=True)} · bound {money(sol.bound, cents=True)} · gap 0.05%"
        in out
    )
    assert f"cost over 3 months {money(sol.totals.cost)}" in out
    assert f"all on-demand {money(sol.totals.all_on_demand_cost)}" in out
    assert f"({sol.totals.savings_pct:.1f}%)" in out
    assert "committed beyond horizon" in out
    assert ANSI.search(out) is None


def test_purchase_schedule(one: Results) -> None:
    out = render_solutions(one, "table")
    assert "Buy (reservation schedule)" in out
    rows = [
        line.split()
        for line in out.splitlines()
        if re.match(r"20\d\d-\d\d {2,}20\d\d-\d\d {2,}aws", line)
    ]
    assert len(rows) == 4
    assert [
        "2026-12",
        "2027-01",
        "aws.c7g.2xlarge",
        "us-east-1a",
        "1y",
        "no",
        "upfront",
        "3",
        "$0.00",
        "$0.1830",
    ] in rows
    assert [
        "2027-01",
        "2027-02",
        "aws.c7g.2xlarge",
        "us-east-1b",
        "3y",
        "all",
        "upfront",
        "1",
        "$3,504",
        "$0.0000",
    ] in rows


def test_months_mix_cliff_binding_sources(one: Results) -> None:
    out = render_solutions(one, "table")
    assert "Cost by month" in out
    assert re.search(r"^2027-03 .* recs 8R 1OD 2S · etl 2S", out, flags=re.M)
    assert re.search(r"^2027-02 .* recs 12R · etl 2S", out, flags=re.M)
    assert re.search(r"^2027-02 ◀ .* recs 12R · etl 2S", out, flags=re.M)
    assert "◀ capacity cliff of today's fleet: recs 2027-02" in out
    assert "Binding constraints" in out and "N+1 after losing us-east-1a" in out
    assert "Why not" in out and "+$412.77/month" in out
    assert "prices: aws via bundled as of 2026-07-20" in out
    assert "warning[W0101]" in out


def test_fits_100_columns_and_one_screen_for_24_months(f: ModuleType) -> None:
    plan = f.make_plan(horizon=24)
    out = render_solutions([(plan, f.make_solution(plan))], "table")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(lines) <= 50
    assert "Cost by quarter" in out and "2027-01–03" in out and "2028-10–12" in out
    assert "12 mo $" in out and "24 mo $" in out


@pytest.mark.parametrize("width", [80, 120])
def test_width_is_respected(one: Results, width: int) -> None:
    out = render_solutions(one, "table", width=width)
    assert max(len(line) for line in out.splitlines()) <= width


@pytest.mark.parametrize("width", [100, 80, 60])
def test_totals_figures_are_never_split_across_lines(f: ModuleType, width: int) -> None:
    # six-figure totals (the budget-overrun example's) made the three columns wider than
    # 100: the grid wrapped "recurring" and its amount onto two lines
    from decimal import Decimal

    plan = f.make_plan()
    sol = f.make_solution(plan)
    assert sol.totals is not None
    totals = sol.totals.model_copy(
        update={
            "upfront": Decimal("467496"),
            "recurring": Decimal("80674"),
            "beyond_horizon": Decimal("294349"),
            "cost": Decimal("253821"),
            "all_on_demand_cost": Decimal("337078"),
        }
    )
    out = render_solutions(
        [(plan, sol.model_copy(update={"totals": totals}))], "table", width=width
    )
    lines = out.splitlines()
    figures = (
        "upfront $467,496 · recurring $80,674",
        "committed beyond horizon $294,349",
        "reserved used 97% · spot 12%",
        "cost over 3 months $253,821",
        "all on-demand $337,078",
    )
    for figure in figures:
        found = [line for line in lines if figure in line]
        assert found, (figure, out)
        assert len(found[0]) <= width
    if width == 100:  # still the two rows of three columns
        assert any(figures[0] in line and figures[2] in line for line in lines)


def test_color_only_when_asked(one: Results) -> None:
    plain = render_solutions(one, "table")
    colored = render_solutions(one, "table", color=True)
    assert ANSI.search(plain) is None and ANSI.search(colored) is not None
    assert ANSI.sub("", colored).split() == plain.split()


def test_not_verified_is_loud(f: ModuleType) -> None:
    plan = f.make_plan()
    out = render_solutions([(plan, f.make_solution(plan, verified=False))], "table")
    assert "✘ NOT VERIFIED — do not act on this plan" in out
    assert "✔ VERIFIED" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert re.search(
        r"^objective \$[\d,.]+ · bound", out, flags=re.M
    )  # facts move to their own line


def test_infeasible_renders_diagnostics(infeasible: Results) -> None:
    out = render_solutions(infeasible, "table")
    assert "INFEASIBLE" in out and "NOT VERIFIED" in out
    assert "no plan meets the monthly budget" in out
    assert "error[E0410]: monthly budget of $6,000 cannot carry recs in 2027-03 with N+1" in out
    assert "--> shop.cap:31:1" in out and "= help: raise the budget" in out
    assert "Buy" not in out


def test_failed_verification_renders_findings(failed: Results) -> None:
    out = render_solutions(failed, "table")
    assert "ERROR" in out and "NOT VERIFIED" in out
    assert "Verification failed" in out and "recs short by 120 prediction/s" in out
    assert "Buy" not in out and "Cost by month" not in out


def test_scenarios_compared_first(scenarios: Results) -> None:
    out = render_solutions(scenarios, "table")
    assert out.startswith("Scenarios")
    rows = {line.split()[0]: line for line in out.splitlines()[:8] if line.split()}
    assert "(reference)" in rows["moderate"]
    cost = {p.scenario: s.totals.cost for p, s in scenarios if s.totals}
    assert signed_money(cost["aggressive"] - cost["moderate"]) in rows["aggressive"]
    assert signed_money(cost[None] - cost["moderate"]) in rows["base"]
    assert rows["aggressive"].split()[4].startswith("+") and rows["base"].split()[4].startswith("-")
    titles = [line.split(" ─")[0] for line in out.splitlines() if line.startswith("shop")]
    assert titles == [
        "shop · scenario moderate (plan for)",
        "shop",
        "shop · scenario aggressive",
    ]


def test_unknown_format_is_an_error(one: Results) -> None:
    with pytest.raises(ValueError, match="unknown format `xml`"):
        render_solutions(one, "xml")
    with pytest.raises(ValueError, match="no results"):
        render_solutions([], "table")


def test_purchase_schedule_fits_100_columns_without_cutting_a_price(one: Results) -> None:
    """A price, a count or a payment is never wrapped or cut with an ellipsis, and the
    order-by column appears only when a lead time moves an order before its start."""
    out = render_solutions(one, "table")
    table = out[out.index("Buy (reservation schedule)") :].split("\n\n")[0]
    assert "…" not in table
    assert all(len(line) <= 100 for line in table.splitlines())
    assert "$0.1830" in table and "no upfront" in table
    header = next(line for line in table.splitlines() if "offering" in line)
    assert "order by" in header  # this plan orders a month ahead (lead time)


def test_purchase_schedule_has_no_order_by_column_without_a_lead_time(one: Results) -> None:
    plan, sol = one[0]
    on_time = sol.model_copy(
        update={
            "purchases": [
                p.model_copy(update={"order_by": plan.months[p.month]}) for p in sol.purchases
            ]
        }
    )
    out = render_solutions([(plan, on_time)], "table")
    table = out[out.index("Buy (reservation schedule)") :].split("\n\n")[0]
    header = next(line for line in table.splitlines() if "offering" in line)
    assert header.split()[0] == "start" and "order by" not in header
    assert any(line.startswith("2027-01  aws.c7g.2xlarge") for line in table.splitlines())
