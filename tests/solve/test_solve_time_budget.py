"""How the decomposition spends its time limit (``decompose.py``).

The work counted is what each unit measured (its model's size and CP-SAT's deterministic
time, at calibrated rates: the same on every run), and the estimates of passes not run yet
are scaled by what the units run so far measured against theirs
(``test_the_work_counted_is_what_each_unit_measured``). A pass of blocks far over its share
of the time runs in groups of similar blocks, each planned for its highest level, when that
adds little capacity; else block by block while the work budget allows; and a plan whose
blocks are too large for the whole budget is not re-planned at all."""

from __future__ import annotations

import pytest
from solve_factory import offering, plan, workload
from test_solve_decompose_rounds import decomposer, seasonal_start
from test_solve_seasonal import plans

import capdsl.solve.decompose as decompose
from capdsl.solve.decompose import Decomposer, grouping_overhead
from capdsl.solve.prune import coarsen, prepare


def test_the_grouping_overhead_is_the_capacity_hours_the_groups_add() -> None:
    # a month of 8 busy hours at 100 and 16 quiet ones at 50 (one block each), and a
    # second service flat at 10: one group a month runs the first at 100 for 24 hours,
    # 2,400 unit-hours where its blocks need 800 + 800 (+50%); the second adds nothing
    a = offering("a.large", od="0.10")
    web = workload("web", [(a, 10.0)])
    cron = workload("cron", [(a, 10.0)])
    p = plan([a], [web, cron], [{"web": [100.0] * 8 + [50.0] * 16, "cron": [10.0] * 24}])
    ctx = prepare(p)
    assert [len(bs) for bs in ctx.blocks] == [2]
    assert grouping_overhead(ctx, coarsen(ctx, 1, "max")) == pytest.approx((0.5 + 0.0) / 2)
    assert grouping_overhead(ctx, ctx) == 0.0  # each block at its own level


def test_a_pass_far_over_its_share_of_the_time_runs_in_groups_of_blocks() -> None:
    d, buys, use = seasonal_start()  # 72 blocks, one thread
    # calibrated already (at the uncalibrated share): no probe
    d.units_estimated, d.units_measured = 1.0, decompose.UNCALIBRATED
    grouped = d.evaluate(buys, 0.5, use)
    assert grouped is not None and grouped.groups is not None
    assert f"blocks in {grouped.groups} groups a month" in grouped.outcome()
    assert d.checked(dict(grouped.buys), dict(grouped.use)) is not None  # the verifier agrees
    assert not d.too_large
    # with time enough for each block: block by block
    d2, buys, use = seasonal_start()
    alone = d2.evaluate(buys, 5.0, use)
    assert alone is not None and alone.groups is None
    assert alone.cost <= grouped.cost + 1e-6  # each block at its own level


def test_groups_adding_too_much_capacity_leave_the_pass_block_by_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decompose, "MAX_GROUPING_OVERHEAD", -1.0)
    d, buys, use = seasonal_start()
    cand = d.evaluate(buys, 0.5, use)  # over its share, but within the budget
    assert cand is not None and cand.groups is None and not d.too_large


def test_blocks_too_large_for_the_whole_budget_are_not_re_planned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decompose, "MAX_GROUPING_OVERHEAD", -1.0)
    monkeypatch.setattr(Decomposer, "pass_estimate", lambda self, n, budget: 1e9)
    d, buys, use = seasonal_start()
    assert d.evaluate(buys, 0.5, use) is None
    assert d.too_large and "too large to re-plan" in d.log[-1]


def test_a_pass_that_does_not_fit_in_the_budget_left_is_skipped_not_the_search() -> None:
    d, buys, use = seasonal_start()
    d.work = d.work_cap() - 1e-3  # the budget spent but for a millisecond
    assert d.evaluate(buys, 5.0, use) is None
    assert d.log[-1].endswith("no time left to re-plan them")
    assert not d.too_large  # later steps (the batch placement) still run


def test_before_any_unit_ran_estimates_are_taken_at_the_uncalibrated_share() -> None:
    seasonal, _ = plans()
    d = decomposer(prepare(seasonal))
    n = len(d.units)
    raw = n * d.unit_cost(d.unit_limit(n, 1.0)) / d.threads
    assert d.pass_estimate(n, 1.0) == pytest.approx(raw * decompose.UNCALIBRATED)
    assert d.affordable(n, 1.0) == (raw * decompose.UNCALIBRATED <= d.work_cap())


def test_a_deepening_that_does_not_fit_searches_the_blocks_with_the_most_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_solve_decompose_rounds import unproven_start

    # eight blocks end unproven, each with its own slack
    d, slack, first, limits = unproven_start(monkeypatch, 8, 5.0)
    # a second of work a block, three and a half left: of the eight, the three with the
    # most slack (eight, six, four, three: ``DEEPEN_SHRINK``)
    monkeypatch.setattr(Decomposer, "pass_estimate", lambda self, n, budget: float(n))
    d.work = d.work_cap() - 3.5
    deeper = d.evaluate(first.buys, 5.0, first.use, deepen=True)
    top = sorted(slack, key=slack.__getitem__)[-3:]
    assert sorted(limits) == sorted(top)
    assert deeper is not None and deeper.cost <= first.cost + 1e-6
    # nothing left: not searched, and said so
    d.work = d.work_cap()
    assert d.evaluate(first.buys, 5.0, first.use, deepen=True) is None
    assert d.log[-1].endswith("no time left to search them again")


