"""Infeasible plans name a minimal set of conflicting settings, at their spans, with numbers
(SCENARIOS.md item 7: a hard budget broken says which month, by how much, and why)."""

from __future__ import annotations

from decimal import Decimal

from solve_factory import offering, plan, workload

from capdsl.model.plan import Budget, Plan, Quota
from capdsl.solve import solve

A = offering("b.large", od="0.1000", zones=("z1", "z2", "z3"))


def base(
    w_kw: dict,
    budget: float | None = None,
    quotas: list[Quota] | None = None,  # type: ignore[type-arg]
    demand: list | None = None,
    settings: dict | None = None,
) -> Plan:  # type: ignore[type-arg]
    w = workload("recs", [(A, 100)], **w_kw)
    budgets = [Budget(name="budget", monthly=Decimal(str(budget)))] if budget is not None else []
    sett = {"recs.baseline": "baseline = 300 request/s"}
    sett.update(settings or {})
    if budget is not None:
        sett["budget.monthly"] = f"monthly <= ${budget:g}"
    return plan(
        [A], [w], demand or [{"recs": [300]}], budgets=budgets, quotas=quotas or [], settings=sett
    )


def solve_infeasible(p: Plan):  # type: ignore[no-untyped-def]
    sol = solve(p, time_limit=10)
    assert sol.status == "infeasible", (sol.status, sol.message)
    assert sol.diagnostics
    return sol.diagnostics[0], sol


def test_budget_versus_redundancy() -> None:
    # 3 instances carry 300/s; N+1 needs a 4th: 3 x 72 = 216/month fits, 4 x 72 = 288 does not
    p = base({"redundancy": 1}, budget=250, settings={"recs.redundancy": "redundancy = N+1"})
    d, _ = solve_infeasible(p)
    assert d.code == "E0450"
    assert d.span == p.settings["budget.monthly"].span
    assert "recs.redundancy" in d.notes[0] and "budget.monthly" in d.notes[0]
    assert (
        "budget $250.00/month is below the cheapest plan that keeps recs.redundancy = N+1"
        in d.message
    )
    assert "$288.00 in 2027-01, $38.00 over" in d.message
    assert any(lb.span == p.settings["recs.redundancy"].span for lb in d.labels)


def test_budget_versus_survive_zone() -> None:
    # losing one of 3 zones: 300/s needs 2 per zone (6 instances, $432) instead of 3 ($216)
    p = base({"survive_zones": 1}, budget=300, settings={"recs.survive": "survive = 1 zone"})
    d, _ = solve_infeasible(p)
    assert d.code == "E0450"
    assert "recs.survive" in d.notes[0]
    assert "recs.survive = 1 zone" in d.message and "$360.00 in 2027-01, $60.00 over" in d.message


def test_budget_versus_demand_growth_names_the_month() -> None:
    months = [{"recs": [v]} for v in (300, 400, 600)]  # 3, 4, 6 instances: $216, $288, $432
    p = base({}, budget=300, demand=months, settings={"recs.growth": "growth = 40% per month"})
    d, _ = solve_infeasible(p)
    assert d.code == "E0450"
    assert "recs.growth = 40% per month" in d.message
    assert "$432.00 in 2027-03, $132.00 over" in d.message
    assert "recs.growth" in d.notes[0]


def test_a_monthly_budget_below_a_months_floor_is_proven_before_any_search() -> None:
    # 3, 4, 6, 8 instances at $72: the budget of $400 breaks in 2027-03 ($432) and after;
    # a long time limit must not be spent searching for a plan that cannot exist
    months = [{"recs": [v]} for v in (300, 400, 600, 800)]
    p = base({}, budget=400, demand=months, settings={"recs.growth": "growth = 40% per month"})
    sol = solve(p, time_limit=60)  # proven up front (the note below), not after 60 s
    assert sol.status == "infeasible", sol.message
    d = sol.diagnostics[0]
    assert d.code == "E0450" and d.span == p.settings["budget.monthly"].span
    assert "$432.00 in 2027-03, $32.00 over" in d.message, d.message
    assert "recs.growth = 40% per month" in d.message
    assert any("proven before any search" in n for n in d.notes)
    assert any("also over: 2027-04" in n for n in d.notes)


def test_quota_versus_demand() -> None:
    q = Quota(name="cpu", offerings=(A.id,), max_instances=4)
    p = base(
        {},
        quotas=[q],
        demand=[{"recs": [300]}, {"recs": [700]}],
        settings={"quota.cpu.max": "max = 4 instance", "recs.growth": "growth = 2x"},
    )
    d, _ = solve_infeasible(p)
    assert d.code == "E0452"
    assert d.span == p.settings["quota.cpu.max"].span
    assert (
        d.message
        == "quota cpu allows 4 instances but recs.growth = 2x need 7 instances in 2027-02 (block 0)"
    )


def test_quota_names_the_first_month_it_is_short_and_that_months_need() -> None:
    # 100/s per instance, 20% headroom, quota 4: 300 -> 360 (4), 330 -> 396 (4),
    # 350 -> 420 (5: first short), 450 -> 540 (6: the horizon's peak). Demand alone first
    # outgrows the quota in the last month, so the core is {quota, demand}; the month named
    # must still be the first one the quota cannot carry, with that month's need.
    q = Quota(name="cpu", offerings=(A.id,), max_instances=4)
    p = base(
        {"headroom": 0.2},
        quotas=[q],
        demand=[{"recs": [v]} for v in (300, 330, 350, 450)],
        settings={
            "quota.cpu.max": "max = 4 instance",
            "recs.growth": "growth = 10% per month",
            "recs.headroom": "headroom = 20%",
        },
    )
    d, _ = solve_infeasible(p)
    assert d.code == "E0452"
    assert d.span == p.settings["quota.cpu.max"].span
    assert "need 5 instances in 2027-03" in d.message, d.message
    assert "recs.headroom = 20%" in d.message, d.message
    assert any(lb.span == p.settings["recs.headroom"].span for lb in d.labels)


def test_structural_conflict_without_a_resource() -> None:
    one_zone = offering("o.large", od="0.1000", zones=("z1",))
    w = workload("recs", [(one_zone, 100)], survive_zones=1)
    p = plan([one_zone], [w], [{"recs": [300]}], settings={"recs.survive": "survive = 1 zone"})
    d, _ = solve_infeasible(p)
    assert d.code == "E0454"
    assert "recs.survive" in d.notes[0]
    assert d.span == p.settings["recs.survive"].span


def test_no_offering_at_all() -> None:
    w = workload("recs", [])
    p = plan([A], [w], [{"recs": [300]}])
    d, _ = solve_infeasible(p)
    assert d.code == "E0455"
