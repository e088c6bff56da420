"""Hand-built, internally consistent Plan and Solution values for the report tests.

A small shop: ``recs`` (a service, predictions/s, N+1, survives a zone) and ``etl`` (batch,
vCPU-hours per month) over three months on two AWS offerings in two zones, with one owned
reservation, new reservations bought in months 0 and 1, a binding constraint and a why-not.
Month costs are computed here with the conventions of ``capdsl.solve.solution`` (the
solver's job), so the renderers can be checked against them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from capdsl.lang.diagnostics import Span, error, warning
from capdsl.model.plan import (
    BatchSpec,
    Capacity,
    CommitmentPolicy,
    DemandBlock,
    ExistingReservation,
    MonthDemand,
    Plan,
    PlanOffering,
    ReservedOption,
    Setting,
    SpotPolicy,
    Workload,
)
from capdsl.pricing.catalog import Offering, ReservedPrice, SourceStamp
from capdsl.solve.solution import (
    Allocation,
    Binding,
    MonthCost,
    Purchase,
    Solution,
    SolveStats,
    Totals,
    VerifyReport,
    Violation,
    WhyNot,
)

C7G = "aws.c7g.2xlarge@us-east-1"
M7G = "aws.m7g.xlarge@us-east-1"
ZA, ZB = "us-east-1a", "us-east-1b"
HPM = Decimal(730)
MONTHS = ["2027-01", "2027-02", "2027-03"]
HOURS = [744, 672, 744]


def offerings() -> list[PlanOffering]:
    c7g = Offering(
        provider="aws",
        region="us-east-1",
        instance_type="c7g.2xlarge",
        zones=(ZA, ZB),
        vcpu=8,
        memory_gib=16,
        arch="arm64",
        family="c7g",
        on_demand_hourly=Decimal("0.289"),
        spot_hourly={ZA: Decimal("0.1234"), ZB: Decimal("0.1301")},
        spot_interruption=5,
        reserved=(
            ReservedPrice(term_months=12, payment="no_upfront", hourly=Decimal("0.1830")),
            ReservedPrice(term_months=36, payment="all_upfront", upfront=Decimal("3504")),
        ),
        as_of=dt.date(2026, 7, 20),
    )
    m7g = Offering(
        provider="aws",
        region="us-east-1",
        instance_type="m7g.xlarge",
        zones=(ZA, ZB),
        vcpu=4,
        memory_gib=16,
        arch="arm64",
        family="m7g",
        on_demand_hourly=Decimal("0.1632"),
        spot_hourly={ZA: Decimal("0.0702"), ZB: Decimal("0.0688")},
        spot_interruption=10,
        as_of=dt.date(2026, 7, 20),
    )
    return [
        PlanOffering(id=C7G, catalog="aws", offering=c7g),
        PlanOffering(id=M7G, catalog="aws", offering=m7g, price_notes=("enterprise discount 0%",)),
    ]


def demand() -> list[MonthDemand]:
    peaks = [5800.0, 6300.0, 6900.0]
    out = []
    for i, (month, hours) in enumerate(zip(MONTHS, HOURS, strict=True)):
        weight = 730 / hours
        peak_hours = 248 if hours == 744 else 224
        off_hours = hours - peak_hours
        blocks = [
            DemandBlock(
                index=0,
                hours=peak_hours,
                billed_hours=peak_hours * weight,
                level={"recs": peaks[i]},
                label="daytime peak",
            ),
            DemandBlock(
                index=1,
                hours=off_hours,
                billed_hours=off_hours * weight,
                level={"recs": peaks[i] * 0.45},
                label="night",
            ),
        ]
        out.append(
            MonthDemand(
                index=i,
                month=month,
                hours=hours,
                hour_weight=weight,
                blocks=blocks,
                block_of_hour=[0 if h % 24 < 8 else 1 for h in range(hours)],
                work={"etl": 2800.0},
            )
        )
    return out


def make_plan(scenario: str | None = None, growth: float = 1.0) -> Plan:
    span = Span("shop.cap", 20, 3, 20, 19, 400, 416)
    recs = Workload(
        name="recs",
        kind="service",
        unit="prediction",
        team="discovery",
        capacities=(
            Capacity(
                offering=C7G,
                per_instance=900.0,
                zones=(ZA, ZB),
                spot_zones=(ZA, ZB),
                basis="M/M/8 at p95 80 ms",
            ),
            Capacity(offering=M7G, per_instance=420.0, zones=(ZA, ZB), spot_zones=(ZA, ZB)),
        ),
        headroom=0.3,
        redundancy=1,
        survive_zones=1,
        spot=SpotPolicy(max_share=0.4, per_pool=0.15),
        cliff_month=1,
        cliff_reason="the 4 owned m7g.xlarge and 6 reserved c7g.2xlarge carry 5,490 prediction/s; 2027-02 needs 6,110",
    )
    etl = Workload(
        name="etl",
        kind="batch",
        unit="vcpu_hour",
        team="data",
        capacities=(Capacity(offering=M7G, per_instance=4.0, zones=(ZA, ZB), spot_zones=(ZA, ZB)),),
        batch=BatchSpec(work_unit="vcpu_hour", interruptible=True, checkpoint_overhead=0.05),
    )
    d = demand()
    if growth != 1.0:
        d = [
            md.model_copy(
                update={
                    "blocks": [
                        b.model_copy(update={"level": {k: v * growth for k, v in b.level.items()}})
                        for b in md.blocks
                    ]
                }
            )
            for md in d
        ]
    return Plan(
        name="shop",
        scenario=scenario,
        scenarios=("moderate", "aggressive"),
        plan_for="moderate",
        start="2027-01",
        horizon=3,
        months=list(MONTHS),
        offerings=offerings(),
        workloads=[recs, etl],
        fleet=[
            ExistingReservation(
                offering=M7G,
                zone=None,
                count=4,
                start=-10,
                end=2,
                hourly=Decimal("0.1028"),
                label="2026 RI",
            )
        ],
        commitments=CommitmentPolicy(
            options=(
                ReservedOption(term_months=12, payment="no_upfront"),
                ReservedOption(term_months=36, payment="all_upfront"),
            ),
            lead_time_months=0,
        ),
        demand=d,
        sources=[
            SourceStamp(
                source="bundled",
                provider="aws",
                as_of=dt.date(2026, 7, 20),
                origin="bundled snapshot aws-us-east-1-2026-07",
                detail="on-demand and reserved from the AWS Price List; spot from Spot Advisor",
            )
        ],
        settings={
            "recs.redundancy": Setting(path="recs.redundancy", text="redundancy = N+1", span=span),
            "recs.spot.max": Setting(path="recs.spot.max", text="max = 40%"),
        },
        source_path="shop.cap",
    )


def allocations(plan: Plan) -> list[Allocation]:
    """Enough capacity for required demand (peak x 1.3) in every block."""
    out: list[Allocation] = []
    for md in plan.demand:
        m = md.index
        for b in md.blocks:
            required = b.level["recs"] * 1.3
            # 6 reserved c7g (3 per zone) from month 0; 2 more from month 1 (the 3y buy)
            reserved = 6 if m == 0 else 8
            cap = reserved * 900.0
            out.append(
                Allocation(
                    workload="recs",
                    offering=C7G,
                    zone=ZA,
                    option="reserved",
                    month=m,
                    block=b.index,
                    count=reserved // 2,
                )
            )
            out.append(
                Allocation(
                    workload="recs",
                    offering=C7G,
                    zone=ZB,
                    option="reserved",
                    month=m,
                    block=b.index,
                    count=reserved // 2,
                )
            )
            if m < 2:  # the owned m7g reservations run recs while active
                out.append(
                    Allocation(
                        workload="recs",
                        offering=M7G,
                        zone=ZA,
                        option="reserved",
                        month=m,
                        block=b.index,
                        count=2,
                    )
                )
                out.append(
                    Allocation(
                        workload="recs",
                        offering=M7G,
                        zone=ZB,
                        option="reserved",
                        month=m,
                        block=b.index,
                        count=2,
                    )
                )
                cap += 4 * 420.0
            missing = max(0.0, required - cap)
            spot = min(2, int(-(-missing // 420)))
            if spot:
                out.append(
                    Allocation(
                        workload="recs",
                        offering=M7G,
                        zone=ZB,
                        option="spot",
                        month=m,
                        block=b.index,
                        count=spot,
                    )
                )
                missing -= spot * 420
            if missing > 0:
                out.append(
                    Allocation(
                        workload="recs",
                        offering=C7G,
                        zone=ZA,
                        option="on_demand",
                        month=m,
                        block=b.index,
                        count=int(-(-missing // 900)),
                    )
                )
        # etl runs at night on spot: 4 vCPU-h/h x 0.95 per instance
        night = md.blocks[1]
        need = md.work["etl"] / (4 * 0.95 * night.hours)
        out.append(
            Allocation(
                workload="etl",
                offering=M7G,
                zone=ZA,
                option="spot",
                month=m,
                block=1,
                count=int(-(-need // 1)),
            )
        )
    return out


def purchases() -> list[Purchase]:
    return [
        Purchase(
            offering=C7G,
            zone=ZA,
            term_months=12,
            payment="no_upfront",
            month=0,
            count=3,
            upfront=Decimal(0),
            hourly=Decimal("0.1830"),
            order_by="2026-12",
            beyond_horizon=3 * 9 * Decimal("0.1830") * HPM,
        ),
        Purchase(
            offering=C7G,
            zone=ZB,
            term_months=12,
            payment="no_upfront",
            month=0,
            count=3,
            upfront=Decimal(0),
            hourly=Decimal("0.1830"),
            order_by="2026-12",
            beyond_horizon=3 * 9 * Decimal("0.1830") * HPM,
        ),
        Purchase(
            offering=C7G,
            zone=ZA,
            term_months=36,
            payment="all_upfront",
            month=1,
            count=1,
            upfront=Decimal("3504"),
            hourly=Decimal(0),
            order_by="2027-01",
            beyond_horizon=Decimal("3504") * 34 / 36,
        ),
        Purchase(
            offering=C7G,
            zone=ZB,
            term_months=36,
            payment="all_upfront",
            month=1,
            count=1,
            upfront=Decimal("3504"),
            hourly=Decimal(0),
            order_by="2027-01",
            beyond_horizon=Decimal("3504") * 34 / 36,
        ),
    ]


def _dec(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def costs(
    plan: Plan, allocs: list[Allocation], buys: list[Purchase]
) -> tuple[list[MonthCost], Decimal, dict[str, Decimal]]:
    """Month costs by the Solution docstring's conventions (amortised reservations)."""
    by_month: list[MonthCost] = []
    all_od = Decimal(0)
    workload_cost: dict[str, Decimal] = defaultdict(Decimal)
    for md in plan.demand:
        m = md.index
        od = spot = reserved = existing = upfront_cash = Decimal(0)
        per_w: dict[str, Decimal] = defaultdict(Decimal)
        for a in allocs:
            if a.month != m:
                continue
            off = plan.offering(a.offering).offering
            hours = _dec(md.blocks[a.block].billed_hours)
            assert off.on_demand_hourly is not None
            all_od += off.on_demand_hourly * a.count * hours
            if a.option == "on_demand":
                c = off.on_demand_hourly * a.count * hours
                od += c
                per_w[a.workload] += c
            elif a.option == "spot":
                c = off.spot_hourly[a.zone] * a.count * hours
                spot += c
                per_w[a.workload] += c
        for p in buys:
            if p.month <= m < p.month + p.term_months:
                c = p.count * (p.hourly * HPM + p.upfront / p.term_months)
                reserved += c
                per_w["recs"] += c
            if p.month == m:
                upfront_cash += p.count * p.upfront
        for r in plan.fleet:
            if r.start <= m < r.end:
                c = r.count * r.hourly * HPM
                existing += c
                per_w["recs"] += c
        total = od + spot + reserved + existing
        for k, v in per_w.items():
            workload_cost[k] += v
        by_month.append(
            MonthCost(
                month=md.month,
                index=m,
                total=total,
                on_demand=od,
                spot=spot,
                reserved=reserved,
                existing=existing,
                upfront_cash=upfront_cash,
                by_workload=dict(per_w),
            )
        )
    return by_month, all_od, dict(workload_cost)


