"""Pre-passes from Plan to a small, integer-scaled SolveContext (sqlglot style).

``index_plan`` builds the first context (every lane and reservation pool the plan allows);
``PASSES`` is a tuple of pure functions ``(ctx) -> ctx`` run in order, each recording what it
did in ``ctx.passes``:

1. ``hand_off_blocks``: the model's demand blocks (``MonthDemand.blocks``) become the solver's
   blocks, with exact billed hours;
2. ``prune_dominated``: exact dominance pruning (see the function);
3. ``break_zone_symmetry``: groups of interchangeable zones;
4. ``scale_integers``: integer units for money and capacity.

``NAIVE_PASSES`` is the reference formulation the benchmarks compare against: one block per
distinct hourly demand vector, no pruning, no symmetry breaking.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction

from capdsl.model.plan import MonthDemand, Plan, Workload
from capdsl.solve.context import (
    SPOT,
    STANDARD,
    Block,
    Choice,
    Lane,
    Pool,
    Scaling,
    SolveContext,
    count_variables,
    purchase_months,
)
from capdsl.solve.money import billed_hours, reservation_cost

Pass = Callable[[SolveContext], SolveContext]

# Relative slack for float noise when comparing capacities (never for money).
_EPS = 1e-12


# --------------------------------------------------------------------------- index


def fleet_counts(plan: Plan) -> tuple[dict[tuple[str, str], list[int]], dict[str, list[int]]]:
    """Existing reservations owned per month: zonal by (offering, zone), regional by offering."""
    zonal: dict[tuple[str, str], list[int]] = {}
    regional: dict[str, list[int]] = {}
    for r in plan.fleet:
        series = (
            zonal.setdefault((r.offering, r.zone), [0] * plan.horizon)
            if r.zone is not None
            else regional.setdefault(r.offering, [0] * plan.horizon)
        )
        for m in range(max(0, r.start), min(plan.horizon, r.end)):
            series[m] += r.count
    return zonal, regional


def spot_allowed(w: Workload) -> bool:
    if not w.spot.allowed or w.spot.max_share == 0:
        return False
    return not (w.kind == "batch" and w.batch is not None and not w.batch.interruptible)


def index_plan(plan: Plan, *, excluded: Iterable[tuple[str, str]] = ()) -> SolveContext:
    """Every lane and reservation pool the plan allows (placement, spot eligibility, prices).

    ``excluded`` (workload, offering) pairs are left out (used by ``explain`` for why-not)."""
    excluded_set = frozenset(excluded)
    offerings = {o.id: o for o in plan.offerings}
    zonal, regional = fleet_counts(plan)
    allowed = {
        (opt.term_months, opt.payment, opt.offering_class) for opt in plan.commitments.options
    }
    can_buy = bool(purchase_months(plan))
    lanes: list[Lane] = []
    cap: dict[tuple[str, str], float] = {}
    notes: list[str] = []
    pools: dict[str, Pool] = {}

    def pool_of(oid: str) -> Pool | None:
        if oid in pools:
            return pools[oid]
        o = offerings[oid].offering
        found: dict[tuple[int, str, str], Choice] = {}
        if can_buy:
            for rp in o.reserved:
                key = (rp.term_months, rp.payment, rp.offering_class)
                if key in allowed and key not in found:
                    found[key] = Choice(
                        rp.term_months, rp.payment, rp.offering_class, rp.upfront, rp.hourly
                    )
        zones = {z: tuple(v) for (t, z), v in zonal.items() if t == oid}
        existing = tuple(regional.get(oid, [0] * plan.horizon))
        if not found and not any(existing) and not any(any(v) for v in zones.values()):
            return None
        pools[oid] = Pool(oid, o.region, tuple(found[k] for k in sorted(found)), existing, zones)
        return pools[oid]

    for w in plan.workloads:
        can_spot = spot_allowed(w)
        for c in w.capacities:
            if (w.name, c.offering) in excluded_set or c.per_instance <= 0:
                continue
            po = offerings.get(c.offering)
            if po is None:
                notes.append(f"{w.name}: offering {c.offering} is not in the plan's catalog")
                continue
            o = po.offering
            cap[(w.name, c.offering)] = c.per_instance
            spot_ok = can_spot and not (
                w.spot.max_interruption is not None
                and o.spot_interruption is not None
                and o.spot_interruption > w.spot.max_interruption
            )
            reservable = pool_of(c.offering) is not None
            for z in c.zones:
                if o.on_demand_hourly is not None or reservable:
                    lanes.append(Lane(w.name, c.offering, z, STANDARD, o.on_demand_hourly))
                if spot_ok and z in c.spot_zones and z in o.spot_hourly:
                    lanes.append(Lane(w.name, c.offering, z, SPOT, o.spot_hourly[z]))
    used = {ln.offering for ln in lanes}
    return SolveContext(
        plan=plan,
        hours_per_month=Decimal(plan.hours_per_month),
        cap=cap,
        lanes=tuple(lanes),
        pools={k: v for k, v in pools.items() if k in used},
        excluded=excluded_set,
        offerings_before=len(used),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- blocks


def block_floors(md: MonthDemand) -> dict[int, dict[str, float]]:
    """Each block's lowest hourly demand per workload (from the exact hourly demand)."""
    out: dict[int, dict[str, float]] = {}
    if len(md.block_of_hour) != md.hours:
        return out
    for w, series in md.hourly.items():
        if len(series) != md.hours:
            continue
        for h, b in enumerate(md.block_of_hour):
            row = out.setdefault(b, {})
            v = series[h]
            if v < row.get(w, float("inf")):
                row[w] = v
    return out


