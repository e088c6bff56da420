"""Lints the optimiser adds to a plan it solved (W0453: commitments beyond the horizon)."""

from __future__ import annotations

from solve_factory import offering, plan, workload

from capdsl.solve import solve, verify


def _late_plan(beyond_horizon: str):
    """Two months; the demand starts in the last one. A 3-year reservation bought then is
    the cheapest way to serve it under ``amortize`` (one month of 36 counted)."""
    o = offering("m.large", od="0.10", reserved={"3y-no_upfront": ("0", "0.04")})
    w = workload("api", [(o, 10.0)])
    return plan(
        [o],
        [w],
        [{"api": [0.0]}, {"api": [20.0]}],
        options=("3y-no_upfront",),
        beyond_horizon=beyond_horizon,
    )


def test_reservations_bought_at_the_end_are_flagged_with_what_they_commit() -> None:
    p = _late_plan("amortize")
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal" and verify(p, sol).ok
    late = [x for x in sol.purchases if x.month == 1]
    assert late and all(x.term_months == 36 for x in late)
    [d] = [d for d in sol.diagnostics if d.code == "W0453"]
    # 35 of the 36 months of every instance bought fall after the horizon: the
    # purchases' own beyond-horizon figure, summed, is what the warning names
    committed = sum(x.beyond_horizon for x in late)
    assert committed > 0
    assert f"${committed:,.2f}" in d.message
    count = sum(x.count for x in late)
    assert d.message.startswith(f"{count} reservation")
    assert "bought in 2027-02" in d.message and "after 2027-02" in d.message
    assert "beyond_horizon = full" in (d.help or "")


def test_whole_terms_counted_no_warning() -> None:
    p = _late_plan("full")
    sol = solve(p, time_limit=5)
    assert sol.status == "optimal"
    assert not [d for d in sol.diagnostics if d.code == "W0453"]
