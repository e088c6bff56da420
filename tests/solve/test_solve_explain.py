"""The "why not" estimate on plans too large to re-solve: whole instances, zone by zone."""

from __future__ import annotations

import importlib

import pytest
from solve_factory import offering, plan, workload

from capdsl.solve import solve

explain_mod = importlib.import_module("capdsl.solve.explain")  # the package exports explain()


def test_a_coarse_type_cheaper_per_unit_is_not_shown_as_a_saving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # big is 12.5% cheaper per unit of capacity, but one big instance carries 8 small ones:
    # at 250 req/s spread over three zones, whole big instances cost far more
    small = offering("s.large", od="0.1000", zones=("z1", "z2", "z3"))
    big = offering("s.8xlarge", od="0.7000", zones=("z1", "z2", "z3"))
    w = workload("web", [(small, 100), (big, 800)], survive_zones=1)
    p = plan([small, big], [w], [{"web": [250] * 24}] * 2)
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