def hand_off_blocks(ctx: SolveContext) -> SolveContext:
    """Use the model's demand blocks (max demand of the hours each stands for)."""
    plan = ctx.plan
    months: list[tuple[Block, ...]] = []
    for m, md in enumerate(plan.demand[: plan.horizon]):
        floors = block_floors(md)
        months.append(
            tuple(
                Block(
                    m,
                    b.index,
                    b.hours,
                    billed_hours(plan, m, b.hours),
                    dict(b.level),
                    b.label,
                    b.event,
                    floor=floors.get(b.index, {}),
                )
                for b in md.blocks
            )
        )
    n = sum(len(bs) for bs in months)
    over = [md.overhead for md in plan.demand[: plan.horizon]]
    report = (
        f"{n} blocks over {len(months)} months (about {n / max(1, len(months)):.1f} per month) "
        f"instead of {sum(md.hours for md in plan.demand[: plan.horizon])} hours"
    )
    if over:
        report += f"; grouping adds {max(over) * 100:.2f}% capacity-hours at most"
    new = ctx.with_pass("blocks", report, blocks=tuple(months))
    return new.with_pass("blocks", report, vars_before=count_variables(new))


def hourly_blocks(ctx: SolveContext) -> SolveContext:
    """The naive grouping: one block per distinct hourly demand vector (no max-merging)."""
    plan = ctx.plan
    names = [w.name for w in plan.workloads if w.kind != "batch"]
    months: list[tuple[Block, ...]] = []
    for m, md in enumerate(plan.demand[: plan.horizon]):
        if not md.hourly or not names or any(n not in md.hourly for n in names):
            months.append(tuple(hand_off_blocks(ctx).blocks[m]))
            continue
        groups: dict[tuple[float, ...], int] = {}
        for h in range(md.hours):
            key = tuple(md.hourly[n][h] for n in names)
            groups[key] = groups.get(key, 0) + 1
        months.append(
            tuple(
                Block(
                    m,
                    i,
                    hours,
                    billed_hours(plan, m, hours),
                    dict(zip(names, key, strict=True)),
                    f"hours {i}",
                )
                for i, (key, hours) in enumerate(sorted(groups.items()))
            )
        )
    n = sum(len(bs) for bs in months)
    report = f"naive: {n} blocks (one per distinct hourly demand vector)"
    new = ctx.with_pass("blocks", report, blocks=tuple(months), naive=True)
    return new.with_pass("blocks", report, vars_before=count_variables(new))