def make_solution(plan: Plan | None = None, *, verified: bool = True) -> Solution:
    plan = plan or make_plan()
    allocs = allocations(plan)
    buys = purchases()
    months, all_od, per_workload = costs(plan, allocs, buys)
    cost = sum((mc.total for mc in months), Decimal(0))
    upfront = sum((p.count * p.upfront for p in buys), Decimal(0))  # cash paid upfront
    # the upfront share amortised into the horizon's months; the rest is recurring
    amortised = sum(
        (
            p.count * p.upfront / p.term_months * min(p.term_months, plan.horizon - p.month)
            for p in buys
        ),
        Decimal(0),
    )
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status="optimal",
        objective=cost,
        bound=cost * Decimal("0.9995"),
        gap=0.0005,
        allocations=allocs,
        purchases=buys,
        months=months,
        totals=Totals(
            cost=cost,
            all_on_demand_cost=all_od,
            savings_pct=float((all_od - cost) / all_od * 100),
            upfront=upfront,
            recurring=cost - amortised,
            beyond_horizon=sum((p.beyond_horizon for p in buys), Decimal(0)),
        ),
        workload_costs=per_workload,
        reserved_utilisation=0.97,
        spot_share=0.12,
        binding=[
            Binding(
                month=2,
                setting="recs.redundancy",
                text="N+1 after losing us-east-1a binds for recs in 2027-03 (daytime peak)",
            ),
            Binding(
                month=None,
                setting="recs.spot.max",
                text="spot share of recs at 40% (max = 40%) in every peak block",
            ),
        ],
        why_not=[
            WhyNot(
                workload="recs",
                chosen=C7G,
                alternative="aws.c7i.2xlarge@us-east-1",
                delta_per_month=Decimal("412.77"),
                text="why not aws.c7i.2xlarge: +$412.77/month (lower capacity per dollar at p95 80 ms)",
            ),
        ],
        stats=SolveStats(
            solve_s=1.234,
            build_s=0.05,
            vars_before=480,
            vars_after=96,
            constraints=210,
            offerings_before=12,
            offerings_after=2,
            passes={"dominance": "dropped 10 offerings"},
            blocks=6,
            compression_overhead=0.012,
            seed=0,
            workers=8,
        ),
        diagnostics=[
            warning(
                "W0101",
                "reserved utilisation of aws.m7g.xlarge below 50% after 2027-02",
                help="let the 2026 RI expire or move etl onto it",
            )
        ],
        verified=verified,
        verification=VerifyReport(
            ok=True,
            checks={"demand": 18, "zone_loss": 12, "redundancy": 6, "cost": 1},
            recomputed_cost=cost,
        )
        if verified
        else None,
    )


