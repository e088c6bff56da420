"""From the formulation's counts to the Solution's allocations and purchases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from capdsl.solve.context import SPOT, SolveContext
from capdsl.solve.solution import Allocation, Purchase


def split_standard(
    ctx: SolveContext,
    use: Mapping[tuple[str, str, str, str, int, int], int],
    buy: Mapping[tuple[str, int, int], int],
) -> list[Allocation]:
    """Standard instances drawn from reservations first (zonal ones in their zone, then
    regional ones), on-demand for the rest; workloads and zones in name order, so the split
    is deterministic. Any split costs the same."""
    plan = ctx.plan
    bought: dict[tuple[str, int], int] = defaultdict(int)
    for (t, i, s), n in buy.items():
        c = ctx.pools[t].choices[i]
        for m in range(s, min(plan.horizon, s + c.term_months)):
            bought[(t, m)] += n
    out: list[Allocation] = []
    groups: dict[tuple[str, int, int], list[tuple[str, str, int]]] = defaultdict(list)
    for (w, t, z, kind, m, b), n in use.items():
        if kind == SPOT:
            out.append(
                Allocation(workload=w, offering=t, zone=z, option="spot", month=m, block=b, count=n)
            )
        elif t not in ctx.pools:
            out.append(
                Allocation(
                    workload=w, offering=t, zone=z, option="on_demand", month=m, block=b, count=n
                )
            )
        else:
            groups[(t, m, b)].append((z, w, n))
    for (t, m, b), rows in groups.items():
        pool = ctx.pools[t]
        regional = pool.existing[m] + bought[(t, m)]
        zonal_left = {z: v[m] for z, v in pool.zonal.items()}
        pending: list[tuple[str, str, int]] = []
        for z, w, n in sorted(rows):
            take = min(n, zonal_left.get(z, 0))
            if take:
                zonal_left[z] -= take
                out.append(
                    Allocation(
                        workload=w,
                        offering=t,
                        zone=z,
                        option="reserved",
                        month=m,
                        block=b,
                        count=take,
                    )
                )
            if n - take:
                pending.append((z, w, n - take))
        for z, w, n in pending:
            take = min(n, regional)
            regional -= take
            if take:
                out.append(
                    Allocation(
                        workload=w,
                        offering=t,
                        zone=z,
                        option="reserved",
                        month=m,
                        block=b,
                        count=take,
                    )
                )
            if n - take:
                out.append(
                    Allocation(
                        workload=w,
                        offering=t,
                        zone=z,
                        option="on_demand",
                        month=m,
                        block=b,
                        count=n - take,
                    )
                )
    return out


def purchases_of(ctx: SolveContext, buy: Mapping[tuple[str, int, int], int]) -> list[Purchase]:
    """Reservations bought (regional: ``zone`` is the offering's region), sorted."""
    out: list[Purchase] = []
    for (t, i, s), n in sorted(buy.items()):
        if n <= 0:
            continue
        pool = ctx.pools[t]
        c = pool.choices[i]
        out.append(
            Purchase(
                offering=t,
                zone=pool.region,
                term_months=c.term_months,
                payment=c.payment,
                offering_class=c.offering_class,
                month=s,
                count=n,
                upfront=c.upfront,
                hourly=c.hourly,
            )
        )
    out.sort(
        key=lambda p: (p.month, p.offering, p.zone, p.term_months, p.payment, p.offering_class)
    )
    return out
