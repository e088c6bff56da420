"""Each service alone in the best plan's blocks not proven optimal, the other workloads held
(``Decomposer.services_alone``): a service's block plan is replaced only by one proven
optimal beside the same others, so the plan never gets dearer, and the result is checked
whole by the verifier."""

from __future__ import annotations

from collections import defaultdict

import pytest
from test_solve_decompose_rounds import decomposer

from capdsl.bench.generate import generate
from capdsl.solve.decompose import MonthRun, owned_signatures
from capdsl.solve.prune import prepare
from capdsl.solve.schedule import owned_by_month


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    # three services on one catalog, one demand level a month
    return prepare(generate("M", 0, demand="monthly"))


def started(ctx, spare: int = 0):  # type: ignore[no-untyped-def]
    """A decomposer whose best plan is the spreadsheet's usage with the reservations that
    serve it best (each service's instances there are already the best beside the others)
    and ``spare`` more instances of one of svc00's lanes in every month, on demand; no
    block searched yet, so none is proven."""
    d = decomposer(ctx)
    _buys, use = d.spreadsheet(reserved=True)
    lean = d.repriced(use)
    assert lean is not None
    use = dict(use)
    for m in range(ctx.horizon):
        key = next(k for k in sorted(use) if k[0] == "svc00" and k[4] == m and use[k])
        use[key] += spare
    start = d.checked(dict(lean.buys), use)
    assert start is not None
    d.best = start
    return d, start


def by_service_block(use):  # type: ignore[no-untyped-def]
    out: dict[tuple[str, int, int], dict] = defaultdict(dict)
    for k, n in use.items():
        if n:
            out[(k[0], k[4], k[5])][k] = n
    return out


def test_each_service_alone_lowers_the_plan_and_the_verifier_accepts_it(ctx) -> None:  # type: ignore[no-untyped-def]
    lean, _ = started(ctx)
    assert not lean.services_alone(budget=30.0)  # nothing to gain there
    d, start = started(ctx, spare=2)
    assert d.services_alone(budget=30.0)
    best = d.best
    assert best is not None
    # the spare instances are dropped: no dearer than the spreadsheet's own plan
    assert best.cost <= lean.best.cost + 1e-6 < start.cost
    # the verifier accepts it (``checked`` builds the Solution and runs ``verify``)
    assert d.checked(dict(best.buys), dict(best.use)) is not None
    assert any(
        line.startswith("each service alone in the 12 blocks not proven optimal") for line in d.log
    )
    # the other services' instances are held as they were
    before, after = by_service_block(start.use), by_service_block(best.use)
    assert set(before) == set(after)
    for key, part in before.items():
        if key[0] != "svc00":
            assert after[key] == part


def test_a_block_plan_is_kept_only_when_proven_optimal(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d, start = started(ctx, spare=2)
    real = d.run_all

    def unproven(subs, budget, hint, **kw):  # type: ignore[no-untyped-def]
        runs = real(subs, budget, hint, **kw)
        return [
            MonthRun(r.month, "feasible", r.use, r.rent, r.objective, r.bound, r.work) for r in runs
        ]

    monkeypatch.setattr(d, "run_all", unproven)
    assert not d.services_alone(budget=30.0)
    assert d.best is start


def test_blocks_proven_optimal_for_the_plans_reservations_are_left_alone(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d, start = started(ctx, spare=2)
    owned, _ = owned_by_month(ctx, start.buys)
    signature = owned_signatures(owned, ctx.horizon)
    for u in d.units:
        d.unit_runs[(u, signature[u[0]])] = MonthRun(u[0], "optimal")

    def never(*a, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("no block should be searched")

    monkeypatch.setattr(d, "run_all", never)
    assert not d.services_alone(budget=30.0)
    assert d.best is start


def test_blocks_too_large_to_replan_give_it_all_the_work_left(ctx) -> None:  # type: ignore[no-untyped-def]
    """No deepening runs on a plan whose blocks are too large for the time limit; each
    service alone then gets all the work the search leaves, else a fifth of the limit at
    most (the idle margin over the work left)."""
    from capdsl.solve.decompose import ALONE_SHARE, IDLE_MARGIN

    d = decomposer(ctx)  # a limit of about 60 s
    limit = d.time_limit
    d.work = limit * 0.5
    assert d.alone_budget() == pytest.approx(limit * ALONE_SHARE)
    d.work = limit * 0.95
    assert d.alone_budget() == pytest.approx(d.spare() + IDLE_MARGIN * limit)
    d.too_large = True
    assert d.alone_budget() == pytest.approx(d.spare())
    d.work = limit * 0.5
    assert d.alone_budget() == pytest.approx(d.spare()) and d.spare() > limit * ALONE_SHARE