def coarsen(ctx: SolveContext, per_month: int, mode: str) -> SolveContext:
    """Merge each month's blocks into at most ``per_month`` coarse blocks (event blocks kept
    apart). ``mode="max"`` takes each workload's highest level (a restriction: a plan for the
    coarse blocks, copied to their members, meets every member's demand); ``mode="min"`` the
    lowest (a relaxation: its optimum, and any bound on it, is a lower bound of the plan)."""
    pick = max if mode == "max" else min
    months: list[tuple[Block, ...]] = []
    names = [w.name for w in ctx.plan.workloads]
    peak = {
        n: max((b.level.get(n, 0.0) for bs in ctx.blocks for b in bs), default=0.0) or 1.0
        for n in names
    }
    for m, blocks in enumerate(ctx.blocks):
        normal = [b for b in blocks if b.event is None]
        events = [b for b in blocks if b.event is not None]
        normal.sort(
            key=lambda b: (
                -max((b.level.get(n, 0.0) / peak[n] for n in names), default=0.0),
                b.index,
            )
        )
        total = sum(b.hours for b in normal)
        groups: list[list[Block]] = []
        k = max(1, per_month - (1 if events else 0))
        acc = 0
        for b in normal:
            if not groups or (acc >= total * len(groups) / k and len(groups) < k):
                groups.append([])
            groups[-1].append(b)
            acc += b.hours
        if events:
            groups.append(events)
        merged = []
        for i, g in enumerate(groups):
            level = {n: pick(b.level.get(n, 0.0) for b in g) for n in names}
            # upper limits (spot) must loosen in a relaxation and tighten in a restriction
            floor = {n: (min if mode == "max" else max)(b.low(n) for b in g) for n in names}
            merged.append(
                Block(
                    m,
                    i,
                    sum(b.hours for b in g),
                    sum((b.billed for b in g), Fraction(0)),
                    level,
                    f"{len(g)} blocks",
                    g[0].event,
                    tuple(sorted(b.index for b in g)),
                    floor,
                )
            )
        months.append(tuple(merged))
    n = sum(len(bs) for bs in months)
    return ctx.with_pass(
        "coarse", f"{n} coarse blocks ({mode} of their members)", blocks=tuple(months)
    )


# --------------------------------------------------------------------------- dominance


def _quota_weights(plan: Plan) -> list[tuple[set[str], list[Callable[[str], Fraction]]]]:
    offerings = {o.id: o.offering for o in plan.offerings}
    out: list[tuple[set[str], list[Callable[[str], Fraction]]]] = []
    for q in plan.quotas:
        members = {
            t
            for t in q.offerings
            if t in offerings and (q.region is None or offerings[t].region == q.region)
        }
        weights: list[Callable[[str], Fraction]] = []
        if q.max_instances is not None:
            weights.append(lambda t: Fraction(1))
        if q.max_vcpu is not None:
            weights.append(lambda t: Fraction(offerings[t].vcpu))
        if q.max_gpu is not None:
            weights.append(lambda t: Fraction(offerings[t].gpu_count))
        out.append((members, weights))
    return out


def _ratio(big: float, small: float) -> int:
    """Instances of capacity ``small`` needed to replace one of capacity ``big``."""
    return max(1, math.ceil(big / small * (1 - _EPS)))


