"""Generated benchmark plans over the real bundled catalog (AWS us-east-1 snapshot).

Sizes (OPTIMIZER.md / issue 5):

- ``S``: 1 workload, 20 offerings, 3 zones, 1 month;
- ``M``: 3 workloads, 100 offerings, 3 zones, 12 months;
- ``L``: 4 workloads, 200 offerings, 6 zones, 12 months;
- ``XL``: 50 workloads over the full regional catalog (every priced non-GPU type), 6 zones,
  24 months; each workload runs on 3 families of it, as real services do.

Offerings are taken in a fixed order (families of current general-purpose, compute and
memory types, sizes ascending). Capacities come from the model's M/M/c queueing model at a
p95 latency SLO (``capdsl.model.latency.mmc_capacity``), demand from the model's demand
compiler (daily and weekly shapes, growth, joint demand blocks: ``compile_demand``), so the
solver sees exactly what a real plan gives it. Every workload keeps N+1, survives a zone,
has 30% headroom; half may use spot (40% max, 15% per pool); reservations 1y/3y in every
payment option. Deterministic for a given size and seed.

``demand``: ``"daily"`` (the default) gives each workload a daily and a weekly shape, so a
month has some 25 demand blocks; ``"monthly"`` one level a month (flat shapes, growth from
month to month), the issue's sizes as it counts them: M has 22,008 integer variables before
pruning (issue 5: "3 workloads x 100 offerings x 3 zones x 12 months, about 12k"), where the
daily shapes give it 403,314.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from capdsl.model.demand import RateDemand, compile_demand
from capdsl.model.latency import mmc_capacity
from capdsl.model.plan import (
    Capacity,
    CommitmentPolicy,
    LatencySLO,
    Plan,
    PlanOffering,
    ReservedOption,
    Setting,
    SpotPolicy,
    Workload,
)
from capdsl.model.shapes import DAILY, WEEKLY
from capdsl.pricing.catalog import PAYMENTS, Offering


@dataclass(frozen=True)
class Size:
    workloads: int
    offerings: int | None  # None: the full regional catalog
    zones: int
    months: int
    families_per_workload: int | None = None  # None: every offering


SIZES: dict[str, Size] = {
    "S": Size(1, 20, 3, 1),
    "M": Size(3, 100, 3, 12),
    "L": Size(4, 200, 6, 12),
    "XL": Size(50, None, 6, 24, families_per_workload=3),
}

# Family order for the sized catalogs: the families a platform team shortlists first.
FAMILY_ORDER = (
    "c7g",
    "m7g",
    "c7i",
    "m7i",
    "r7g",
    "c6g",
    "m6g",
    "c6i",
    "m6i",
    "r6g",
    "c7a",
    "m7a",
    "r7i",
    "c6a",
    "m6a",
    "r6i",
    "c8g",
    "m8g",
    "r8g",
    "c5",
    "m5",
    "r5",
    "c5a",
    "m5a",
    "t4g",
    "t3",
)
SHAPES = ("business", "retail", "consumer")


def catalog(limit: int | None, zones: int) -> list[Offering]:
    """Real offerings from the bundled snapshot, in a fixed order, limited to ``zones`` zones."""
    from capdsl.pricing.bundled import load_offerings

    rows = [
        o
        for o in load_offerings("aws", ("us-east-1",))
        if o.on_demand_hourly is not None
        and not o.gpu_count
        and o.vcpu >= 2
        and "metal" not in o.instance_type
    ]
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda o: (rank.get(o.family, len(rank)), o.family, o.vcpu, o.instance_type))
    if limit is not None:
        rows = rows[:limit]
    out = []
    for o in rows:
        keep = o.zone_list()[:zones]
        out.append(
            o.model_copy(
                update={
                    "zones": keep,
                    "spot_hourly": {z: p for z, p in o.spot_hourly.items() if z in keep},
                }
            )
        )
    return out


DEMANDS = ("daily", "monthly")


def generate(size: str, seed: int = 0, demand: str = "daily") -> Plan:
    if demand not in DEMANDS:
        raise ValueError(f"unknown demand shape {demand!r} (expected one of {DEMANDS})")
    spec = SIZES[size]
    rng = random.Random(f"capdsl-bench-{size}-{seed}")
    offs = catalog(spec.offerings, spec.zones)
    plan_offerings = [
        PlanOffering(id=f"aws.{o.instance_type}@{o.region}", catalog="aws", offering=o)
        for o in offs
    ]
    families = sorted({o.family for o in offs})
    workloads: list[Workload] = []
    rates: list[RateDemand] = []
    settings: dict[str, Setting] = {}
    for i in range(spec.workloads):
        name = f"svc{i:02d}"
        service_time = rng.choice((0.008, 0.012, 0.02, 0.03))
        target = service_time * rng.choice((3.0, 4.0, 6.0))
        allowed = (
            set(rng.sample(families, min(spec.families_per_workload, len(families))))
            if spec.families_per_workload
            else None
        )
        caps = []
        for po in plan_offerings:
            o = po.offering
            if allowed is not None and o.family not in allowed:
                continue
            per = mmc_capacity(o.vcpu, service_time, 0.95, target)
            if per > 0:
                caps.append(
                    Capacity(
                        offering=po.id,
                        per_instance=per,
                        zones=o.zone_list(),
                        spot_zones=tuple(o.spot_hourly)
                        if o.spot_interruption is None or o.spot_interruption <= 10
                        else (),
                        basis=f"M/M/{o.vcpu} at p95 < {target * 1000:.0f} ms",
                    )
                )
        spot = (
            SpotPolicy(max_share=0.4, per_pool=0.15, max_interruption=10.0)
            if i % 2 == 0
            else SpotPolicy(allowed=False)
        )
        # peak demand of a few dozen to a few hundred mid-size instances
        baseline = rng.uniform(2.0, 8.0) * 1000 / max(1, spec.workloads) ** 0.5
        workloads.append(
            Workload(
                name=name,
                kind="service",
                unit="request",
                capacities=tuple(caps),
                headroom=0.3,
                redundancy=1,
                survive_zones=1,
                spot=spot,
                latency=LatencySLO(percentile=0.95, target_s=target),
            )
        )
        rates.append(
            RateDemand(
                workload=name,
                baseline=baseline,
                daily=DAILY[SHAPES[i % len(SHAPES)] if demand == "daily" else "flat"],
                weekly=WEEKLY["weekday" if demand == "daily" else "flat"],
                growth=rng.choice((0.01, 0.02, 0.03)),
            )
        )
        for key, text in (
            ("redundancy", "redundancy = N+1"),
            ("survive", "survive = 1 zone"),
            ("headroom", "headroom = 30%"),
            ("baseline", f"baseline = {baseline:.0f} request/s"),
        ):
            settings[f"{name}.{key}"] = Setting(path=f"{name}.{key}", text=text)
    compiled, report = compile_demand(
        rates, start="2027-01", horizon=spec.months, hours_per_month=730.0
    )
    options = tuple(ReservedOption(term_months=t, payment=p) for t in (12, 36) for p in PAYMENTS)
    return Plan(
        name=f"bench-{size}" + ("" if demand == "daily" else f"-{demand}"),
        start="2027-01",
        horizon=spec.months,
        months=[md.month for md in compiled],
        hours_per_month=Decimal(730),
        offerings=plan_offerings,
        workloads=workloads,
        commitments=CommitmentPolicy(options=options),
        demand=compiled,
        compression=report,
        settings=settings,
    )
