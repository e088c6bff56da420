"""Hand-built, internally consistent Plan and Solution values for the report tests.

A small shop: ``recs`` (a service, predictions/s, N+1, survives a zone) and ``etl`` (batch,
vCPU-hours per month) over three months on two AWS offerings in two zones, with one owned
reservation, new reservations bought in months 0 and 1, a binding constraint and a why-not.
Month costs are computed here with the conventions of ``capdsl.solve.solution`` (the
solver's job), so the renderers can be checked against them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
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
    PurchaseOption,
    ReservedOption,
    Setting,
    SpotPolicy,
    Workload,
)
from capdsl.pricing.catalog import Offering, Payment, ReservedPrice, SourceStamp
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
START = "2027-01"


def month_labels(horizon: int) -> list[str]:
    return [f"{2027 + i // 12}-{i % 12 + 1:02d}" for i in range(horizon)]


def calendar_hours(label: str) -> int:
    year, month = (int(x) for x in label.split("-"))
    return calendar.monthrange(year, month)[1] * 24


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


def demand(horizon: int = 3) -> list[MonthDemand]:
    """Two blocks a month (8 peak hours a day, the rest night); recs grows ~8% a month."""
    out = []
    for i, month in enumerate(month_labels(horizon)):
        peak = 5800.0 * 1.085**i
        hours = calendar_hours(month)
        weight = 730 / hours
        peak_hours = hours // 3
        off_hours = hours - peak_hours
        blocks = [
            DemandBlock(
                index=0,
                hours=peak_hours,
                billed_hours=peak_hours * weight,
                level={"recs": round(peak, 1)},
                label="daytime peak",
            ),
            DemandBlock(
                index=1,
                hours=off_hours,
                billed_hours=off_hours * weight,
                level={"recs": round(peak * 0.45, 1)},
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
                block_of_hour=(of_hour := [0 if h % 24 < 8 else 1 for h in range(hours)]),
                hourly={"recs": [blocks[b].level["recs"] for b in of_hour]},
                work={"etl": 2800.0},
            )
        )
    return out


def make_plan(scenario: str | None = None, growth: float = 1.0, horizon: int = 3) -> Plan:
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
    d = demand(horizon)
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
        start=START,
        horizon=horizon,
        months=month_labels(horizon),
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


def purchases(plan: Plan) -> list[Purchase]:
    """3 + 3 one-year no-upfront c7g from month 0, 1 + 1 three-year all-upfront from month 1."""

    def buy(
        zone: str, term: int, payment: Payment, month: int, count: int, upfront: str, hourly: str
    ) -> Purchase:
        after = max(0, month + term - plan.horizon)  # months of the term beyond the horizon
        up, hr = Decimal(upfront), Decimal(hourly)
        return Purchase(
            offering=C7G,
            zone=zone,
            term_months=term,
            payment=payment,
            month=month,
            count=count,
            upfront=up,
            hourly=hr,
            order_by=month_labels(plan.horizon + 1)[month - 1] if month else "2026-12",
            beyond_horizon=count * after * (hr * HPM + up / term),
        )

    return [
        buy(ZA, 12, "no_upfront", 0, 3, "0", "0.1830"),
        buy(ZB, 12, "no_upfront", 0, 3, "0", "0.1830"),
        buy(ZA, 36, "all_upfront", 1, 1, "3504", "0"),
        buy(ZB, 36, "all_upfront", 1, 1, "3504", "0"),
    ]


def allocations(plan: Plan, buys: list[Purchase]) -> list[Allocation]:
    """Reserved capacity first (new and owned), then up to 2 spot, then on-demand, so that
    capacity >= peak x 1.3 (headroom) in every block; etl on spot at night."""
    out: list[Allocation] = []

    def add(
        workload: str, offering: str, zone: str, option: PurchaseOption, m: int, b: int, n: int
    ) -> None:
        if n > 0:
            out.append(
                Allocation(
                    workload=workload,
                    offering=offering,
                    zone=zone,
                    option=option,
                    month=m,
                    block=b,
                    count=n,
                )
            )

    for md in plan.demand:
        m = md.index
        owned = sum(r.count for r in plan.fleet if r.start <= m < r.end)
        for b in md.blocks:
            missing = b.level["recs"] * 1.3
            for zone in (ZA, ZB):
                n = sum(
                    p.count
                    for p in buys
                    if p.zone == zone and p.month <= m < p.month + p.term_months
                )
                add("recs", C7G, zone, "reserved", m, b.index, n)
                missing -= n * 900.0
            add("recs", M7G, ZA, "reserved", m, b.index, owned // 2)
            add("recs", M7G, ZB, "reserved", m, b.index, owned - owned // 2)
            missing -= owned * 420.0
            spot = min(2, max(0, math.ceil(missing / 420)))
            add("recs", M7G, ZB, "spot", m, b.index, spot)
            missing -= spot * 420.0
            add("recs", C7G, ZA, "on_demand", m, b.index, max(0, math.ceil(missing / 900)))
        night = md.blocks[1]
        add("etl", M7G, ZA, "spot", m, 1, math.ceil(md.work["etl"] / (4 * 0.95 * night.hours)))
    return out


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
    buys = purchases(plan)
    allocs = allocations(plan, buys)
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
