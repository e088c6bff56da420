"""Derived facts (capacity vs demand, milestones, costs) and number formatting."""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType

import pytest

from capdsl.report import fmt
from capdsl.report.facts import Result, order_results


def test_capacity_vs_demand_of_a_service(f: ModuleType) -> None:
    plan = f.make_plan()
    r = Result(plan, f.make_solution(plan))
    jan = r.capacity["recs"][0]
    assert (jan.month, jan.block) == ("2027-01", 0)  # the daytime peak block
    assert jan.demand == 5800.0
    assert jan.required == pytest.approx(5800 * 1.3)
    # 3+3 reserved c7g (900/s) + 2+2 owned m7g (420/s) + 2 spot m7g (420/s)
    assert jan.capacity == pytest.approx(6 * 900 + 4 * 420 + 2 * 420)
    assert jan.coverage == pytest.approx(7920 / 7540)


def test_capacity_vs_demand_of_a_batch_workload(f: ModuleType) -> None:
    plan = f.make_plan()
    r = Result(plan, f.make_solution(plan))
    jan = r.capacity["etl"][0]
    assert jan.block is None and jan.demand == 2800.0
    # 2 spot m7g x 4 vCPU-h/h x 496 night hours x (1 - 5% checkpoint overhead)
    assert jan.capacity == pytest.approx(2 * 4 * 496 * 0.95)


def test_peak_mix_groups_zones(f: ModuleType) -> None:
    plan = f.make_plan()
    r = Result(plan, f.make_solution(plan))
    mix = r.peak_mix("recs", 0)
    assert [(i.offering.split("@")[0], i.option, i.count) for i in mix] == [
        ("aws.c7g.2xlarge", "reserved", 6),
        ("aws.m7g.xlarge", "reserved", 4),
        ("aws.m7g.xlarge", "spot", 2),
    ]
    assert mix[0].zones == (("us-east-1a", 3), ("us-east-1b", 3))


@pytest.mark.parametrize(
    ("horizon", "marks"), [(3, [3]), (24, [6, 12, 18, 24]), (30, [6, 12, 18, 24, 30])]
)
def test_milestones(f: ModuleType, horizon: int, marks: list[int]) -> None:
    plan = f.make_plan(horizon=horizon)
    sol = f.make_solution(plan)
    got = Result(plan, sol).milestones()
    assert [m.months for m in got] == marks
    for m in got:
        assert m.cost == sum((mc.total for mc in sol.months[: m.months]), Decimal(0))
        assert m.month == plan.months[m.months - 1]


def test_on_demand_equivalent_sums_to_all_on_demand(f: ModuleType) -> None:
    plan = f.make_plan(horizon=12)
    sol = f.make_solution(plan)
    equiv = Result(plan, sol).on_demand_equivalent
    assert sum(e for e in equiv if e is not None) == pytest.approx(sol.totals.all_on_demand_cost)


def test_purchase_cost_in_horizon_follows_the_commitment_policy(f: ModuleType) -> None:
    plan = f.make_plan()
    sol = f.make_solution(plan)
    r = Result(plan, sol)
    three_year = sol.purchases[2]  # 1 x 3y all-upfront $3,504 from month 1: 2 of 36 months inside
    assert r.purchase_cost_in_horizon(three_year) == Decimal(3504) * 2 / 36
    full = plan.model_copy(
        update={"commitments": plan.commitments.model_copy(update={"beyond_horizon": "full"})}
    )
    assert Result(full, sol).purchase_cost_in_horizon(three_year) == Decimal(3504)
    one_year = sol.purchases[0]  # 3 x $0.183/h x 730 h x 3 months
    assert r.purchase_cost_in_horizon(one_year) == 3 * Decimal("0.1830") * 730 * 3


def test_plan_for_scenario_comes_first(f: ModuleType) -> None:
    views = order_results(f.make_scenarios())
    assert [v.scenario for v in views] == ["moderate", None, "aggressive"]


def test_month_label_beyond_the_horizon(f: ModuleType) -> None:
    r = Result(f.make_plan(), f.make_solution())
    assert r.month_label(2) == "2027-03"
    assert r.month_label(13) == "2028-02"
    assert r.month_label(-1) == "2026-12"
    assert r.month_label(None) is None


def test_money_formatting() -> None:
    assert fmt.money(Decimal("1234.565")) == "$1,235"
    assert fmt.money(Decimal("999.995")) == "$1,000.00"
    assert fmt.money(Decimal("12.345")) == "$12.35"  # half-up, like the JSON
    assert fmt.money(Decimal("1234.5"), cents=True) == "$1,234.50"
    assert fmt.money(Decimal("-50")) == "-$50.00"
    assert fmt.money(Decimal(7), "EUR") == "€7.00"
    assert fmt.money(Decimal(7), "CHF") == "CHF 7.00"
    assert fmt.money(None) == "–"
    assert fmt.signed_money(Decimal("227.714")) == "+$227.71"
    assert fmt.signed_money(Decimal("-1500")) == "-$1,500"
    assert fmt.money_column([Decimal("12.5"), Decimal(1500), None]) == ["$13", "$1,500", "–"]
    assert fmt.money_column([Decimal("12.5"), Decimal(150)]) == ["$12.50", "$150.00"]


def test_price_and_share_formatting() -> None:
    assert fmt.price(Decimal("0.183")) == "$0.1830"
    assert fmt.price(Decimal("0.068812")) == "$0.068812"
    assert fmt.price(Decimal("0.0000004")) == "$0.0000"
    assert fmt.pct(40.249) == "40.2%"
    assert fmt.share(0.97, 0) == "97%"
    assert fmt.gap(0.0005) == "0.05%"
    assert fmt.term(12) == "1y" and fmt.term(36) == "3y" and fmt.term(18) == "18mo"
    assert fmt.short_offering("aws.c7g.2xlarge@us-east-1") == "aws.c7g.2xlarge"