def test_the_work_the_search_leaves_searches_the_best_plans_blocks_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_solve_decompose_rounds import patch_outcomes

    first_units: set = set()  # type: ignore[type-arg]
    searched: list = []  # type: ignore[type-arg]

    def outcome(unit, r, _limit):  # type: ignore[no-untyped-def]
        # in the search, the first six blocks end unproven; after it, every block searched
        # is recorded
        if searching:
            if unit in first_units and r.status == "optimal":
                r.status, r.bound = "feasible", r.objective - 10.0
        else:
            searched.append(unit)

    patch_outcomes(monkeypatch, outcome)

    def search(self, hint_use, hint_buys):  # type: ignore[no-untyped-def]
        nonlocal searching
        self.consider(self.evaluate(buys, 5.0, use))  # the search: one pass
        searching = False

    monkeypatch.setattr(Decomposer, "search", search)
    searching = True
    d, buys, use = seasonal_start()
    d.deadline = d.started + 8.0  # an 8 s limit
    first_units.update(d.units[:6])
    d.run(use, None)
    # first the unproven blocks alone (then, if that gained and the reservations that serve
    # its usage best changed, the blocks of those months)
    assert set(searched[: len(first_units)]) == first_units
    assert d.best is not None
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees
    # too little left over: not searched again
    monkeypatch.setattr(
        Decomposer, "spare", lambda self: self.time_limit * decompose.AGAIN_SHARE / 2
    )
    searching = True
    searched.clear()
    d, buys, use = seasonal_start()
    d.deadline = d.started + 8.0
    d.run(use, None)
    assert searched == []


def test_a_warm_start_does_not_spend_the_work_the_search_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a what-if (the previous plan's reservations given) answers as soon as its search
    # ends: neither the best plan's blocks again nor the floors
    called: list[str] = []
    monkeypatch.setattr(Decomposer, "search", lambda self, hint_use, hint_buys: None)
    monkeypatch.setattr(Decomposer, "spare", lambda self: called.append("spare") or 1e9)
    d, buys, use = seasonal_start()
    d.run(use, buys)
    assert called == []
    d.run(use, None)
    assert called  # (cold: asked)


def test_the_time_the_search_leaves_searches_the_blocks_with_the_most_slack_that_fit_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_solve_decompose_rounds import unproven_start

    d, slack, first, limits = unproven_start(monkeypatch, 8, 5.0)
    monkeypatch.setattr(Decomposer, "pass_estimate", lambda self, n, budget: float(n))
    d.work = 0.0  # the work budget is far from spent
    # the time the search leaves must hold the pass itself: 2.5 s at a second a block are
    # the two with the most slack (eight, six, four, three, two)
    deeper = d.evaluate(first.buys, 2.5, first.use, deepen=True, within=True)
    assert sorted(limits) == sorted(sorted(slack, key=slack.__getitem__)[-2:])
    assert deeper is not None and deeper.cost <= first.cost + 1e-6
    # a deepening's own share only has to fit in the work budget: all eight
    limits.clear()
    assert d.evaluate(first.buys, 2.5, first.use, deepen=True) is not None
    assert sorted(limits) == sorted(slack)


def test_scheduling_and_checking_a_plan_count_in_the_work_by_its_size() -> None:
    # (the XL plan's start took 7.3 s of them, uncounted: at 20 s it ran on to 28.7 s)
    d, _, use = seasonal_start()
    before = d.work
    scheduled = d.schedule(use)
    assert scheduled is not None
    assert d.work - before == pytest.approx(len(use) * decompose.SCHEDULE_S_PER_ENTRY)
    before = d.work
    assert d.checked(scheduled, use) is not None
    assert d.work - before == pytest.approx(len(use) * decompose.CHECK_S_PER_ENTRY)


def test_a_pass_too_large_on_uncalibrated_estimates_is_decided_again_after_a_probe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # before any unit ran, the estimate is a guess (L at 10 s: 10.4 s, measured 5 s): a few
    # blocks run first, their plans kept, and the pass decided on the calibrated estimates
    def estimate(self: Decomposer, n: int, budget: float) -> float:
        if n == decompose.PROBE_BLOCKS:
            return 0.0  # the probe fits
        return 1e9 if self.units_estimated <= 0 else 0.0

    monkeypatch.setattr(Decomposer, "pass_estimate", estimate)
    d, buys, use = seasonal_start()
    cand = d.evaluate(buys, 5.0, use)
    assert cand is not None and not d.too_large
    assert len(d.unit_runs) == len(d.units)  # the probe's blocks and the rest
    # calibrated and still too large: skipped, and no second probe
    d2, buys, use = seasonal_start()
    monkeypatch.setattr(
        Decomposer,
        "pass_estimate",
        lambda self, n, budget: 0.0 if n == decompose.PROBE_BLOCKS else 1e9,
    )
    assert d2.evaluate(buys, 5.0, use) is None
    assert d2.too_large and len(d2.unit_runs) == decompose.PROBE_BLOCKS
