"""The month-by-block decomposition's reservation step and its guarantee.

``Decomposer.repriced`` keeps a plan's usage and buys the reservations that serve it best
(``schedule.py``); the usage is unchanged, so the plan stays feasible and can only get
cheaper. Checked against every single purchase (one reserved option, one start, k
instances) priced on the same usage -- the brute force of the break-even rule for one
offering -- and the decomposition as a whole is never dearer than the spreadsheet plan it
starts from."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal

import pytest
import solve_factory as f
from test_solve_seasonal import plans

from capdsl.model.plan import Budget
from capdsl.solve import verify
from capdsl.solve.context import STANDARD, purchase_months
from capdsl.solve.costing import price_solution
from capdsl.solve.decompose import (
    BLOCK_DTIME_KNEE,
    BLOCK_S_PER_DTIME,
    BLOCK_S_PER_DTIME_PAST,
    RUN_S,
    RUN_S_PER_VARIABLE,
    SLACK_CAP,
    UNCALIBRATED,
    UNIT_MIN_S,
    Decomposer,
    by_weight,
    solve_decomposed,
    unit_context,
    usage_of,
)
from capdsl.solve.extract import purchases_of, split_standard
from capdsl.solve.formulate import formulate
from capdsl.solve.greedy import greedy_plan
from capdsl.solve.prune import prepare
from capdsl.solve.schedule import owned_by_month
from capdsl.solve.search import lean, run_model
from capdsl.solve.solver import to_solution


def decomposer(ctx):  # type: ignore[no-untyped-def]
    now = time.perf_counter()
    return Decomposer(
        ctx, deadline=now + 60, seed=0, threads=1, stop=None, on_progress=None, started=now
    )


def decompose_alone(ctx, *, time_limit: float, threads: int = 1):  # type: ignore[no-untyped-def]
    """The decomposition on one thread (or ``threads``), cold (no previous plan)."""
    return solve_decomposed(
        ctx,
        time_limit=time_limit,
        seed=0,
        threads=threads,
        stop=None,
        on_progress=None,
        hint_use={},
        hint_buys=None,
    )


def seasonal_start():  # type: ignore[no-untyped-def]
    """The seasonal plan's decomposer (one thread) and its spreadsheet plan."""
    d = decomposer(prepare(plans()[0]))
    buys, use = d.spreadsheet()
    return d, buys, use


def patch_outcomes(monkeypatch, change) -> None:  # type: ignore[no-untyped-def]
    """Each block unit's search result passed to ``change(unit, result, time_limit)`` as it
    ends (a test double for searches that end otherwise, or a recorder)."""
    real = Decomposer.run_unit

    def run(self, sub, time_limit, hint_use, **kw):  # type: ignore[no-untyped-def]
        r = real(self, sub, time_limit, hint_use, **kw)
        change((r.month, sub.blocks[r.month][0].index), r, time_limit)
        return r

    monkeypatch.setattr(Decomposer, "run_unit", run)


def patch_slack(monkeypatch, slack) -> None:  # type: ignore[no-untyped-def]
    """The blocks in ``slack`` end unproven, each that far above CP-SAT's bound on it; the
    others are taken as proven."""

    def unproven(unit, r, _limit):  # type: ignore[no-untyped-def]
        if unit in slack:
            r.status, r.bound = "feasible", r.objective - slack[unit]
        else:
            r.status, r.bound = "optimal", r.objective

    patch_outcomes(monkeypatch, unproven)


def unproven_start(monkeypatch, n: int, budget: float):  # type: ignore[no-untyped-def]
    """The seasonal plan's blocks planned once (``budget`` seconds) with its first ``n``
    ending unproven (slack 10, 20, ...); the decomposer, the slack, that plan, and the
    search limits of the blocks searched after it (``record_limits``)."""
    d, buys, use = seasonal_start()
    slack = {u: 10.0 * (i + 1) for i, u in enumerate(d.units[:n])}
    patch_slack(monkeypatch, slack)
    first = d.evaluate(buys, budget, use)
    assert first is not None
    return d, slack, first, record_limits(monkeypatch)