def prune_dominated(ctx: SolveContext) -> SolveContext:
    """Drop what another option replaces at no loss, exactly (no optimal plan is lost).

    Offering ``t`` is dominated by ``t'`` when ``t'`` is no larger (cap' <= cap, so N+k never
    gets harder) and ``r = ceil(cap / cap')`` instances of ``t'`` cost no more than one of
    ``t``: every instance of ``t`` in any plan can be swapped for ``r`` of ``t'`` in the same
    zone and hours, keeping demand, zone loss, N+k, minimum replicas and budgets satisfied at
    no extra cost. The swap is integer-exact, so no rounding loss needs small types kept in
    reserve. Applied to:

    1. reserved payment options: one of the same term that is no dearer in upfront and hourly
       (in ``amortize`` mode: in effective rate) wins; an option no cheaper than on-demand
       (effective rate in ``amortize`` mode, hourly part in ``full`` mode) is dropped;
    2. reservation pools, fleet-wide: every workload that may use ``t`` must gain from ``t'``
       with the same ``r``, in every zone, for every reserved option; never when the plan
       already owns reservations of ``t``;
    3. on-demand lanes of an offering without reservations, per workload and zone;
    4. spot lanes: when on-demand of the same offering and zone is no dearer; across pools only
       without a per-pool limit, and only capacity-exact under a share limit.

    Guard for quotas: ``t'`` under a quota replaces only offerings under the same quota with
    ``r`` times its weight no larger."""
    plan = ctx.plan
    hpm = ctx.hours_per_month
    quotas = _quota_weights(plan)
    amortize = plan.commitments.beyond_horizon == "amortize"
    cap = ctx.cap

    def quota_ok(replaced: str, by: str, r: int) -> bool:
        for members, weights in quotas:
            if by in members and (
                replaced not in members or any(r * wt(by) > wt(replaced) for wt in weights)
            ):
                return False
        return True

    lanes = list(ctx.lanes)
    od_price: dict[str, Decimal | None] = {}
    for ln in lanes:
        if ln.kind == STANDARD:
            od_price[ln.offering] = ln.price

    # 1. reserved options
    pools: dict[str, Pool] = {}
    dropped_choices = 0
    for t, pool in ctx.pools.items():
        kept: list[Choice] = []
        for c in pool.choices:
            beaten = any(
                d is not c
                and d.term_months == c.term_months
                and d.upfront <= c.upfront
                and d.hourly <= c.hourly
                and (d.upfront, d.hourly, d.key) < (c.upfront, c.hourly, c.key)
                for d in pool.choices
            )
            if amortize and not beaten:
                eff = c.effective_hourly(hpm)
                beaten = any(
                    d is not c
                    and d.term_months == c.term_months
                    and (d.effective_hourly(hpm), d.key) < (eff, c.key)
                    for d in pool.choices
                )
            od = od_price.get(t)
            if not beaten and od is not None:
                beaten = od <= (c.effective_hourly(hpm) if amortize else c.hourly)
            if beaten:
                dropped_choices += 1
            else:
                kept.append(c)
        if kept or pool.owns_any:
            pools[t] = Pool(pool.offering, pool.region, tuple(kept), pool.existing, pool.zonal)

    # 2. reservation pools, fleet-wide
    where: dict[str, set[tuple[str, str]]] = defaultdict(set)  # offering -> {(workload, zone)}
    for ln in lanes:
        if ln.kind == STANDARD:
            where[ln.offering].add((ln.workload, ln.zone))

    def pool_dominates(by: str, t: str) -> bool:
        pt, pb = pools[t], pools[by]
        if by == t or pt.owns_any or pt.region != pb.region or not pt.choices:
            return False
        if not where[t] <= where[by]:
            return False
        ws = {w for w, _z in where[t]}
        if any(cap[(w, by)] > cap[(w, t)] for w in ws):
            return False
        r = max(_ratio(cap[(w, t)], cap[(w, by)]) for w in ws)
        cheaper = {c.key: c for c in pb.choices}
        for c in pt.choices:
            d = cheaper.get(c.key)
            if d is None or r * d.upfront > c.upfront or r * d.hourly > c.hourly:
                return False
        return quota_ok(t, by, r)

    names = sorted(pools)
    beaten_pools = {
        t
        for t in names
        if any(pool_dominates(by, t) and (not pool_dominates(t, by) or by < t) for by in names)
    }
    for t in beaten_pools:
        p = pools[t]
        pools[t] = Pool(p.offering, p.region, (), p.existing, p.zonal)
    pools = {t: p for t, p in pools.items() if p.choices or p.owns_any}

    # 3.-4. lanes per (workload, zone, kind)
    def lane_dominates(by: Lane, ln: Lane, exact: bool) -> bool:
        w = ln.workload
        c, c2 = cap[(w, ln.offering)], cap[(w, by.offering)]
        if by.offering == ln.offering or c2 > c or by.price is None or ln.price is None:
            return False
        r = _ratio(c, c2)
        if exact and abs(r * c2 - c) > _EPS * c:
            return False
        return r * by.price <= ln.price and quota_ok(ln.offering, by.offering, r)

    groups: dict[tuple[str, str, str], list[Lane]] = defaultdict(list)
    for ln in lanes:
        groups[(ln.workload, ln.zone, ln.kind)].append(ln)
    dropped: set[Lane] = set()
    for ln in lanes:
        if ln.kind == STANDARD and ln.price is None and ln.offering not in pools:
            dropped.add(ln)  # reservations only, and none can be had
    for (w, _z, kind), group in groups.items():
        wl = ctx.workload(w)
        if kind == SPOT:
            for ln in group:
                od = od_price.get(ln.offering)
                if od is not None and ln.price is not None and od <= ln.price:
                    dropped.add(ln)
            if wl.spot.per_pool is not None:
                continue
        exact = kind == SPOT and wl.spot.max_share is not None
        for ln in group:
            if ln in dropped or (kind == STANDARD and ln.offering in pools):
                continue
            for by in group:
                # a dominator may itself be dropped: swaps compose along the chain
                if lane_dominates(by, ln, exact) and (
                    not lane_dominates(ln, by, exact) or by.offering < ln.offering
                ):
                    dropped.add(ln)
                    break
    kept_lanes = tuple(ln for ln in lanes if ln not in dropped)
    used = {ln.offering for ln in kept_lanes}
    n_before = {k: sum(1 for ln in lanes if ln.kind == k) for k in (STANDARD, SPOT)}
    n_after = {k: sum(1 for ln in kept_lanes if ln.kind == k) for k in (STANDARD, SPOT)}
    report = (
        f"dropped {n_before[STANDARD] - n_after[STANDARD]} of {n_before[STANDARD]} on-demand/reserved lanes, "
        f"{n_before[SPOT] - n_after[SPOT]} of {n_before[SPOT]} spot lanes, "
        f"{len(beaten_pools)} of {len(ctx.pools)} reservation pools "
        f"and {dropped_choices} dominated reserved options; offerings {ctx.offerings_before} -> {len(used)}"
    )
    return ctx.with_pass(
        "prune", report, lanes=kept_lanes, pools={t: p for t, p in pools.items() if t in used}
    )


