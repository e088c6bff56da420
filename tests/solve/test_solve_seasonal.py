"""A seasonal plan against the same plan provisioned for its peak all year.

Any plan for the all-peak variant also serves the seasonal one, so the seasonal plan must
never cost more -- not from the spreadsheet baseline (``greedy.py``), and not from the
optimiser, which starts from it (``decompose.py``)."""

from __future__ import annotations

from decimal import Decimal

from capdsl.api import build_text
from capdsl.model.plan import Plan
from capdsl.solve import solve, verify
from capdsl.solve.greedy import greedy_plan

SEASONAL = """
unit request

plan "seasonal" {
  start   = 2027-07
  horizon = 6 months
}

catalog aws from "bundled" {
  provider = "aws"
  regions  = ["us-east-1"]
  families = ["c7g"]
}

service web {
  unit        = request
  baseline    = 1800 request/s
  diurnal     = "retail"
  seasonality = [0.8, 0.7, 0.8, 0.8, 0.9, 0.9, 0.8, 0.8, 0.9, 1.0, 1.5, 1.9]

  runs on aws.c7g.* {
    service_time = 12 ms
    concurrency  = 1 per vcpu
  }

  latency p95 < 150 ms
  redundancy = N+1
  survive    = 1 zone
  headroom   = 30%
}

# seasonality is relative (rescaled to average 1): the peak all year is December's level
scenario peak_all_year {
  web.baseline    = 3420 request/s
  web.seasonality = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}
"""


def plans() -> tuple[Plan, Plan]:
    built = build_text(SEASONAL, "seasonal.cap")
    assert built.plan is not None, [d.message for d in built.diagnostics]
    return built.plan, built.plan.variant("peak_all_year")


def test_the_spreadsheet_plan_follows_demand_and_sizes_instances_to_it() -> None:
    base, peak = plans()
    g_base, g_peak = greedy_plan(base), greedy_plan(peak)
    assert verify(base, g_base).ok and verify(peak, g_peak).ok
    assert g_base.totals is not None and g_peak.totals is not None
    # it once ran one of the largest instance per zone whatever the demand: the same cost
    assert g_base.totals.cost < g_peak.totals.cost * Decimal("0.8")
    assert g_base.totals.cost <= g_base.totals.all_on_demand_cost


def test_the_seasonal_plan_is_cheaper_than_the_all_peak_plan() -> None:
    base, peak = plans()
    s_base = solve(base, time_limit=2)
    s_peak = solve(peak, time_limit=2)
    for plan, s in ((base, s_base), (peak, s_peak)):
        assert s.status in ("optimal", "feasible"), s.message
        assert verify(plan, s).ok
    assert s_base.totals is not None and s_peak.totals is not None
    assert s_base.totals.cost < s_peak.totals.cost * Decimal("0.8")
    # and never dearer than the spreadsheet plan it starts from
    assert s_base.totals.cost <= greedy_plan(base).totals.cost  # type: ignore[union-attr]
    months = {m.month: m.total for m in s_base.months}
    assert months["2027-12"] > months["2027-08"]
