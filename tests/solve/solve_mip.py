"""A second formulation of the same plans, for cross-checking the optimiser: a MIP solved by
SCIP through OR-Tools' ``pywraplp``, modelled differently on purpose:

- one period per *calendar hour* (no demand blocks);
- the textbook split of every lane into reserved (zonal / regional) and on-demand counts;
- zone loss as one constraint per lost zone, N+1 with Big-M "largest instance in use"
  indicators, spot limits per hour.

Only N+0 / N+1 and single-zone loss are modelled (what the cross-check plans use).
"""

from __future__ import annotations

from ortools.linear_solver import pywraplp

from capdsl.model.plan import Plan


def mip_optimum(plan: Plan, *, time_limit_s: float = 60.0) -> float:
    s = pywraplp.Solver.CreateSolver("SCIP")
    assert s is not None
    s.SetTimeLimit(int(time_limit_s * 1000))
    inf = s.infinity()
    offerings = {o.id: o.offering for o in plan.offerings}
    hpm = float(plan.hours_per_month)
    H = plan.horizon
    allowed = {(r.term_months, r.payment, r.offering_class) for r in plan.commitments.options}
    cost = []
    # purchases: regional, by start month
    bought: dict[tuple[str, int], list] = {}
    for t, o in offerings.items():
        for rp in o.reserved:
            if (rp.term_months, rp.payment, rp.offering_class) not in allowed:
                continue
            for start in range(plan.commitments.lead_time_months, H):
                r = s.IntVar(0, 100, "")
                months = range(start, min(H, start + rp.term_months))
                cost.append(
                    r * len(months) * (float(rp.hourly) * hpm + float(rp.upfront) / rp.term_months)
                )
                for m in months:
                    bought.setdefault((t, m), []).append(r)
    regional: dict[tuple[str, int], int] = {}
    zonal: dict[tuple[str, str, int], int] = {}
    fleet_cost = 0.0
    for f in plan.fleet:
        for m in range(max(0, f.start), min(H, f.end)):
            fleet_cost += f.count * float(f.hourly) * hpm
            if f.zone is None:
                regional[(f.offering, m)] = regional.get((f.offering, m), 0) + f.count
            else:
                zonal[(f.offering, f.zone, m)] = zonal.get((f.offering, f.zone, m), 0) + f.count
    for m, md in enumerate(plan.demand[:H]):
        per_hour = hpm / md.hours
        for h in range(md.hours):
            reg_use: dict[str, list] = {}
            zon_use: dict[tuple[str, str], list] = {}
            for w in plan.workloads:
                d = md.hourly[w.name][h]
                cap_all, per_zone, spot_all, n_by_t = [], {}, [], {}
                zones = sorted({z for c in w.capacities for z in c.zones})
                for c in w.capacities:
                    o = offerings[c.offering]
                    for z in c.zones:
                        od = s.IntVar(0, 100, "") if o.on_demand_hourly is not None else None
                        ur = s.IntVar(0, 100, "")
                        uz = s.IntVar(0, 100, "")
                        reg_use.setdefault(c.offering, []).append(ur)
                        zon_use.setdefault((c.offering, z), []).append(uz)
                        std = ur + uz + (od if od is not None else 0)
                        if od is not None:
                            cost.append(od * float(o.on_demand_hourly) * per_hour)
                        cap_all.append(std * c.per_instance)
                        per_zone.setdefault(z, []).append(std * c.per_instance)
                        n_by_t.setdefault(c.offering, []).append(std)
                        if w.spot.allowed and z in c.spot_zones and z in o.spot_hourly:
                            sp = s.IntVar(0, 100, "")
                            cost.append(sp * float(o.spot_hourly[z]) * per_hour)
                            cap_all.append(sp * c.per_instance)
                            spot_all.append(sp * c.per_instance)
                            n_by_t[c.offering].append(sp)
                            if w.spot.per_pool is not None:
                                s.Add(sp * c.per_instance <= w.spot.per_pool * d + 1e-9)
                total = sum(cap_all)
                s.Add(total >= d * w.required_factor - 1e-9)
                if w.spot.max_share is not None and spot_all:
                    s.Add(sum(spot_all) <= w.spot.max_share * d + 1e-9)
                if w.min_replicas:
                    s.Add(sum(sum(v) for v in n_by_t.values()) >= w.min_replicas)
                if d > 0 and w.survive_zones == 1:
                    for lost in zones:
                        s.Add(sum(sum(per_zone.get(z, [])) for z in zones if z != lost) >= d - 1e-9)
                if d > 0 and w.redundancy == 1:
                    largest = s.NumVar(0, inf, "")
                    for c in w.capacities:
                        y = s.BoolVar("")
                        s.Add(sum(n_by_t[c.offering]) <= 100 * y)
                        s.Add(largest >= c.per_instance * y)
                    s.Add(total - largest >= d - 1e-9)
                assert w.redundancy <= 1 and w.survive_zones <= 1
            for t, uses in reg_use.items():
                s.Add(sum(uses) <= regional.get((t, m), 0) + sum(bought.get((t, m), [])))
            for (t, z), uses in zon_use.items():
                s.Add(sum(uses) <= zonal.get((t, z, m), 0))
    s.Minimize(sum(cost) + fleet_cost)
    s.SetSolverSpecificParametersAsString("limits/gap = 0\n")
    status = s.Solve()
    assert status == pywraplp.Solver.OPTIMAL, status
    return s.Objective().Value()
