"""A brute-force oracle for tiny plans: enumerate every integer mix, keep the cheapest feasible.

Independent of the optimiser: its own feasibility rules (block by block; the tiny plans have
uniform demand inside each block) and its own cost arithmetic. Blocks are independent once the
reservations are chosen, so it enumerates purchases, then each block's mixes.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from capdsl.model.plan import Plan, Workload


def _lanes(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(workload, offering, zone, kind) for every way to run an instance."""
    offerings = {o.id: o.offering for o in plan.offerings}
    out = []
    for w in plan.workloads:
        for c in w.capacities:
            o = offerings[c.offering]
            for z in c.zones:
                out.append((w.name, c.offering, z, "standard"))
                if w.spot.allowed and z in c.spot_zones and z in o.spot_hourly:
                    out.append((w.name, c.offering, z, "spot"))
    return out


def _block_ok(w: Workload, level: float, mix: list[tuple[float, str, str, int]]) -> bool:
    """mix: (capacity, zone, kind, count) of this workload's instances."""
    total = sum(c * n for c, _z, _k, n in mix)
    if total < level * w.required_factor - 1e-9:
        return False
    if sum(n for *_, n in mix) < w.min_replicas:
        return False
    if level <= 0:
        return True
    sizes = sorted((c for c, _z, _k, n in mix for _ in range(n)), reverse=True)
    if w.redundancy and (
        len(sizes) < w.redundancy or total - sum(sizes[: w.redundancy]) < level - 1e-9
    ):
        return False
    zones = sorted({z for c in w.capacities for z in c.zones})
    if w.survive_zones:
        for lost in itertools.combinations(zones, w.survive_zones):
            if sum(c * n for c, z, k, n in mix if k != "spot" and z not in lost) < level - 1e-9:
                return False
    spot = [(c, z, n) for c, z, k, n in mix if k == "spot"]
    if (
        w.spot.max_share is not None
        and sum(c * n for c, _z, n in spot) > w.spot.max_share * level + 1e-9
    ):
        return False
    return not (
        w.spot.per_pool is not None
        and any(c * n > w.spot.per_pool * level + 1e-9 for c, _z, n in spot)
    )


def brute_force(plan: Plan, *, max_count: int = 3, max_bought: int = 2) -> Fraction:
    """The cheapest total cost of any plan (reservations: amortize mode, regional)."""
    offerings = {o.id: o.offering for o in plan.offerings}
    hpm = Fraction(plan.hours_per_month)
    H = plan.horizon
    lanes = _lanes(plan)
    allowed = {(r.term_months, r.payment, r.offering_class) for r in plan.commitments.options}
    choices = [
        (t, rp)
        for t, o in offerings.items()
        for rp in o.reserved
        if (rp.term_months, rp.payment, rp.offering_class) in allowed
    ]
    starts = range(plan.commitments.lead_time_months, H)
    buy_slots = [(t, rp, s) for t, rp in choices for s in starts]
    best: Fraction | None = None
    for counts in itertools.product(range(max_bought + 1), repeat=len(buy_slots)):
        owned: dict[tuple[str, int], int] = {}
        cost = Fraction(0)
        for (t, rp, s), n in zip(buy_slots, counts, strict=True):
            for m in range(s, min(H, s + rp.term_months)):
                owned[(t, m)] = owned.get((t, m), 0) + n
                cost += n * (Fraction(rp.hourly) * hpm + Fraction(rp.upfront) / rp.term_months)
        for r in plan.fleet:
            for m in range(max(0, r.start), min(H, r.end)):
                cost += r.count * Fraction(r.hourly) * hpm
                if r.zone is None:
                    owned[(r.offering, m)] = owned.get((r.offering, m), 0) + r.count
        zonal = {
            (r.offering, r.zone, m): r.count
            for r in plan.fleet
            if r.zone
            for m in range(max(0, r.start), min(H, r.end))
        }
        for m, md in enumerate(plan.demand[:H]):
            for blk in md.blocks:
                billed = Fraction(blk.hours) * hpm / md.hours
                cheapest = _cheapest_block(
                    plan, lanes, offerings, owned, zonal, m, blk.level, max_count
                )
                if cheapest is None:
                    cost = None  # type: ignore[assignment]
                    break
                cost += cheapest * billed
            if cost is None:
                break
        if cost is not None and (best is None or cost < best):
            best = cost
    assert best is not None, "no feasible mix within the enumeration limits"
    return best


def _cheapest_block(
    plan: Plan, lanes, offerings, owned, zonal, m: int, level: dict[str, float], max_count: int
) -> Fraction | None:  # type: ignore[no-untyped-def]
    caps = {(w.name, c.offering): c.per_instance for w in plan.workloads for c in w.capacities}
    workloads = {w.name: w for w in plan.workloads}
    best: Fraction | None = None
    for counts in itertools.product(range(max_count + 1), repeat=len(lanes)):
        ok = True
        for w in plan.workloads:
            mix = [
                (caps[(wn, t)], z, k, n)
                for (wn, t, z, k), n in zip(lanes, counts, strict=True)
                if wn == w.name and n
            ]
            if not _block_ok(workloads[w.name], level.get(w.name, 0.0), mix):
                ok = False
                break
        if not ok:
            continue
        rate = Fraction(0)
        standard: dict[str, dict[str, int]] = {}
        for (_w, t, z, k), n in zip(lanes, counts, strict=True):
            if not n:
                continue
            if k == "spot":
                rate += n * Fraction(offerings[t].spot_hourly[z])
            else:
                standard.setdefault(t, {}).setdefault(z, 0)
                standard[t][z] += n
        for t, per_zone in standard.items():
            beyond = sum(max(0, n - zonal.get((t, z, m), 0)) for z, n in per_zone.items())
            on_demand = max(0, beyond - owned.get((t, m), 0))
            od = offerings[t].on_demand_hourly
            if on_demand and od is None:
                ok = False
                break
            rate += on_demand * Fraction(od or 0)
        if ok and (best is None or rate < best):
            best = rate
    return best
