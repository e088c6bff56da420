"""``capdsl solve --format csv``: what a FinOps person pastes into a spreadsheet."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from types import ModuleType

from capdsl.model.plan import Plan
from capdsl.report import render_solutions
from capdsl.report.csv_out import COLUMNS
from capdsl.solve.solution import Solution

Results = list[tuple[Plan, Solution]]


def _rows(results: Results) -> list[dict[str, str]]:
    text = render_solutions(results, "csv")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_one_row_per_allocation_purchase_and_owned_reservation(one: Results) -> None:
    _plan, sol = one[0]
    rows = _rows(one)
    kinds = [r["record"] for r in rows]
    assert kinds.count("allocation") == len(sol.allocations)
    assert kinds.count("purchase") == len(sol.purchases)
    assert kinds.count("existing") == 1
    assert set(kinds) == {"allocation", "purchase", "existing"}
    assert {r["scenario"] for r in rows} == {"base"}
    assert {r["currency"] for r in rows} == {"USD"}


def test_allocation_rows_parse_back(one: Results) -> None:
    plan, sol = one[0]
    rows = [r for r in _rows(one) if r["record"] == "allocation"]
    parsed = {
        (r["month"], int(r["block"]), r["workload"], r["offering"], r["zone"], r["option"]): int(
            r["count"]
        )
        for r in rows
    }
    expected = {
        (plan.months[a.month], a.block, a.workload, a.offering, a.zone, a.option): a.count
        for a in sol.allocations
    }
    assert parsed == expected
    spot = next(r for r in rows if r["option"] == "spot" and r["workload"] == "recs")
    hours = Decimal(spot["billed_hours"])
    assert Decimal(spot["hourly"]) == Decimal("0.0688")
    assert abs(
        Decimal(spot["cost"]) - Decimal(spot["hourly"]) * int(spot["count"]) * hours
    ) < Decimal("0.01")
    reserved = next(r for r in rows if r["option"] == "reserved")
    assert reserved["hourly"] == "" and reserved["cost"] == "0.00"


def test_purchase_rows_are_the_schedule(one: Results) -> None:
    rows = [r for r in _rows(one) if r["record"] == "purchase"]
    assert [
        (r["month"], r["zone"], r["term_months"], r["payment"], r["count"], r["order_by"])
        for r in rows
    ] == [
        ("2027-01", "us-east-1a", "12", "no_upfront", "3", "2026-12"),
        ("2027-01", "us-east-1b", "12", "no_upfront", "3", "2026-12"),
        ("2027-02", "us-east-1a", "36", "all_upfront", "1", "2027-01"),
        ("2027-02", "us-east-1b", "36", "all_upfront", "1", "2027-01"),
    ]
    assert rows[2]["upfront"] == "3504.00" and rows[0]["hourly"] == "0.183"


def test_cost_column_sums_to_the_total(f: ModuleType) -> None:
    """Reserved capacity is paid by its reservation rows only: nothing counted twice."""
    for horizon in (3, 24):
        plan = f.make_plan(horizon=horizon)
        sol = f.make_solution(plan)
        total = sum(Decimal(r["cost"]) for r in _rows([(plan, sol)]))
        assert abs(total - sol.totals.cost) < Decimal("0.01") * len(sol.allocations), horizon


def test_several_scenarios_are_told_apart(scenarios: Results) -> None:
    rows = _rows(scenarios)
    assert {r["scenario"] for r in rows} == {"base", "moderate", "aggressive"}
    for plan, sol in scenarios:
        name = plan.scenario or "base"
        mine = [r for r in rows if r["scenario"] == name]
        assert sum(r["record"] == "allocation" for r in mine) == len(sol.allocations)


def test_infeasible_gives_just_the_header(infeasible: Results) -> None:
    text = render_solutions(infeasible, "csv")
    assert text.splitlines() == [",".join(COLUMNS)]


def test_deterministic(one: Results) -> None:
    assert render_solutions(one, "csv") == render_solutions(one, "csv")