# --------------------------------------------------------------------------- symmetry


def break_zone_symmetry(ctx: SolveContext) -> SolveContext:
    """Find zones that are interchangeable: same region, same lanes at the same prices, no
    zonal reservations owned. Swapping two of them maps any plan to one of the same cost,
    so the formulation may order them (``formulate`` adds instances(z1) >= instances(z2)
    >= ... over the whole horizon)."""
    offerings = {o.id: o.offering for o in ctx.plan.offerings}
    signature: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for ln in ctx.lanes:
        signature[ln.zone].append((ln.workload, ln.offering, ln.kind, ln.price))
    owned_zones = {z for p in ctx.pools.values() for z, v in p.zonal.items() if any(v)}
    owned_zones |= {r.zone for r in ctx.plan.fleet if r.zone is not None}
    classes: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for z, sig in signature.items():
        if z in owned_zones:
            continue
        region = offerings[next(ln.offering for ln in ctx.lanes if ln.zone == z)].region
        classes[(region, tuple(sorted(sig, key=repr)))].append(z)
    groups = tuple(sorted(tuple(sorted(zs)) for zs in classes.values() if len(zs) > 1))
    if groups:
        report = "; ".join(", ".join(g) for g in groups) + " interchangeable: ordered by instances"
    else:
        report = "no interchangeable zones"
    return ctx.with_pass("symmetry", report, zone_groups=groups)


