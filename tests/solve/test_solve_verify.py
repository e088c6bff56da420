"""The verifier accepts the optimiser's plans and rejects mutated ones with the right message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from solve_factory import offering, plan, workload

from capdsl.model.plan import Plan, SpotPolicy
from capdsl.solve import solve, verify
from capdsl.solve.solution import Solution
from capdsl.solve.verify import _Checker


@pytest.fixture(scope="module")
def solved() -> tuple[Plan, Solution]:
    a = offering(
        "v.large",
        od="0.1000",
        spot="0.0300",
        reserved={"1y-no_upfront": ("0", "0.0600")},
        zones=("z1", "z2", "z3"),
    )
    b = offering("v.xlarge", od="0.1900", zones=("z1", "z2", "z3"))
    w = workload(
        "web",
        [(a, 100), (b, 200)],
        headroom=0.2,
        redundancy=1,
        survive_zones=1,
        spot=SpotPolicy(max_share=0.3, per_pool=0.2),
    )
    p = plan([a, b], [w], [{"web": [300] * 12 + [800] * 12}] * 3, options=["1y-no_upfront"])
    sol = solve(p, time_limit=10)
    assert sol.status == "optimal"
    return p, sol


def messages(p: Plan, sol: Solution) -> list[tuple[str, str]]:
    report = verify(p, sol)
    assert not report.ok
    return [(v.check, v.message) for v in report.violations]


def test_the_optimum_verifies(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    report = verify(p, sol)
    assert report.ok, report.violations[:3]
    assert report.recomputed_cost == sol.totals.cost  # type: ignore[union-attr]
    # every hour of every month was checked, not just every block
    assert report.checks["demand"] == sum(md.hours for md in p.demand)


def test_removing_one_instance_breaks_demand(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    peak = max(
        (a for a in sol.allocations if a.block == 0 and a.option != "spot"), key=lambda a: a.count
    )
    allocs = [
        a.model_copy(update={"count": a.count - 1}) if a is peak else a for a in sol.allocations
    ]
    allocs = [a for a in allocs if a.count > 0]
    found = messages(p, sol.model_copy(update={"allocations": allocs}))
    checks = {c for c, _ in found}
    assert checks & {"demand", "redundancy", "zone_loss"}
    text = next(m for c, m in found if c in {"demand", "redundancy", "zone_loss"})
    assert "web" in text and "2027-0" in text and "hour" in text


def test_shifting_a_reservation_month_is_caught(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    assert sol.purchases, "the plan should buy reservations"
    first = sol.purchases[0]
    moved = first.model_copy(
        update={"month": first.month + 1, "order_by": p.months[first.month + 1]}
    )
    found = messages(p, sol.model_copy(update={"purchases": [moved, *sol.purchases[1:]]}))
    assert any(c == "reservations" and "in use in 2027-0" in m and "owns" in m for c, m in found)


def test_under_pricing_one_line_is_caught(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    month = sol.months[1]
    cheaper = month.model_copy(
        update={
            "on_demand": month.on_demand - Decimal("0.01"),
            "total": month.total - Decimal("0.01"),
        }
    )
    found = messages(
        p, sol.model_copy(update={"months": [sol.months[0], cheaper, *sol.months[2:]]})
    )
    assert (
        "cost",
        f"2027-02 on demand reported {cheaper.on_demand}, recomputed {month.on_demand}",
    ) in found


def test_spot_beyond_its_share_is_caught(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    from capdsl.solve.solution import Allocation

    extra = Allocation(
        workload="web",
        offering="aws.v.large@us-east-1",
        zone="z1",
        option="spot",
        month=0,
        block=1,
        count=3,
    )
    found = messages(p, sol.model_copy(update={"allocations": [*sol.allocations, extra]}))
    assert any(
        c in ("spot_share", "spot_pool") and ("exceeds" in m or "over" in m) for c, m in found
    )


def test_spot_outside_eligible_zones_is_caught(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    from capdsl.solve.solution import Allocation

    w = p.workloads[0]
    narrowed = w.model_copy(
        update={
            "capacities": tuple(
                c.model_copy(update={"spot_zones": tuple(z for z in c.spot_zones if z != "z2")})
                for c in w.capacities
            )
        }
    )
    p2 = p.model_copy(update={"workloads": [narrowed]})
    extra = Allocation(
        workload="web",
        offering="aws.v.large@us-east-1",
        zone="z2",
        option="spot",
        month=0,
        block=0,
        count=1,
    )
    found = messages(p2, sol.model_copy(update={"allocations": [*sol.allocations, extra]}))
    assert any(c == "spot_zone" and "not an eligible spot zone" in m for c, m in found)


def test_unsolved_solutions_do_not_verify(solved: tuple[Plan, Solution]) -> None:
    p, sol = solved
    assert not verify(p, sol.model_copy(update={"status": "infeasible"})).ok


def hour_by_hour(
    self: Any,
    w: Any,
    m: int,
    hourly: list[float],
    block_of_hour: list[int],
    summary: dict[int, Any],
) -> None:
    for h, d in enumerate(hourly):
        if block_of_hour[h] in summary:
            self.hour(w, m, h, d, summary[block_of_hour[h]])


def test_hours_of_equal_demand_checked_once_report_as_one_by_one(
    solved: tuple[Plan, Solution], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hours alike (same block, same demand) are checked once; the report -- every check
    counted, each failing hour reported in the order of the hours -- is the one hour by
    hour, for the plan and for plans failing in some hours, in many, and past the cap."""
    p, sol = solved
    peak = max((a for a in sol.allocations if a.option != "spot"), key=lambda a: a.count)
    fewer = [
        a.model_copy(update={"count": a.count - 1}) if a is peak else a for a in sol.allocations
    ]
    none_standard = [a for a in sol.allocations if a.option == "spot"]
    cases = [sol.allocations, fewer, none_standard, []]
    calls = 0
    one_hour = _Checker.hour

    def counted(self: Any, *args: Any) -> None:
        nonlocal calls
        calls += 1
        one_hour(self, *args)

    monkeypatch.setattr(_Checker, "hour", counted)
    fast = [verify(p, sol.model_copy(update={"allocations": c})) for c in cases[:1]]
    hours = sum(md.hours for md in p.demand)
    assert fast[0].checks["demand"] == hours
    assert calls < hours / 4  # (2 demand levels a day)
    fast += [verify(p, sol.model_copy(update={"allocations": c})) for c in cases[1:]]
    monkeypatch.setattr(_Checker, "hour", one_hour)
    monkeypatch.setattr(_Checker, "hours", hour_by_hour)
    slow = [verify(p, sol.model_copy(update={"allocations": c})) for c in cases]
    for f, s in zip(fast, slow, strict=True):
        assert dict(f.checks) == dict(s.checks)
        assert f.violations == s.violations
    assert fast[0].ok and not fast[1].ok
    # the empty plan fails in every hour: more than the report keeps
    assert len(fast[3].violations) == 200
    assert {v.hour for v in fast[1].violations if v.hour is not None}
