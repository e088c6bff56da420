"""Stress test: the fleet one scenario buys, against the demand another scenario brings.

SCENARIOS.md #1: the team provisioned for a 2x sale, the sale brought 4x, p95 went from
80 ms to 3.2 s. ``stress(provisioned, solution, actual)`` replays every calendar hour of
the ``actual`` plan against the capacity the ``solution`` (solved for ``provisioned``)
runs in that hour, and says where the SLA breaks and by how much: the shortfall, the
utilisation of the instances, and — when the capacity comes from the M/M/c model — the
percentile latency the overloaded fleet really delivers.

Plain arithmetic on the Plan and Solution, like ``verify``; no solver involved.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from capdsl.model.latency import response_tail
from capdsl.model.plan import Capacity, Plan, Workload
from capdsl.solve.solution import HourShortfall, Solution, StressReport, WorkloadStress


def stress(provisioned: Plan, solution: Solution, actual: Plan) -> StressReport:
    """Replay ``actual``'s hourly demand against the fleet ``solution`` runs for ``provisioned``."""
    if provisioned.months != actual.months:
        raise ValueError("the two plans cover different months; stress needs the same calendar")
    running = _running(solution)
    out = StressReport(provisioned=provisioned.scenario, actual=actual.scenario)
    for wl in actual.workloads:
        if wl.kind == "batch":
            continue  # work volumes are checked by verify; there is no hourly SLA to break
        caps = {c.offering: c for c in wl.capacities}
        out.workloads.append(_workload_stress(wl, caps, provisioned, actual, running))
    return out


def _running(solution: Solution) -> dict[tuple[str, int, int], dict[str, int]]:
    """(workload, month, block) -> offering -> instances running (all zones and options)."""
    run: dict[tuple[str, int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in solution.allocations:
        run[(a.workload, a.month, a.block)][a.offering] += a.count
    return run


def _workload_stress(
    wl: Workload,
    caps: dict[str, Capacity],
    provisioned: Plan,
    actual: Plan,
    running: dict[tuple[str, int, int], dict[str, int]],
) -> WorkloadStress:
    short = thin = 0
    worst: HourShortfall | None = None
    worst_key = -math.inf
    for m, (pm, am) in enumerate(zip(provisioned.demand, actual.demand, strict=True)):
        hourly = am.hourly.get(wl.name)
        if not hourly:
            continue
        fleet_by_block: dict[int, dict[str, int]] = {}
        for hour, demand in enumerate(hourly):
            block = pm.block_of_hour[hour]
            fleet = fleet_by_block.get(block)
            if fleet is None:
                fleet = fleet_by_block[block] = dict(running.get((wl.name, m, block), {}))
            carried = sum(n * caps[o].per_instance for o, n in fleet.items() if o in caps)
            if demand * wl.required_factor > carried + 1e-9:
                thin += 1
            if demand <= carried + 1e-9:
                continue
            short += 1
            gap = (demand - carried) / demand if demand > 0 else 0.0
            if gap > worst_key:
                worst_key = gap
                worst = _hour(wl, m, hour, demand, carried, fleet, caps, actual)
    return WorkloadStress(
        workload=wl.name, unit=wl.unit, hours_short=short, hours_without_headroom=thin, worst=worst
    )


def _hour(
    wl: Workload,
    month: int,
    hour: int,
    demand: float,
    carried: float,
    fleet: dict[str, int],
    caps: dict[str, Capacity],
    plan: Plan,
) -> HourShortfall:
    year, mon = (int(x) for x in plan.months[month].split("-"))
    when = dt.datetime(year, mon, 1) + dt.timedelta(hours=hour)
    utilization, latency = _overload(wl, demand, carried, fleet, caps)
    return HourShortfall(
        workload=wl.name,
        month=month,
        hour=hour,
        when=when.strftime("%Y-%m-%d %H:%M"),
        demand=demand,
        carried=carried,
        shortfall_pct=(demand - carried) / demand * 100 if demand > 0 else 0.0,
        utilization=utilization,
        latency_s=latency,
        slo_s=wl.latency.target_s if wl.latency else None,
        percentile=wl.latency.percentile if wl.latency else None,
    )


def _overload(
    wl: Workload, demand: float, carried: float, fleet: dict[str, int], caps: dict[str, Capacity]
) -> tuple[float, float | None]:
    """Utilisation of the busiest instance type and its percentile latency at this demand.

    Load is shared in proportion to each instance's capacity at the SLO (what a
    least-outstanding-requests balancer converges to)."""
    if carried <= 0:
        return math.inf, None
    worst_util, worst_latency = 0.0, None
    queued = True
    for offering, n in fleet.items():
        cap = caps.get(offering)
        if cap is None or n <= 0:
            continue
        per_instance = demand * cap.per_instance / carried
        if cap.queue is None or wl.latency is None:
            queued = False
            worst_util = max(worst_util, per_instance / cap.per_instance)
            continue
        q = cap.queue
        lam = per_instance / q.prompt_cache  # the queue sees uncached work
        mu = 1.0 / q.service_time_s
        util = lam / (q.servers * mu)
        if util >= worst_util:
            worst_util = util
            worst_latency = (
                None if util >= 1.0 else _quantile(q.servers, mu, lam, wl.latency.percentile)
            )
    if not queued:
        return worst_util, None
    return worst_util, worst_latency


def _quantile(servers: int, mu: float, lam: float, percentile: float) -> float:
    """The response-time ``percentile`` of an M/M/c queue (bisection on the tail)."""
    allowed = 1.0 - percentile
    lo, hi = 0.0, 1.0 / mu
    while response_tail(hi, servers, mu, lam) > allowed:
        hi *= 2.0
        if hi > 1e6:
            return math.inf
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if response_tail(mid, servers, mu, lam) > allowed:
            lo = mid
        else:
            hi = mid
    return hi