# --------------------------------------------------------------------------- scaling

# Activities (sum of |coefficient| x upper bound) stay below 2**52 so CP-SAT never risks
# an overflow and its LP keeps exact integers.
_MAX_ACTIVITY = 2**52
_MONEY_MIN_UNITS = 20_000  # smallest cost coefficient >= this many units: error <= 0.0025%
_CAP_MIN_UNITS = 1_000_000  # smallest capacity >= 1e6 units: error <= 1e-6


def demand_upper_bound(
    ctx: SolveContext, workload: str, offering: str, block: Block, kind: str
) -> int:
    """Instances of one lane that an optimal plan ever needs in ``block``.

    Any count above what covers the block's requirement on its own (plus N+k and the replica
    floors) can be lowered without breaking a constraint: demand, zone loss and N+k only
    need capacity, spot and quota limits only cap it, and costs only grow with it."""
    w = ctx.workload(workload)
    c = ctx.cap[(workload, offering)]
    floor_n = max(w.min_replicas, w.min_replicas_per_zone)
    if w.kind == "batch":
        work = ctx.plan.demand[block.month].work.get(workload, 0.0) * batch_factor(
            ctx.plan, w, block.month
        )
        per = c * block.hours
        if kind == SPOT and w.batch is not None:
            per *= 1 - w.batch.checkpoint_overhead
        n = math.ceil(work / per * (1 + 1e-9)) if per > 0 and work > 0 else 0
        return max(n, floor_n)
    level = block.level.get(workload, 0.0)
    if level <= 0:
        return floor_n
    n = math.ceil(level * w.required_factor / c * (1 + 1e-9)) + w.redundancy
    return max(n, floor_n)


def batch_factor(plan: Plan, w: Workload, month: int) -> float:
    """Reading of ``deadline``: the month's work must be done within ``deadline_hours``, so the
    fleet must deliver it at ``month_hours / deadline_hours`` times the even rate (the plan
    keeps paying that fleet all month, since blocks carry no order in time)."""
    if w.batch is None or not w.batch.deadline_hours:
        return 1.0
    hours = plan.demand[month].hours
    return max(1.0, hours / w.batch.deadline_hours)


def _pow10_at_least(x: float) -> int:
    return 10 ** max(0, math.ceil(math.log10(x))) if x > 1 else 1


