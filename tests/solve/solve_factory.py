"""Build small Plans programmatically for the optimiser's tests (no parser, no model builder).

Demand is given per month as hourly values (a short pattern repeated over the month's
calendar hours); blocks group hours with the same demand vector across all workloads
(exact: level = value). Test months are short (24 calendar hours billed as 720 by default)
so that the verifier's hour-by-hour checks stay fast; prices and capacities in the tests are
chosen so that money is exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from capdsl.lang.diagnostics import Span
from capdsl.model.plan import (
    Budget,
    Capacity,
    CommitmentPolicy,
    DemandBlock,
    ExistingReservation,
    MonthDemand,
    Plan,
    PlanOffering,
    Quota,
    ReservedOption,
    Setting,
    SpotPolicy,
    Workload,
)
from capdsl.pricing.catalog import Offering, ReservedPrice

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def D(x: float | str | int) -> Decimal:
    return Decimal(str(x))


def offering(
    instance_type: str,
    *,
    od: float | str | None,
    vcpu: int = 2,
    zones: Sequence[str] = ZONES,
    region: str = "us-east-1",
    spot: float | str | Mapping[str, float | str] | None = None,
    reserved: Mapping[str, tuple[float | str, float | str]] | None = None,
    interruption: float | None = None,
    gpu: float = 0,
    catalog: str = "aws",
) -> PlanOffering:
    """``reserved`` maps ``"1y-no_upfront"`` style keys to (upfront, hourly)."""
    if isinstance(spot, Mapping):
        spot_hourly = {z: D(v) for z, v in spot.items()}
    elif spot is not None:
        spot_hourly = {z: D(spot) for z in zones}
    else:
        spot_hourly = {}
    rps = []
    for key, (upfront, hourly) in (reserved or {}).items():
        years, payment = key.split("-", 1)
        rps.append(
            ReservedPrice(
                term_months=int(years[:-1]) * 12,
                payment=payment,
                upfront=D(upfront),
                hourly=D(hourly),
            )
        )  # type: ignore[arg-type]
    o = Offering(
        provider="aws",
        region=region,
        instance_type=instance_type,
        zones=tuple(zones),
        vcpu=vcpu,
        memory_gib=vcpu * 2,
        gpu_count=gpu,
        gpu_model="l4" if gpu else None,
        family=instance_type.split(".")[0],
        on_demand_hourly=D(od) if od is not None else None,
        spot_hourly=spot_hourly,
        spot_interruption=interruption,
        reserved=tuple(rps),
    )
    return PlanOffering(id=f"{catalog}.{instance_type}@{region}", catalog=catalog, offering=o)


def workload(
    name: str,
    caps: Sequence[tuple[PlanOffering, float]],
    *,
    kind: str = "service",
    zones: Sequence[str] | None = None,
    spot_zones: Sequence[str] | None = None,
    spot: SpotPolicy | None = None,
    **kw: Any,
) -> Workload:
    capacities = []
    for po, per in caps:
        zs = tuple(z for z in po.zones if zones is None or z in zones)
        sz = tuple(z for z in zs if spot_zones is None or z in spot_zones)
        capacities.append(Capacity(offering=po.id, per_instance=per, zones=zs, spot_zones=sz))
    return Workload(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        unit="gpu_hour" if kind == "batch" else "request",
        capacities=tuple(capacities),
        spot=spot or SpotPolicy(allowed=False),
        **kw,
    )


def sized_service(
    caps: Sequence[float],
    zones: int,
    *,
    redundancy: int = 0,
    survive: bool = False,
    headroom: float = 0.0,
    spot: bool = False,
    partial: bool = False,
) -> tuple[list[PlanOffering], Workload]:
    """One service ``svc`` on one size per family (``caps``: its capacity per instance), in
    the first ``zones`` of three zones; family i costs $0.001 x capacity an hour less 10% per
    i (spot: $0.0004 x capacity), with a vCPU per 40 units. ``partial``: the second size
    misses the last zone (zones that are not interchangeable)."""
    zs = ("z1", "z2", "z3")[:zones]
    offs = [
        offering(
            f"f{i}.x{int(c)}",
            od=f"{0.001 * c * (1 - 0.1 * i):.4f}",
            vcpu=max(1, int(c // 40)),
            zones=zs[:-1] if partial and i == 1 and len(zs) > 1 else zs,
            spot=f"{0.0004 * c:.4f}" if spot else None,
        )
        for i, c in enumerate(caps)
    ]
    w = workload(
        "svc",
        [(o, c) for o, c in zip(offs, caps, strict=True)],
        redundancy=redundancy,
        survive_zones=1 if survive and zones > 1 else 0,
        headroom=headroom,
        spot=SpotPolicy(allowed=True) if spot else None,
    )
    return offs, w


def month_demand(
    index: int,
    month: str,
    pattern: Mapping[str, Sequence[float]],
    *,
    hours: int = 720,
    hpm: float = 730,
    work: Mapping[str, float] | None = None,
) -> MonthDemand:
    """``pattern[w]`` is repeated to fill the month's ``hours`` calendar hours."""
    names = sorted(pattern)
    hourly = {w: [float(pattern[w][h % len(pattern[w])]) for h in range(hours)] for w in names}
    groups: dict[tuple[float, ...], list[int]] = {}
    for h in range(hours):
        groups.setdefault(tuple(hourly[w][h] for w in names), []).append(h)
    keys = sorted(groups, reverse=True) if names else [()]
    if not names:
        groups = {(): list(range(hours))}
    block_of_hour = [0] * hours
    blocks = []
    for i, key in enumerate(keys):
        hs = groups[key]
        for h in hs:
            block_of_hour[h] = i
        blocks.append(
            DemandBlock(
                index=i,
                hours=len(hs),
                billed_hours=len(hs) * hpm / hours,
                level=dict(zip(names, key, strict=True)),
                label="peak" if i == 0 and len(keys) > 1 else f"block {i}",
            )
        )
    return MonthDemand(
        index=index,
        month=month,
        hours=hours,
        hour_weight=hpm / hours,
        hourly=hourly,
        block_of_hour=block_of_hour,
        blocks=blocks,
        work=dict(work or {}),
    )