def record_limits(monkeypatch) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    """Each block unit's search limit, recorded as the decomposition runs it."""
    limits: dict[tuple[int, int], float] = {}
    patch_outcomes(monkeypatch, lambda unit, _r, limit: limits.__setitem__(unit, limit))
    return limits


def cost_of(ctx, buys, use) -> float:  # type: ignore[no-untyped-def]
    """The plan's money, priced like ``Decomposer.checked`` (usage unchanged: feasible)."""
    priced = price_solution(ctx.plan, split_standard(ctx, use, buys), purchases_of(ctx, buys))
    return float(priced.exact_cost + priced.penalty)


def test_rescheduled_reservations_beat_every_single_purchase_on_the_same_usage() -> None:
    plan, _ = plans()
    ctx = prepare(plan)
    d = decomposer(ctx)
    buys, use = d.spreadsheet()
    start = d.checked(buys, use)
    assert start is not None
    best = d.repriced(use)
    assert best is not None  # verified (``checked``)
    assert best.cost <= start.cost + 1e-6
    offerings = {t for (t, _m, _b), n in usage_of(ctx, use).items() if n > 0}
    assert len(offerings) == 1  # one offering: the break-even rule is exact
    (t,) = offerings
    peak = max(n for (tt, _m, _b), n in usage_of(ctx, use).items() if tt == t)
    tried = 0
    for i in range(len(ctx.pools[t].choices)):
        for s in purchase_months(plan):
            for k in range(1, peak + 1):
                other = cost_of(ctx, {(t, i, s): k}, use)
                tried += 1
                assert best.cost <= other + 1e-6, ((t, i, s), k, other, best.cost)
    assert tried > 0
    assert best.cost < start.cost  # the monthly minimum under-reserves this plan


def test_the_decomposition_is_never_dearer_than_the_spreadsheet_plan() -> None:
    for plan in plans():
        ctx = prepare(plan)
        res, d = decompose_alone(ctx, time_limit=1.5)
        assert res.status in ("optimal", "feasible"), res.message
        sol = to_solution(plan, ctx, res)
        assert verify(plan, sol).ok
        greedy = greedy_plan(plan)
        assert greedy.totals is not None and sol.totals is not None
        assert sol.totals.cost <= greedy.totals.cost
        assert any("reservations rescheduled" in line for line in d.log), d.log