def scale_integers(ctx: SolveContext) -> SolveContext:
    """Pick integer units: money per currency unit (a power of ten such that every cost
    coefficient keeps at least 0.0025% precision), capacity per workload (a power of ten
    such that every capacity keeps 1e-6 precision), both capped so that no constraint's
    activity can exceed 2**52. Reports the worst relative cost and capacity rounding."""
    plan = ctx.plan
    hpm = ctx.hours_per_month
    billed = sorted({float(b.billed) for bs in ctx.blocks for b in bs})
    prices = sorted({float(ln.price) for ln in ctx.lanes if ln.price is not None and ln.price > 0})
    costs = [p * h for p in prices for h in billed]
    starts = purchase_months(plan)
    for pool in ctx.pools.values():
        for c in pool.choices:
            for s in starts:
                coef = float(choice_cost(c, s, plan.horizon, hpm, plan.commitments.beyond_horizon))
                if coef > 0:
                    costs.append(coef)
            if c.hourly > 0:
                costs.append(float(c.hourly * hpm))
    # Upper estimate of the objective's activity: every lane at its upper bound.
    activity = 0.0
    per_workload: dict[str, tuple[float, float]] = {}
    for ln in ctx.lanes:
        if ln.price is None:
            continue
        w = ctx.workload(ln.workload)
        a, b0 = per_workload.get(ln.workload, (0.0, 0.0))
        per_cap = ctx.cap[(ln.workload, ln.offering)]
        extra = w.redundancy + 1 + max(w.min_replicas, w.min_replicas_per_zone)
        per_workload[ln.workload] = (a + float(ln.price) / per_cap, b0 + float(ln.price) * extra)
    for blocks in ctx.blocks:
        for blk in blocks:
            for name, (a, b0) in per_workload.items():
                w = ctx.workload(name)
                if w.kind == "batch":
                    need = (
                        plan.demand[blk.month].work.get(name, 0.0)
                        * batch_factor(plan, w, blk.month)
                        / max(1, blk.hours)
                    )
                else:
                    need = blk.level.get(name, 0.0) * w.required_factor
                activity += float(blk.billed) * (need * a + b0)
    for bud in plan.budgets:
        for v in (bud.monthly, bud.total):
            if v is not None:
                activity = max(activity, float(v) * 4)
    money = _pow10_at_least(_MONEY_MIN_UNITS / min(costs)) if costs else 1
    while money > 1 and (activity + 1) * money * 4 > _MAX_ACTIVITY:
        money //= 10
    cost_error = max((abs(round(c * money) - c * money) / (c * money) for c in costs), default=0.0)

    capacity: dict[str, int] = {}
    cap_error = 0.0
    for w in plan.workloads:
        caps = [v for (wn, _t), v in ctx.cap.items() if wn == w.name]
        if not caps:
            capacity[w.name] = 1
            continue
        q = _pow10_at_least(_CAP_MIN_UNITS / min(caps))
        peak = 0.0
        for blocks in ctx.blocks:
            for blk in blocks:
                if w.kind == "batch":
                    peak = max(
                        peak,
                        plan.demand[blk.month].work.get(w.name, 0.0)
                        * batch_factor(plan, w, blk.month),
                    )
                else:
                    peak = max(peak, blk.level.get(w.name, 0.0) * w.required_factor)
        n_lanes = max(1, sum(1 for ln in ctx.lanes if ln.workload == w.name))
        hours = 744 if w.kind == "batch" else 1
        bound = (peak + max(caps) * (w.redundancy + 2 + w.min_replicas)) * hours * n_lanes * 4
        while q > 1 and bound * q > _MAX_ACTIVITY:
            q //= 10
        capacity[w.name] = q
        cap_error = max(
            cap_error, max((v * q - math.floor(v * q * (1 + _EPS))) / (v * q) for v in caps)
        )
    scaling = Scaling(money, capacity, float(cost_error), max(0.0, cap_error))
    report = (
        f"money in units of 1/{money} {plan.currency} (max cost rounding {scaling.cost_error * 100:.5f}%); "
        f"capacity x{min(capacity.values(), default=1)}..x{max(capacity.values(), default=1)} "
        f"(max rounding {scaling.capacity_error * 100:.6f}%, always towards less capacity)"
    )
    return ctx.with_pass("scaling", report, scaling=scaling)


def choice_cost(c: Choice, start: int, horizon: int, hpm: Decimal, mode: str) -> Fraction:
    """What one reservation of ``c`` bought at ``start`` adds to the objective."""
    return reservation_cost(c.hourly, c.upfront, c.term_months, start, horizon, hpm, mode)


# --------------------------------------------------------------------------- pipelines

PASSES: tuple[Pass, ...] = (hand_off_blocks, prune_dominated, break_zone_symmetry, scale_integers)
NAIVE_PASSES: tuple[Pass, ...] = (hourly_blocks, scale_integers)


def prepare(
    plan: Plan, *, passes: tuple[Pass, ...] = PASSES, excluded: Iterable[tuple[str, str]] = ()
) -> SolveContext:
    ctx = index_plan(plan, excluded=excluded)
    for p in passes:
        ctx = p(ctx)
    return ctx