def span(line: int, text: str, file: str = "plan.cap") -> Span:
    return Span(file, line, 3, line, 3 + len(text))


def plan(
    offerings: Sequence[PlanOffering],
    workloads: Sequence[Workload],
    demand: Sequence[Mapping[str, Sequence[float]]],
    *,
    work: Sequence[Mapping[str, float]] | None = None,
    hours: int = 24,
    hpm: int = 720,
    start: str = "2027-01",
    options: Sequence[str] = (),
    lead_time: int = 0,
    max_hourly: float | None = None,
    beyond_horizon: str = "amortize",
    budgets: Sequence[Budget] = (),
    quotas: Sequence[Quota] = (),
    fleet: Sequence[ExistingReservation] = (),
    settings: Mapping[str, str] | None = None,
    name: str = "test",
) -> Plan:
    """``demand[m]`` maps workload -> hourly pattern for month m; ``options`` like ``"1y-no_upfront"``."""
    y, mo = (int(x) for x in start.split("-"))
    months = []
    for i in range(len(demand)):
        k = mo - 1 + i
        months.append(f"{y + k // 12:04d}-{k % 12 + 1:02d}")
    md = [
        month_demand(
            i, months[i], demand[i], hours=hours, hpm=hpm, work=(work[i] if work else None)
        )
        for i in range(len(demand))
    ]
    opts = []
    for key in options:
        years, payment = key.split("-", 1)
        opts.append(ReservedOption(term_months=int(years[:-1]) * 12, payment=payment))  # type: ignore[arg-type]
    sett = {}
    for i, (path, text) in enumerate((settings or {}).items()):
        sett[path] = Setting(path=path, text=text, span=span(10 + i, text))
    return Plan(
        name=name,
        start=start,
        horizon=len(demand),
        months=months,
        hours_per_month=Decimal(hpm),
        offerings=list(offerings),
        workloads=list(workloads),
        fleet=list(fleet),
        commitments=CommitmentPolicy(
            options=tuple(opts),
            lead_time_months=lead_time,
            max_hourly=D(max_hourly) if max_hourly is not None else None,
            beyond_horizon=beyond_horizon,  # type: ignore[arg-type]
        ),
        budgets=list(budgets),
        quotas=list(quotas),
        demand=md,
        settings=sett,
    )


def limits(
    owned: tuple[PlanOffering, int, float] | None = None,
    budget: tuple[int, bool] | None = None,
    quota: tuple[PlanOffering, int] | None = None,
) -> dict[str, Any]:
    """``plan`` keywords for property tests: reservations already owned (offering, count,
    hourly price), a monthly budget (amount, hard) and a quota (offering, instances); each
    left out when None."""
    return {
        "fleet": [existing(owned[0], owned[1], zone=None, hourly=owned[2])] if owned else [],
        "budgets": [Budget(name="budget", monthly=D(budget[0]), hard=budget[1])] if budget else [],
        "quotas": [Quota(name="q", offerings=(quota[0].id,), max_instances=quota[1])]
        if quota
        else [],
    }


def existing(
    po: PlanOffering,
    count: int,
    *,
    zone: str | None,
    start: int = -12,
    end: int = 99,
    hourly: float = 0,
) -> ExistingReservation:
    return ExistingReservation(
        offering=po.id, zone=zone, count=count, start=start, end=end, hourly=D(hourly)
    )
