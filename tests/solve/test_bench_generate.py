"""The benchmark plans (``capdsl.bench.generate``): the issue's dimensions, daily shapes or
one demand level a month, deterministic for a size and seed."""

from __future__ import annotations

import pytest

from capdsl.bench.generate import generate
from capdsl.solve.prune import prepare


def test_monthly_demand_is_one_level_a_month_at_the_issues_size() -> None:
    monthly = generate("M", 0, "monthly")
    assert [len(md.blocks) for md in monthly.demand] == [1] * 12
    assert (len(monthly.workloads), len(monthly.offerings), monthly.horizon) == (3, 100, 12)
    # the issue counts M at about 12k integer variables before pruning; the daily shapes
    # give some 25 blocks a month, and 18 times as many
    assert prepare(monthly).vars_before == 22_008
    daily = generate("M", 0)
    assert all(len(md.blocks) > 20 for md in daily.demand)
    # the same services (offerings, capacities at the SLO, redundancy, spot), other demand
    for w in monthly.workloads:
        assert w in daily.workloads
    assert monthly.name == "bench-M-monthly" and daily.name == "bench-M"


def test_the_plans_are_the_same_for_a_size_and_seed() -> None:
    assert generate("S", 3, "monthly") == generate("S", 3, "monthly")
    assert generate("S", 3) != generate("S", 4)


def test_an_unknown_demand_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown demand shape 'hourly'"):
        generate("S", 0, "hourly")
