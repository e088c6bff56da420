"""Stress test: the fleet one scenario buys against another scenario's hourly demand."""

from __future__ import annotations

import math

import pytest

from capdsl.api import build_text, solve_plan, stress_test
from capdsl.model.latency import mmc_capacity, response_tail
from capdsl.solve.stress import _quantile

PLAN = """\
unit request

plan "sale" {
  start   = 2027-11
  horizon = 1 months
}

catalog dc {
  offering "box.8" {
    region    = "dc1"
    zones     = ["dc1-a", "dc1-b"]
    vcpu      = 8
    memory    = 32 GiB
    on_demand = $0.40/h
  }
}

service shop {
  unit     = request
  baseline = 400 request/s
  event "sale" { from = 2027-11-24, for = 24 h, scale = 4x }
  runs on dc.* {
    service_time = 20 ms
  }
  latency p95 < 100 ms
  headroom = 10%
  spot     = false
}

scenario provision_2x {
  shop.event."sale".scale = 2x
}
"""


@pytest.fixture(scope="module")
def stressed():
    base = build_text(PLAN, "sale.cap")
    assert base.ok, base.diagnostics
    two_x = base.plan.variant("provision_2x")
    sol = solve_plan(two_x, time_limit=20, workers=1)
    assert sol.verified, sol.message
    return base.plan, two_x, stress_test(two_x, sol, base.plan)


def test_the_2x_fleet_breaks_under_the_4x_sale(stressed) -> None:
    actual, _, sol = stressed
    report = sol.stress
    assert report is not None and not report.ok
    (shop,) = report.workloads
    # the sale lasts 24 hours; outside it the 2x fleet is ample
    assert 0 < shop.hours_short <= 24
    worst = shop.worst
    assert worst is not None and worst.when.startswith("2027-11-24")
    assert worst.demand == pytest.approx(max(actual.demand[0].hourly["shop"]))
    # the fleet was sized for the 2x sale peak plus 10% headroom, and cannot carry the 4x one
    assert worst.demand / 2 * 1.1 <= worst.carried < worst.demand
    assert worst.shortfall_pct == pytest.approx((worst.demand - worst.carried) / worst.demand * 100)
    assert worst.utilization > 1.0  # saturated: the queue grows without bound
    assert "requests time out" in report.summary()


def test_the_base_fleet_survives_its_own_demand(stressed) -> None:
    actual, _, _ = stressed
    sol = solve_plan(actual, time_limit=20, workers=1)
    assert stress_test(actual, sol, actual).stress.ok  # type: ignore[union-attr]


def test_quantile_inverts_the_slo_capacity() -> None:
    """At the capacity computed for p95 < 80 ms, the predicted p95 is 80 ms."""
    for servers in (1, 4, 16, 96):
        lam = mmc_capacity(servers, 0.025, 0.95, 0.080)
        assert _quantile(servers, 40.0, lam, 0.95) == pytest.approx(0.080, rel=1e-6)
        # more load (still below saturation), more latency; the tail there is exactly 5%
        heavier = (lam + servers * 40.0) / 2
        worse = _quantile(servers, 40.0, heavier, 0.95)
        assert worse > 0.080
        assert response_tail(worse, servers, 40.0, heavier) == pytest.approx(0.05, rel=1e-6)


def test_quantile_near_saturation_is_huge_and_finite() -> None:
    """Just below saturation the wait is long but finite (the tail decays slowly)."""
    q = _quantile(2, 10.0, 19.99, 0.95)
    assert math.isfinite(q) and q > 100 * 0.1
