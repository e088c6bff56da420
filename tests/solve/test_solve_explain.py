"""The "why not" estimate on plans too large to re-solve: whole instances, zone by zone."""

from __future__ import annotations

import importlib

import pytest
from solve_factory import offering, plan, workload

from capdsl.model.plan import Plan, PlanOffering
from capdsl.solve import solve
from capdsl.solve.solution import Solution

explain_mod = importlib.import_module("capdsl.solve.explain")  # the package exports explain()


def _small_or_big() -> tuple[Plan, PlanOffering, PlanOffering]:
    """``web`` at 250 req/s, surviving a zone, on 100 req/s instances or 8x ones at 7x the
    price (12.5% cheaper per unit of capacity)."""
    small = offering("s.large", od="0.1000", zones=("z1", "z2", "z3"))
    big = offering("s.8xlarge", od="0.7000", zones=("z1", "z2", "z3"))
    w = workload("web", [(small, 100), (big, 800)], survive_zones=1)
    return plan([small, big], [w], [{"web": [250] * 24}] * 2), small, big


def test_a_coarse_type_cheaper_per_unit_is_not_shown_as_a_saving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # big is 12.5% cheaper per unit of capacity, but one big instance carries 8 small ones:
    # at 250 req/s spread over three zones, whole big instances cost far more
    p, small, big = _small_or_big()
    monkeypatch.setattr(explain_mod, "RESOLVE_MAX_WORKLOADS", 0)  # force the estimate
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal"
    assert {a.offering for a in sol.allocations} == {small.id}
    (why,) = explain_mod.explain(p, sol).why_not
    assert why.alternative == big.id
    assert why.delta_per_month > 0
    assert why.text.startswith("why not s.8xlarge for web: +$")
    # the numbers: the plan runs 2 small per zone (survive a zone: 2 zones carry 250 + spare);
    # swapped zone by zone, each zone needs 1 big: (0.70 - 2 x 0.10) x hours x 3 zones
    per_zone = {a.zone: a.count for a in sol.allocations if a.month == 0}
    hours = float(p.hours_per_month)
    expected = sum((0.70 - n * 0.10) * hours for n in per_zone.values())
    assert float(why.delta_per_month) == pytest.approx(expected, abs=0.01)


def _two_offerings_one_zone_short() -> tuple[Plan, str, str]:
    """``web`` survives a zone: the cheap offering runs in three zones, the dear one in one."""
    wide = offering("w.large", od="0.1000", zones=("z1", "z2", "z3"))
    narrow = offering("n.large", od="0.0500", zones=("z1",))
    w = workload("web", [(wide, 100), (narrow, 100)], survive_zones=1)
    return plan([wide, narrow], [w], [{"web": [150] * 24}] * 2), wide.id, narrow.id


def test_a_proven_conflict_without_the_chosen_offering_is_named_with_its_reason() -> None:
    # without w.large, n.large alone runs in one zone: no plan survives losing it
    p, wide, _ = _two_offerings_one_zone_short()
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal"
    (why,) = explain_mod.explain(p, sol).why_not
    assert why.chosen == wide
    assert why.alternative == ""
    assert why.text.startswith(
        "why not another offering for web: without w.large no plan meets every setting ("
    )


def test_a_re_solve_that_finds_nothing_in_time_falls_back_to_the_estimate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a re-solve cut short proves nothing: the estimate is shown, labelled as one, never
    # "no plan meets every setting"
    p, _, big = _small_or_big()
    sol = solve(p, time_limit=5)
    solver_mod = importlib.import_module("capdsl.solve.solver")
    monkeypatch.setattr(
        solver_mod,
        "solve_without",
        lambda *a, **k: sol.model_copy(update={"status": "unknown", "objective": None}),
    )
    (why,) = explain_mod.explain(p, sol).why_not
    assert why.alternative == big.id
    assert "(estimate:" in why.text and "no plan" not in why.text


@pytest.mark.parametrize(("limit", "expected"), [(5.0, 1.25), (20.0, 5.0), (120.0, 5.0)])
def test_the_explanation_takes_a_share_of_the_solve_time_limit(
    monkeypatch: pytest.MonkeyPatch, limit: float, expected: float
) -> None:
    api = importlib.import_module("capdsl.api")
    solve_pkg = importlib.import_module("capdsl.solve")
    p, _, _ = _two_offerings_one_zone_short()
    seen: list[float] = []

    def spy(plan_: Plan, solution: Solution, *, time_limit: float = 5.0) -> Solution:
        seen.append(time_limit)
        return solution

    monkeypatch.setattr(solve_pkg, "explain", spy)
    sol = api.solve_plan(p, time_limit=limit)
    assert sol.verified
    assert seen == [expected]
