"""The month-by-block decomposition on small generated plans, against the whole-plan model's
proven optimum: its plan is accepted by the independent verifier and is no cheaper than the
optimum, and its bound is no higher. The plans mix what its passes treat apart: services of
one demand level a month (the chained plan, the services' blocks alone) or several, batch
work, reservations owned at a cost, soft and hard budgets, quotas, a lead time and a
commitment cap."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from solve_factory import limits, offering, plan, workload
from test_solve_decompose_rounds import decompose_alone

from capdsl.model.plan import SpotPolicy
from capdsl.solve import solve
from capdsl.solve.prune import prepare

RESERVED = {"1y-no_upfront": ("0", "0.055"), "1y-all_upfront": ("400", "0")}


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    services=st.lists(
        st.tuples(
            st.sampled_from([80.0, 150.0, 260.0, 420.0, 700.0]),
            st.integers(0, 1),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    flat=st.booleans(),
    work=st.sampled_from([None, 40.0]),
    fleet=st.sampled_from([None, (2, 0.05), (3, 0.5)]),
    budget=st.sampled_from([None, (300, False), (3000, True)]),
    quota=st.sampled_from([None, 3]),
    lead_time=st.integers(0, 1),
    cap=st.sampled_from([None, 0.3]),
)
def test_the_decomposition_is_verified_and_between_its_bound_and_the_optimum(
    services: list[tuple[float, int, bool, bool]],
    flat: bool,
    work: float | None,
    fleet: tuple[int, float] | None,
    budget: tuple[int, bool] | None,
    quota: int | None,
    lead_time: int,
    cap: float | None,
) -> None:
    small = offering("m.large", od="0.10", vcpu=2, spot="0.035", reserved=RESERVED)
    mid = offering("m.xl", od="0.19", vcpu=4, spot="0.07", reserved=RESERVED)
    big = offering("m.2xl", od="0.37", vcpu=8, spot="0.13", reserved=RESERVED)
    sizes = [(small, 90.0), (mid, 190.0), (big, 400.0)]
    workloads = [
        workload(
            f"w{i}",
            sizes,
            redundancy=redundancy,
            survive_zones=int(survive),
            spot=SpotPolicy(allowed=True, max_share=0.4) if spot else None,
        )
        for i, (_level, redundancy, survive, spot) in enumerate(services)
    ]
    months = []
    for m in range(3):
        month = {}
        for i, (level, *_rest) in enumerate(services):
            base = level * (1 + 0.1 * m)  # growing month to month
            month[f"w{i}"] = [base] if flat else [base] * 12 + [base * 0.4] * 12
        months.append(month)
    if work is not None:
        workloads.append(workload("jobs", [(small, 2.0), (big, 8.0)], kind="batch"))
        for month in months:
            month["jobs"] = [0.0] * len(month["w0"])
    p = plan(
        [small, mid, big],
        workloads,
        months,
        work=[{"jobs": work}] * 3 if work is not None else None,
        options=tuple(RESERVED),
        **limits((small, *fleet) if fleet else None, budget, (big, quota) if quota else None),
        lead_time=lead_time,
        max_hourly=cap,
    )
    best = solve(p, time_limit=10)
    if best.status != "optimal":
        return  # nothing proven to compare with (infeasible plans are tested apart)
    assert best.objective is not None
    optimum = float(best.objective)
    cents = 0.01 * p.horizon  # (the solution rounds each month to the cent)
    ctx = prepare(p)
    _res, d = decompose_alone(ctx, time_limit=3)
    assert d.best is not None
    assert d.checked(dict(d.best.buys), dict(d.best.use)) is not None  # the verifier agrees
    assert d.best.cost >= optimum - cents - 1e-6
    assert d.lower is not None and d.lower <= optimum + cents + 1e-6