def test_blocks_too_large_for_the_time_limit_are_not_started(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # as if every block needed minutes of search (the XL plan on a slow machine): no block
    # pass is started, and the verified spreadsheet plan, repriced, comes back in time
    import capdsl.solve.decompose as decompose

    monkeypatch.setattr(decompose, "UNIT_SEARCH_S_PER_VARIABLE", 10.0)
    started: list[int] = []
    run_all = decompose.Decomposer.run_all

    def counting(self, subs, budget, hint_use):  # type: ignore[no-untyped-def]
        started.append(len(subs))
        return run_all(self, subs, budget, hint_use)

    monkeypatch.setattr(decompose.Decomposer, "run_all", counting)
    plan, _ = plans()
    ctx = prepare(plan)
    res, d = decompose_alone(ctx, time_limit=2)
    assert started == []
    assert any("too large to re-plan" in line for line in d.log), d.log
    assert res.status == "feasible" and res.bound is not None  # the capacity-price bound
    sol = to_solution(plan, ctx, res)
    assert verify(plan, sol).ok
    greedy = greedy_plan(plan)
    assert greedy.totals is not None and sol.totals is not None
    assert sol.totals.cost <= greedy.totals.cost


def test_reservations_scheduled_per_offering_cost_what_the_joint_model_does() -> None:
    # without a commitment cap the offerings' lot-sizing models are independent: solving
    # them one by one gives the joint optimum (a cap that never binds forces the joint model)
    from solve_factory import offering, plan, workload

    from capdsl.solve.schedule import schedule_reservations

    opts = {"1y-no_upfront": ("0", "0.06"), "1y-all_upfront": ("480", "0")}
    small = offering("s.large", od="0.10", reserved=opts, zones=("z1", "z2"))
    big = offering("b.xlarge", od="0.21", reserved=opts, zones=("z1", "z2"))
    api = workload("api", [(small, 100)])
    batchy = workload("etl", [(big, 220)])
    demand = [
        {"api": [300] * 12 + [600] * 12, "etl": [440] * (6 + m) + [0] * (18 - m)} for m in range(6)
    ]
    per_offering = prepare(plan([small, big], [api, batchy], demand, options=tuple(opts)))
    joint = prepare(plan([small, big], [api, batchy], demand, options=tuple(opts), max_hourly=1e6))
    use = decomposer(per_offering).spreadsheet()[1]
    usage = usage_of(per_offering, use)
    assert len({t for t, _m, _b in usage}) == 2
    one = schedule_reservations(per_offering, usage, time_limit=5)
    both = schedule_reservations(joint, usage, time_limit=5)
    assert one is not None and both is not None and one
    assert cost_of(per_offering, one, use) == cost_of(per_offering, both, use)


def test_the_second_descent_leaves_reservations_the_rounds_cannot() -> None:
    # Two offerings of one size: a (zone z1) is cheaper on-demand and reserved, b (zone
    # z2) is the trap: owning two b reservations, every block runs them (a reservation owned
    # is free to the block), so the rounds reserve the same two b again, for ever. Started
    # from no reservations, the blocks run a on-demand, and the two a reservations that pay
    # off for that usage cost half as much.
    a = f.offering("a.large", od="0.10", zones=("z1",), reserved={"1y-no_upfront": ("0", "0.05")})
    b = f.offering("b.large", od="0.12", zones=("z2",), reserved={"1y-no_upfront": ("0", "0.10")})
    api = f.workload("api", [(a, 10.0), (b, 10.0)])
    p = f.plan([a, b], [api], [{"api": [15.0] * 24}] * 3, options=("1y-no_upfront",))
    ctx = prepare(p)
    assert set(ctx.pools) == {a.id, b.id}  # neither is dominated: both stay
    d = decomposer(ctx)
    trap = {(b.id, 0, 0): 2}
    stuck = d.evaluate(trap, 1.0, {})
    assert stuck is not None
    d.consider(stuck)
    # the rounds' step: the same reservations come back (so ``repriced`` has nothing new)
    assert d.schedule(stuck.use) == trap
    assert d.repriced(stuck.use) is None
    d.descend_from_nothing(3.0, [trap])
    assert d.best is not None and d.best.cost < stuck.cost * 0.6
    assert {t for (t, _i, _s), n in d.best.buys.items() if n} == {a.id}
    assert any(line.startswith("second descent") for line in d.log)
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees


def test_a_second_descent_far_above_the_best_plan_is_abandoned() -> None:
    # the trap above, with a best plan a tenth of its cost: the descent's usage with the
    # reservations that serve it best is far above it, so its blocks are not re-planned
    a = f.offering("a.large", od="0.10", zones=("z1",), reserved={"1y-no_upfront": ("0", "0.05")})
    b = f.offering("b.large", od="0.12", zones=("z2",), reserved={"1y-no_upfront": ("0", "0.10")})
    api = f.workload("api", [(a, 10.0), (b, 10.0)])
    p = f.plan([a, b], [api], [{"api": [15.0] * 24}] * 3, options=("1y-no_upfront",))
    d = decomposer(prepare(p))
    trap = {(b.id, 0, 0): 2}
    stuck = d.evaluate(trap, 1.0, {})
    assert stuck is not None
    d.best = replace(stuck, cost=stuck.cost / 10)
    d.descend_from_nothing(3.0, [trap])
    assert len(d.evaluated) == 2  # the trap's and the descent's first: no third
    assert d.log[-1].endswith("too far above the best to re-plan")
    assert d.best.cost == stuck.cost / 10


def test_whether_a_pass_starts_depends_on_the_estimated_work_not_the_wall_clock() -> None:
    # a 1 s limit: 2.5 s of wall clock has passed (a slow machine), but the work counted
    # (measured at calibrated rates) is under the limit, so the next pass starts, as it would
    # on a fast machine; work past the limit stops it on every machine; only a
    # wall clock past three limits and 30 s past the deadline (a machine far slower than
    # calibrated) stops it too
    plan, _ = plans()
    ctx = prepare(plan)
    now = time.perf_counter()
    d = Decomposer(
        ctx, deadline=now - 1.5, seed=0, threads=1, stop=None, on_progress=None, started=now - 2.5
    )
    assert d.time_limit == 1.0
    assert not d.out_of_time()
    d.work = 1.01
    assert d.out_of_time()
    d.work = 0.0
    d.deadline, d.started = now - 20, now - 21  # 21 limits, but only 20 s past
    assert not d.out_of_time()
    d.deadline, d.started = now - 31, now - 32
    assert d.out_of_time()


def test_the_work_counted_is_what_each_unit_measured() -> None:
    # a unit's work: a fixed part, its model's variables and CP-SAT's deterministic time,
    # at the calibrated rates; the same on every run (no wall clock in it)
    plan, _ = plans()
    ctx = prepare(plan)
    totals = []
    for _ in range(2):
        runs: list = []
        d = decomposer(ctx)
        buys, use = d.spreadsheet()
        assert d.work == 0
        real = Decomposer.run_unit

        def run(self, sub, limit, hint, real=real, runs=runs, **kw):  # type: ignore[no-untyped-def]
            r = real(self, sub, limit, hint, **kw)
            runs.append(r)
            return r

        d.run_unit = run.__get__(d)  # type: ignore[method-assign]
        first = d.evaluate(buys, 5.0, use)
        assert first is not None and first.groups is None and len(runs) == len(d.units)
        one = d.work
        assert one == pytest.approx(sum(r.work for r in runs))  # one thread: in turn
        assert all(r.work >= RUN_S for r in runs)
        d.evaluate({}, 5.0, use)
        assert d.work > one
        totals.append(d.work)
    assert totals[0] == totals[1]  # deterministic
    # units proven optimal early measure less than their estimate, which is then scaled
    # by what they measured against it
    d = decomposer(ctx)
    raw = d.pass_work(0.2)
    assert raw == pytest.approx(
        UNCALIBRATED * len(d.units) * d.unit_cost(d.unit_limit(len(d.units), 0.2 * d.time_limit))
    )
    buys, use = d.spreadsheet()
    d.evaluate(buys, 5.0, use)
    assert 0 < d.units_measured < d.units_estimated
    ratio = d.units_measured / d.units_estimated
    assert d.pass_work(0.2) == pytest.approx(raw / UNCALIBRATED * ratio)


def test_the_deepening_searches_again_only_the_blocks_not_proven_and_keeps_the_cheaper(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    d, buys, use = seasonal_start()
    first_units = d.units[:3]

    def unproven(unit, r, _limit):  # type: ignore[no-untyped-def]
        # the first three blocks' searches end unproven (as a short search on a larger
        # plan does); the plan they found stands
        if unit in first_units and r.status == "optimal":
            r.status = "feasible"

    patch_outcomes(monkeypatch, unproven)
    first = d.evaluate(buys, 1.0, use)
    assert first is not None and not first.proven
    unproven_units = sorted(u for (u, _sig), r in d.unit_runs.items() if r.status != "optimal")
    assert set(first_units) <= set(unproven_units) and len(unproven_units) < len(d.units)
    searched = record_limits(monkeypatch)
    deeper = d.evaluate(first.buys, 1.0, first.use, deepen=True)
    assert sorted(searched) == unproven_units  # the proven blocks are not searched again
    assert deeper is not None and deeper.cost <= first.cost + 1e-6
    assert d.checked(dict(deeper.buys), dict(deeper.use)) is not None  # the verifier agrees
    again = d.evaluate(first.buys, 1.0, first.use, deepen=True)
    assert again is not None and again.cost <= deeper.cost + 1e-6  # never dearer


def test_the_deepening_shares_its_time_by_what_each_block_may_still_gain(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    # four blocks end unproven, each with its own distance to CP-SAT's bound
    d, slack, first, limits = unproven_start(monkeypatch, 4, 1.0)
    work = d.work
    d.evaluate(first.buys, 2.0, first.use, deepen=True)
    assert set(limits) == set(slack)
    order = sorted(slack, key=slack.__getitem__)
    assert [limits[u] for u in order] == sorted(limits.values())  # more slack, more time
    assert limits[order[-1]] > limits[order[0]]
    per = d.unit_limit(len(slack), 2.0)
    assert sum(limits.values()) == pytest.approx(per * len(slack))  # the same time in all
    assert d.work > work  # (what the units measured: ``test_the_work_counted_is_...``)


def test_a_pass_shares_its_time_by_what_each_block_of_its_hint_costs(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    d, buys, use = seasonal_start()
    stakes = d.stakes(use)
    # by hand: instances x on-demand price x the block's billed hours
    offerings = {o.id: o.offering for o in d.ctx.plan.offerings}
    (m, b), cost = max(stakes.items(), key=lambda kv: kv[1])
    blk = next(x for x in d.ctx.blocks[m] if x.index == b)
    by_hand = sum(
        n * float(offerings[t].on_demand_hourly) * float(blk.billed)
        for (_w, t, _z, kind, mm, bb), n in use.items()
        if (mm, bb) == (m, b) and kind == STANDARD
    )
    assert cost == pytest.approx(by_hand) and cost > 0
    limits = record_limits(monkeypatch)
    d.evaluate(buys, 1.0, use)
    order = sorted(limits, key=lambda u: stakes.get(u, 0.0))
    assert [limits[u] for u in order] == sorted(limits.values())  # costlier, longer
    assert limits[order[-1]] > limits[order[0]]


def test_the_time_shares_leave_out_what_a_previous_plan_had_and_this_one_lacks() -> None:
    # a what-if's warm start hands over the previous plan's usage: its blocks and offerings
    # need not exist in the edited plan
    d, buys, use = seasonal_start()
    (w, t, z, kind, m, b), _n = next(iter(use.items()))
    foreign = {**use, (w, t, z, kind, m, 999): 5, (w, "aws.gone.large", z, kind, m, b): 5}
    assert d.stakes(foreign) == d.stakes(use)
    cand = d.evaluate(buys, 0.5, foreign)
    assert cand is not None and d.checked(dict(cand.buys), dict(cand.use)) is not None


def test_by_weight_shares_in_proportion_within_its_limits() -> None:
    assert by_weight(0.1, [1.0, 1.0, 2.0]) == pytest.approx([0.075, 0.075, 0.15])
    # unknown slack counts the average; no slack at all: equal shares
    assert by_weight(0.1, [None, 1.0, 3.0]) == pytest.approx([0.1, 0.05, 0.15])
    assert by_weight(0.1, [0.0, 0.0]) == [0.1, 0.1]
    # one block with all the slack gets at most SLACK_CAP shares; none gets less than the least
    got = by_weight(0.1, [100.0] + [0.0] * 9)
    assert got[0] == pytest.approx(SLACK_CAP * 0.1)
    assert all(x >= UNIT_MIN_S for x in got)
    assert sum(got) <= 0.1 * 10 + 1e-9


@pytest.mark.parametrize("dtime", [0.005, 0.5])
def test_a_blocks_work_is_counted_at_a_lower_rate_past_the_knee(
    monkeypatch: pytest.MonkeyPatch, dtime: float
) -> None:
    # a block's model (reservations fixed, light parameters) counts its size, and its
    # deterministic time at BLOCK_S_PER_DTIME up to the knee, at BLOCK_S_PER_DTIME_PAST past
    # it (the L benchmark's long block searches were counted at 1.6-1.8 times their wall
    # clock); the search's measured dtime stands in for one that ran that long
    import capdsl.solve.decompose as decompose

    real = decompose.run_model

    def measured(form, **kw):  # type: ignore[no-untyped-def]
        res = real(form, **kw)
        sizes.append(form.n_variables)
        return replace(res, dtime=dtime)

    sizes: list[int] = []
    monkeypatch.setattr(decompose, "run_model", measured)
    d, buys, use = seasonal_start()
    d.leaning = False
    runs = []
    real_unit = Decomposer.run_unit

    def unit(self, sub, limit, hint, **kw):  # type: ignore[no-untyped-def]
        runs.append(real_unit(self, sub, limit, hint, **kw))
        return runs[-1]

    d.run_unit = unit.__get__(d)  # type: ignore[method-assign]
    d.evaluate(buys, 2.0, use)
    assert runs and len(runs) == len(sizes)
    past = max(0.0, dtime - BLOCK_DTIME_KNEE)
    for r, n in zip(runs, sizes, strict=True):
        expected = (
            RUN_S
            + n * RUN_S_PER_VARIABLE
            + (dtime - past) * BLOCK_S_PER_DTIME
            + past * BLOCK_S_PER_DTIME_PAST
        )
        assert r.work == pytest.approx(expected)


def test_the_monthly_lps_give_the_same_bound_on_one_thread_and_on_two() -> None:
    plan, _ = plans()
    ctx = prepare(plan)
    one = decomposer(ctx)
    two = decomposer(ctx)
    two.threads = 2
    assert one.lp_bound(5.0) and two.lp_bound(5.0)
    assert one.lower is not None and one.lower == two.lower
    assert one.work == two.work * 2  # two threads: the months' estimated wall time halves
    assert any("monthly LP" in line for line in two.log)


def test_with_the_family_bound_the_monthly_lps_run_only_when_their_work_fits() -> None:
    plan, _ = plans()
    ctx = prepare(plan)
    d = decomposer(ctx)
    assert d.aggregate_bound(1.0)
    assert d.lower is not None
    families = d.lower
    assert any("over instance families" in line for line in d.log)
    # their estimated work is more than a budget of nothing: left out, the family bound stands
    assert d.lp_bound(1e-9, optional=True) is False
    assert d.lower == families
    assert any("monthly LP relaxations skipped" in line for line in d.log)
    # with the budget for them they run; the higher of the two bounds is the plan's
    assert d.lp_bound(5.0, optional=True)
    assert any("monthly LP relaxations (reservations rented" in line for line in d.log)
    assert d.lower >= families


def test_no_lp_bound_when_a_month_is_too_large_and_the_others_are_not_built(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    import capdsl.solve.decompose as decompose

    plan, _ = plans()
    ctx = prepare(plan)
    d = decomposer(ctx)
    d.threads = 2
    built: list[int] = []
    real = decompose.formulate

    def counted(sub, **kw):  # type: ignore[no-untyped-def]
        built.append(next(i for i, bs in enumerate(sub.blocks) if bs))
        return real(sub, **kw)

    monkeypatch.setattr(decompose, "formulate", counted)
    monkeypatch.setattr(decompose, "LP_MAX_VARIABLES", 1)
    assert d.lp_bound(5.0) is False
    assert built == []  # the first month is too large by its count: no month is built
    assert d.lower is None
    assert d.work == 0.0  # nothing built, no work counted


def test_the_deepening_leaves_the_best_plan_only_for_a_clearly_better_prospect() -> None:
    from capdsl.solve.decompose import SWITCH_MARGIN, SWITCH_MAX, Candidate

    plan, _ = plans()
    ctx = prepare(plan)
    d = decomposer(ctx)
    best = Candidate({}, {}, 100.0, False, slack=1.0)
    d.best = best
    assert d.deepening_target() is best  # nothing else re-planned
    # cost - slack: best 99; the margin asks for below 99 - 4 = 95
    near = Candidate({}, {}, 103.0, False, slack=100 * SWITCH_MARGIN + 1.0)  # 98
    d.evaluated = [best, near]
    assert d.deepening_target() is best
    far = Candidate({}, {}, 110.0, False, slack=20.0)  # 90
    farther = Candidate({}, {}, 105.0, False, slack=14.0)  # 91
    d.evaluated = [best, near, farther, far]
    assert d.deepening_target() is far  # the lowest cost - slack
    # a plan far above the best (its blocks cut short: nearly all its cost is slack) is
    # not a prospect, however low its cost less slack
    cut_short = Candidate({}, {}, 100.0 * SWITCH_MAX + 1.0, False, slack=100.0)  # 21
    d.evaluated = [best, near, farther, far, cut_short]
    assert d.deepening_target() is far
    at_most = Candidate({}, {}, 100.0 * SWITCH_MAX, False, slack=100.0)  # 20
    d.evaluated = [best, near, farther, far, cut_short, at_most]
    assert d.deepening_target() is at_most


def test_every_re_planned_plan_records_its_blocks_slack() -> None:
    plan, _ = plans()
    ctx = prepare(plan)
    d = decomposer(ctx)
    buys, use = d.spreadsheet()
    cand = d.evaluate(buys, 1.0, use)
    assert cand is not None and d.evaluated == [cand]
    runs = [r for r in d.unit_runs.values()]
    gaps = [r.objective - r.bound for r in runs if r.objective is not None and r.bound is not None]
    assert cand.slack == sum(max(0.0, g) for g in gaps) and cand.slack >= 0.0
    deeper = d.evaluate(cand.buys, 1.0, cand.use, deepen=True)
    assert deeper is not None and d.evaluated == [cand]  # a deepening is not a new start


def _one_offering_plan():  # type: ignore[no-untyped-def]
    # one offering in two zones, 10 per instance, demand 15 in every hour: two instances
    # (a lane may run up to the two the demand needs: four in all)
    a = f.offering(
        "a.large", od="0.10", zones=("z1", "z2"), reserved={"1y-no_upfront": ("0", "0.05")}
    )
    api = f.workload("api", [(a, 10.0)])
    p = f.plan([a], [api], [{"api": [15.0] * 24}] * 3, options=("1y-no_upfront",))
    return a, prepare(p)


def test_lean_runs_no_reserved_instance_beyond_a_blocks_needs_at_the_same_cost() -> None:
    # Four reservations owned: with its reservations fixed, a block pays nothing for a
    # reserved instance, so a plan running all four costs what one running two does (and
    # the reservations rescheduled for that usage would be the four again). ``lean`` keeps
    # the cost and cuts the usage to the two the block needs.
    a, ctx = _one_offering_plan()
    owned, cost = owned_by_month(ctx, {(a.id, 0, 0): 4})
    sub = unit_context(ctx, (0, 0), "fixed", owned, cost, batch="split")
    keys = [("api", a.id, z, STANDARD, 0, 0) for z in ("z1", "z2")]
    pinned, _ = formulate(sub)  # the same model, both lanes pinned to two
    for k in keys:
        pinned.model.add(pinned.use[k] == 2)
    fat = run_model(pinned, time_limit=1.0, workers=1, keep_values=True)
    assert fat.status == "optimal" and fat.use == dict.fromkeys(keys, 2)
    assert fat.raw_objective is not None and len(fat.values) == len(pinned.model.proto.variables)
    form, _ = formulate(sub)
    leaner = lean(form, fat, keys, dtime=1.0)
    assert leaner is not None and sum(leaner.values()) == 2
    check, _ = formulate(sub)  # that usage: a plan of the block, at the same cost
    for k in keys:
        check.model.add(check.use[k] == leaner.get(k, 0))
    same = run_model(check, time_limit=1.0, workers=1, keep_values=True)
    assert same.status == "optimal" and same.objective == fat.objective
    # nothing left to cut: no plan returned
    again, _ = formulate(sub)
    assert lean(again, same, keys, dtime=1.0) is None


def test_the_first_plan_is_lean_so_its_usage_reserves_only_what_it_needs(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    import capdsl.solve.decompose as decompose

    a, ctx = _one_offering_plan()
    fat = {
        ("api", a.id, z, STANDARD, m, b.index): 2
        for m, bs in enumerate(ctx.blocks)
        for b in bs
        for z in ("z1", "z2")
    }
    real = decompose.run_model

    def kept_its_hint(form, **kw):  # type: ignore[no-untyped-def]
        # a short search that ends on its hint, four reserved instances where two do (the
        # block's own model is left as it was, for ``lean``)
        pinned = replace(form, model=form.model.clone())
        for key, v in form.use.items():
            pinned.model.add(pinned.model.get_int_var_from_proto_index(v.index) == fat[key])
        return real(pinned, **kw)

    monkeypatch.setattr(decompose, "run_model", kept_its_hint)
    for leaning, runs in ((False, 4), (True, 2)):
        d = decomposer(ctx)
        d.leaning = leaning
        first = d.evaluate({(a.id, 0, 0): 4}, 1.0, fat)
        assert first is not None
        assert set(usage_of(ctx, first.use).values()) == {runs}
        assert d.schedule(first.use) == {(a.id, 0, 0): runs}
        assert d.checked(dict(first.buys), dict(first.use)) is not None  # the verifier agrees


def test_a_further_pass_must_fit_with_the_work_already_done() -> None:
    plan, _ = plans()
    d = decomposer(prepare(plan))
    one = d.pass_work(0.1)
    assert one > 0 and d.pass_work(0.1, 3) == 3 * one
    assert d.fits(one)
    d.work = d.work_cap() - one / 2  # the same pass, after most of the budget is spent
    assert not d.fits(one) and d.fits(0.0)


def test_a_plan_whose_reservations_serve_its_usage_best_is_not_rescheduled(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    import capdsl.solve.decompose as decompose

    plan, _ = plans()
    d = decomposer(prepare(plan))
    calls: list[int] = []
    real = decompose.schedule_reservations

    def counted(*a, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(decompose, "schedule_reservations", counted)
    buys, use = d.spreadsheet()
    start = d.checked(buys, use)
    assert d.consider(start) and start is not None and not start.scheduled
    d.reprice_best()  # the spreadsheet's own reservations: rescheduled
    assert len(calls) == 1
    assert d.best is not None and d.best.scheduled and d.best.use == use
    d.reprice_best()  # the same usage would get the same reservations: not scheduled again
    assert len(calls) == 1
    assert d.schedule(use) == d.best.buys  # what it would have found


def test_a_plan_overrunning_a_soft_budget_is_checked_at_its_cost_and_penalty() -> None:
    # the verifier recomputes the objective with the soft budget's penalty: a plan built
    # outside CP-SAT (the spreadsheet's, a repriced one) must report it so, or every plan
    # overrunning a soft budget is refused
    a = f.offering("a.large", od="0.10", reserved={"1y-no_upfront": ("0", "0.06")})
    web = f.workload("web", [(a, 100.0)])
    soft = Budget(name="budget", monthly=Decimal(20), hard=False, penalty=Decimal(2))
    p = f.plan([a], [web], [{"web": [250.0]}] * 2, options=["1y-no_upfront"], budgets=[soft])
    ctx = prepare(p)
    d = decomposer(ctx)
    buys, use = d.spreadsheet(reserved=True)
    cand = d.checked(buys, use)
    assert cand is not None
    priced = price_solution(p, split_standard(ctx, use, buys), purchases_of(ctx, buys))
    assert priced.penalty > 0  # over the budget every month
    assert cand.cost == pytest.approx(float(priced.exact_cost + priced.penalty))