def make_infeasible(plan: Plan | None = None) -> Solution:
    plan = plan or make_plan(scenario="aggressive")
    span = Span("shop.cap", 31, 1, 31, 28, 700, 727)
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status="infeasible",
        message="no plan meets the monthly budget and N+1 for recs in 2027-03",
        diagnostics=[
            error(
                "E0410",
                "monthly budget of $6,000 cannot carry recs in 2027-03 with N+1",
                span,
                label="this budget",
                help="raise the budget to at least $7,150 or relax redundancy",
                notes=("the cheapest plan meeting N+1 costs $7,143.20 in 2027-03",),
            ),
        ],
    )


def make_error(plan: Plan | None = None) -> Solution:
    plan = plan or make_plan()
    sol = make_solution(plan, verified=False)
    return sol.model_copy(
        update={
            "status": "error",
            "message": "the solver's plan failed independent verification: demand not met",
            "verification": VerifyReport(
                ok=False,
                checks={"demand": 18},
                violations=[
                    Violation(
                        check="demand",
                        message="recs short by 120 prediction/s in 2027-03 hour 14",
                        workload="recs",
                        month=2,
                        hour=14,
                    )
                ],
            ),
            "diagnostics": [
                error(
                    "E0490",
                    "verification failed: recs short by 120 prediction/s in 2027-03 hour 14",
                ),
            ],
        }
    )


def make_scenarios() -> list[tuple[Plan, Solution]]:
    """Base, moderate (the plan-for scenario) and aggressive, as ``--all-scenarios`` gives."""
    out = []
    for name, growth in ((None, 1.0), ("moderate", 1.1), ("aggressive", 1.25)):
        plan = make_plan(scenario=name, growth=growth)
        out.append((plan, make_solution(plan)))
    return out
