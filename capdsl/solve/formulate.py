"""The CP-SAT model of a prepared SolveContext (OPTIMIZER.md: variables, constraints, objective).

Variables (integers):

- ``use[w, t, z, option, m, b]``: instances of offering t in zone z serving workload w in
  block b of month m, bought as on-demand, spot, or drawn from reservations;
- ``buy[t, z, choice, s]``: reservations of t in z bought with reserved option ``choice``,
  starting at month s (fleet-level: shared by every workload);
- ``regional[t, z, m, b]``: regional reservations already owned of t that cover zone z.

Constraints, each family tagged with the plan setting it comes from (``Group``) so that
``infeasible.py`` can put it behind an assumption literal:

1. demand with headroom / max utilisation (rounded towards more capacity);
2. reservations: the reserved instances used in a block <= owned (existing + bought and
   active that month);
3. zone / region loss: without any k zones (regions) and without spot, demand is carried;
4. N+k: capacity minus its k largest instances carries demand (exact; see ``_redundancy``);
5. minimum replicas (total, per zone); spot share, per pool; spot only in eligible zones;
6. quotas (instances, vCPU, GPU per block); budgets (hard, or soft with a penalty);
   commitment cap ($/h effective of reservations active at once); lead time (no purchase
   before it);
7. batch work per month, spot hours discounted by checkpoint overhead.

Objective: total cost over the horizon (on-demand and spot per billed hour, reservations per
``CommitmentPolicy.beyond_horizon``) plus soft-budget penalties. The existing fleet's cost is a
constant kept outside the model (``Formulation.constant``).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ortools.sat.python import cp_model

from capdsl.solve.context import ON_DEMAND, RESERVED, SPOT, Lane, SolveContext, purchase_months
from capdsl.solve.money import existing_fleet_cost, reservation_month_cost
from capdsl.solve.prune import batch_factor, choice_cost

UseKey = tuple[str, str, str, str, int, int]  # workload, offering, zone, option, month, block
BuyKey = tuple[str, str, int, int]  # offering, zone, choice index, start month

_EPS = 1e-12
_BIG = 2**50

# Constraint families that can be put behind an assumption literal (one per plan setting).
GROUP_KINDS = (
    "demand",
    "headroom",
    "redundancy",
    "survive",
    "min_replicas",
    "spot",
    "work",
    "quota",
    "budget_monthly",
    "budget_total",
    "commitments",
)


@dataclass
class Formulation:
    model: cp_model.CpModel
    ctx: SolveContext
    use: dict[UseKey, cp_model.IntVar] = field(default_factory=dict)
    ub: dict[UseKey, int] = field(default_factory=dict)
    buy: dict[BuyKey, cp_model.IntVar] = field(default_factory=dict)
    regional: dict[tuple[str, str, int, int], cp_model.IntVar] = field(default_factory=dict)
    groups: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    # Scaled (money units) cost of a budget's scope per month, rounded up, plus its constant.
    budget_month: dict[str, list[tuple[cp_model.LinearExprT, int]]] = field(default_factory=dict)
    quota_usage: dict[str, list[tuple[int, int, str, cp_model.LinearExprT, int]]] = field(default_factory=dict)
    commitment: list[tuple[int, cp_model.LinearExprT]] = field(default_factory=list)
    objective: cp_model.LinearExprT = 0
    objective_weight: int = 1  # the objective is (money units) x this (fractional penalties)
    constant: Fraction = Fraction(0)  # existing-fleet cost, exact, not in the model
    constraints: int = 0

    @property
    def money(self) -> int:
        assert self.ctx.scaling is not None
        return self.ctx.scaling.money

    def to_money(self, value: float) -> float:
        """A value of the model's objective, in the plan's currency (fleet constant added)."""
        return value / (self.money * self.objective_weight) + float(self.constant)


class _Builder:
    def __init__(self, ctx: SolveContext, assumptions: bool) -> None:
        assert ctx.scaling is not None, "run the scale_integers pass first"
        self.ctx = ctx
        self.plan = ctx.plan
        self.m = cp_model.CpModel()
        self.f = Formulation(self.m, ctx)
        self.assumptions = assumptions
        self.money = ctx.scaling.money
        self.hpm = ctx.hours_per_month
        self.zero = self.m.new_constant(0)
        self.buy_ub: dict[BuyKey, int] = {}
        self._coef_cache: dict[tuple[Decimal, Fraction, bool], int] = {}
        self.by_workload: dict[str, list[Lane]] = defaultdict(list)
        for ln in ctx.lanes:
            self.by_workload[ln.workload].append(ln)
        self.region = {o.id: o.offering.region for o in self.plan.offerings}
        self.offerings = {o.id: o.offering for o in self.plan.offerings}

    # ------------------------------------------------------------------ helpers

    def lit(self, kind: str, subject: str) -> cp_model.IntVar | None:
        if not self.assumptions:
            return None
        key = (kind, subject)
        if key not in self.f.groups:
            self.f.groups[key] = self.m.new_bool_var(f"{kind}:{subject}")
        return self.f.groups[key]

    def add(self, ct: cp_model.BoundedLinearExpression | bool, lit: cp_model.IntVar | None) -> None:
        c = self.m.add(ct)
        if lit is not None:
            c.only_enforce_if(lit)
        self.f.constraints += 1

    def money_coef(self, price: Decimal, hours: Fraction, up: bool = False) -> int:
        key = (price, hours, up)
        v = self._coef_cache.get(key)
        if v is None:
            exact = Fraction(price) * hours * self.money
            v = math.ceil(exact) if up else round(exact)
            self._coef_cache[key] = v
        return v

    def cap_lo(self, w: str, t: str) -> int:
        assert self.ctx.scaling is not None
        q = self.ctx.scaling.capacity[w]
        return max(0, math.floor(self.ctx.cap[(w, t)] * q * (1 + _EPS)))

    def cap_hi(self, w: str, t: str) -> int:
        assert self.ctx.scaling is not None
        q = self.ctx.scaling.capacity[w]
        return math.ceil(self.ctx.cap[(w, t)] * q * (1 - _EPS))

    def need(self, w: str, amount: float) -> int:
        """Scaled capacity that must be reached (rounded up, float noise forgiven)."""
        assert self.ctx.scaling is not None
        return max(0, math.ceil(amount * self.ctx.scaling.capacity[w] * (1 - _EPS)))

    def allow(self, w: str, amount: float) -> int:
        """Scaled capacity that may not be exceeded (rounded down)."""
        assert self.ctx.scaling is not None
        return max(0, math.floor(amount * self.ctx.scaling.capacity[w] * (1 + _EPS)))

    # ------------------------------------------------------------------ variables

    def variables(self) -> None:
        ctx, plan = self.ctx, self.plan
        for w in plan.workloads:
            lanes = self.by_workload.get(w.name, [])
            floor_n = max(w.min_replicas, w.min_replicas_per_zone)
            caps = {ln.offering: ctx.cap[(w.name, ln.offering)] for ln in lanes}
            for m, blocks in enumerate(ctx.blocks):
                for blk in blocks:
                    if w.kind == "batch":
                        work = plan.demand[m].work.get(w.name, 0.0) * batch_factor(plan, w, m)
                        ovh = w.batch.checkpoint_overhead if w.batch is not None else 0.0
                    else:
                        level = blk.level.get(w.name, 0.0) * w.required_factor
                    for ln in lanes:
                        c = caps[ln.offering]
                        if w.kind == "batch":
                            per = c * blk.hours * ((1 - ovh) if ln.option == SPOT else 1.0)
                            ub = math.ceil(work / per * (1 + 1e-9)) if work > 0 and per > 0 else 0
                        elif level > 0:
                            ub = math.ceil(level / c * (1 + 1e-9)) + w.redundancy
                        else:
                            ub = 0
                        ub = max(ub, floor_n)
                        if ub <= 0:
                            continue
                        key = (w.name, ln.offering, ln.zone, ln.option, m, blk.index)
                        self.f.use[key] = self.m.new_int_var(0, ub, "")
                        self.f.ub[key] = ub
        starts = purchase_months(plan)
        # a pool never needs more reservations than all its users' largest block
        pool_ub: dict[tuple[str, str], int] = defaultdict(int)
        per_block: dict[tuple[str, str, int, int], int] = defaultdict(int)
        for (_w, t, z, opt, m, b), ub in self.f.ub.items():
            if opt == RESERVED:
                per_block[(t, z, m, b)] += ub
        for (t, z, _m, _b), n in per_block.items():
            pool_ub[(t, z)] = max(pool_ub[(t, z)], n)
        for (t, z), pool in sorted(ctx.pools.items()):
            ub = pool_ub.get((t, z), 0)
            if ub <= 0:
                continue
            for i, _c in enumerate(pool.choices):
                for s in starts:
                    self.f.buy[(t, z, i, s)] = self.m.new_int_var(0, ub, "")
                    self.buy_ub[(t, z, i, s)] = ub
        for t, series in sorted(ctx.regional.items()):
            zones = sorted({z for (tt, z) in ctx.pools if tt == t})
            for m, blocks in enumerate(ctx.blocks):
                if series[m] <= 0:
                    continue
                for blk in blocks:
                    made = []
                    for z in zones:
                        if per_block.get((t, z, m, blk.index)):
                            v = self.m.new_int_var(0, series[m], "")
                            self.f.regional[(t, z, m, blk.index)] = v
                            made.append(v)
                    if len(made) > 1:
                        self.add(sum(made) <= series[m], None)

    # ------------------------------------------------------------------ reservations

    def reservations(self) -> None:
        ctx = self.ctx
        used: dict[tuple[str, str, int, int], list[cp_model.IntVar]] = defaultdict(list)
        for (_w, t, z, opt, m, b), var in self.f.use.items():
            if opt == RESERVED:
                used[(t, z, m, b)].append(var)
        for (t, z, m, b), vars_ in sorted(used.items()):
            pool = ctx.pools[(t, z)]
            owned: list[cp_model.LinearExprT] = []
            for i, c in enumerate(pool.choices):
                for s in range(max(0, m - c.term_months + 1), m + 1):
                    v = self.f.buy.get((t, z, i, s))
                    if v is not None:
                        owned.append(v)
            y = self.f.regional.get((t, z, m, b))
            if y is not None:
                owned.append(y)
            self.add(sum(vars_) <= pool.existing[m] + sum(owned), None)

    # ------------------------------------------------------------------ workloads

    def workloads(self) -> None:
        for w in self.plan.workloads:
            if w.kind == "batch":
                self._batch(w.name)
            else:
                self._service(w.name)

    def _service(self, name: str) -> None:
        ctx = self.ctx
        w = ctx.workload(name)
        lanes = self.by_workload.get(name, [])
        zones = sorted({ln.zone for ln in lanes})
        lo = {ln.offering: self.cap_lo(name, ln.offering) for ln in lanes}
        hi = {ln.offering: self.cap_hi(name, ln.offering) for ln in lanes}
        for m, blocks in enumerate(ctx.blocks):
            for blk in blocks:
                level = blk.level.get(name, 0.0)
                items = [
                    (ln, v)
                    for ln in lanes
                    if (v := self.f.use.get((name, ln.offering, ln.zone, ln.option, m, blk.index))) is not None
                ]
                vs = [v for _ln, v in items]
                capacity = cp_model.LinearExpr.weighted_sum(vs, [lo[ln.offering] for ln, _v in items])
                if level > 0:
                    required = self.need(name, level * w.required_factor)
                    plain = self.need(name, level)
                    if required > plain:
                        self.add(capacity >= required, self.lit("headroom", name))
                        if self.assumptions:
                            self.add(capacity >= plain, self.lit("demand", name))
                    else:
                        self.add(capacity >= required, self.lit("demand", name))
                    if w.redundancy > 0:
                        self._redundancy(name, items, lo, plain)
                    if w.survive_zones > 0:
                        self._survive(name, items, lo, plain, [(ln.zone,) for ln, _ in items], zones, w.survive_zones)
                    if w.survive_regions > 0:
                        regions = sorted({self.region[ln.offering] for ln in lanes})
                        keys = [(self.region[ln.offering],) for ln, _ in items]
                        self._survive(name, items, lo, plain, keys, regions, w.survive_regions)
                self._replicas(name, items, zones)
                spot = [(ln, v) for ln, v in items if ln.option == SPOT]
                if spot and (w.spot.max_share is not None or w.spot.per_pool is not None):
                    lit = self.lit("spot", name)
                    if w.spot.max_share is not None:
                        limit = self.allow(name, w.spot.max_share * level)
                        expr = cp_model.LinearExpr.weighted_sum([v for _, v in spot], [hi[ln.offering] for ln, _ in spot])
                        self.add(expr <= limit, lit)
                    if w.spot.per_pool is not None:
                        limit = self.allow(name, w.spot.per_pool * level)
                        for ln, v in spot:
                            self.add(hi[ln.offering] * v <= limit, lit)

    def _redundancy(
        self, name: str, items: list[tuple[Lane, cp_model.IntVar]], lo: Mapping[str, int], plain: int
    ) -> None:
        """N+k, exactly: capacity minus its k largest instances >= demand.

        For a multiset of instance capacities, capacity minus the k largest equals
        max over theta of (sum_i min(c_i, theta) - k * theta), attained at some c_j; so the
        rule holds iff for some level theta = c_j: sum_t min(c_t, theta) * N_t >= demand + k theta.
        For k = 1 the right level is the largest capacity in use, which gives the compact
        form: capacity >= demand + theta with theta >= c_t whenever offering t is in use.
        For k >= 2 one Boolean per capacity level selects the disjunct."""
        w = self.ctx.workload(name)
        k = w.redundancy
        lit = self.lit("redundancy", name)
        by_offering: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for ln, v in items:
            by_offering[ln.offering].append(v)
        if not by_offering:
            self.add(self.zero >= plain + 1, lit)
            return
        offerings = sorted(by_offering)
        levels = sorted({lo[t] for t in offerings})
        total = cp_model.LinearExpr.weighted_sum(
            [v for t in offerings for v in by_offering[t]], [lo[t] for t in offerings for _v in by_offering[t]]
        )
        if len(levels) == 1:
            self.add(total >= plain + k * levels[0], lit)
            return
        # valid cut for the LP relaxation: at least k instances of the smallest size on top
        self.add(total >= plain + k * levels[0], lit)
        if k == 1:
            theta = self.m.new_int_var_from_domain(cp_model.Domain.from_values(levels), "")
            for t in offerings:
                if lo[t] == levels[0]:
                    continue
                in_use = self.m.new_bool_var("")
                n_t = sum(by_offering[t])
                self.m.add(n_t == 0).only_enforce_if(in_use.Not())
                self.m.add(theta >= lo[t]).only_enforce_if(in_use)
                self.f.constraints += 2
            self.add(total - theta >= plain, lit)
            return
        pick = [self.m.new_bool_var("") for _ in levels]
        self.m.add_exactly_one(pick)
        for y, c in zip(pick, levels, strict=True):
            expr = cp_model.LinearExpr.weighted_sum(
                [v for t in offerings for v in by_offering[t]],
                [min(lo[t], c) for t in offerings for _v in by_offering[t]],
            )
            ct = self.m.add(expr >= plain + k * c)
            ct.only_enforce_if([y, lit] if lit is not None else [y])
            self.f.constraints += 1

    def _survive(
        self,
        name: str,
        items: list[tuple[Lane, cp_model.IntVar]],
        lo: Mapping[str, int],
        plain: int,
        keys: list[tuple[str]],
        domains: list[str],
        k: int,
    ) -> None:
        """Without any k of ``domains`` (zones or regions) and without spot, demand is carried."""
        lit = self.lit("survive", name)
        per: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (ln, v), (d,) in zip(items, keys, strict=True):
            if ln.option != SPOT:
                per[d].append((lo[ln.offering], v))
        if len(domains) <= k:
            self.add(self.zero >= plain, lit)
            return
        for lost in itertools.combinations(domains, k):
            rest = [(c, v) for d in domains if d not in lost for c, v in per.get(d, [])]
            if not rest:
                self.add(self.zero >= plain, lit)
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for _c, v in rest], [c for c, _v in rest])
            self.add(expr >= plain, lit)

    def _replicas(self, name: str, items: list[tuple[Lane, cp_model.IntVar]], zones: list[str]) -> None:
        w = self.ctx.workload(name)
        if w.min_replicas > 0:
            vs = [v for _, v in items]
            self.add((sum(vs) if vs else self.zero) >= w.min_replicas, self.lit("min_replicas", name))
        if w.min_replicas_per_zone > 0:
            for z in zones:
                vs = [v for ln, v in items if ln.zone == z]
                self.add((sum(vs) if vs else self.zero) >= w.min_replicas_per_zone, self.lit("min_replicas", name))

    def _batch(self, name: str) -> None:
        ctx, plan = self.ctx, self.plan
        w = ctx.workload(name)
        assert ctx.scaling is not None
        q = ctx.scaling.capacity[name]
        ovh = w.batch.checkpoint_overhead if w.batch is not None else 0.0
        lanes = self.by_workload.get(name, [])
        zones = sorted({ln.zone for ln in lanes})
        for m, blocks in enumerate(ctx.blocks):
            work = plan.demand[m].work.get(name, 0.0) * batch_factor(plan, w, m)
            done_v: list[cp_model.IntVar] = []
            done_c: list[int] = []
            spot_v: list[cp_model.IntVar] = []
            spot_c: list[int] = []
            for blk in blocks:
                items = [
                    (ln, v)
                    for ln in lanes
                    if (v := self.f.use.get((name, ln.offering, ln.zone, ln.option, m, blk.index))) is not None
                ]
                for ln, v in items:
                    c = ctx.cap[(name, ln.offering)] * blk.hours
                    if ln.option == SPOT:
                        spot_v.append(v)
                        spot_c.append(math.ceil(c * (1 - ovh) * q * (1 - _EPS)))
                        c *= 1 - ovh
                    done_v.append(v)
                    done_c.append(max(0, math.floor(c * q * (1 + _EPS))))
                self._replicas(name, items, zones)
            if work > 0:
                self.add(cp_model.LinearExpr.weighted_sum(done_v, done_c) >= self.need(name, work), self.lit("work", name))
                if spot_v and w.spot.max_share is not None:
                    limit = self.allow(name, w.spot.max_share * work)
                    self.add(cp_model.LinearExpr.weighted_sum(spot_v, spot_c) <= limit, self.lit("spot", name))

    # ------------------------------------------------------------------ fleet-wide limits

    def quotas(self) -> None:
        offerings = {o.id: o.offering for o in self.plan.offerings}
        for q in self.plan.quotas:
            members = {t for t in q.offerings if t in offerings and (q.region is None or offerings[t].region == q.region)}
            limits: list[tuple[str, int, dict[str, Fraction]]] = []
            if q.max_instances is not None:
                limits.append(("instances", q.max_instances, {t: Fraction(1) for t in members}))
            if q.max_vcpu is not None:
                limits.append(("vcpu", q.max_vcpu, {t: Fraction(offerings[t].vcpu) for t in members}))
            if q.max_gpu is not None:
                limits.append(("gpu", q.max_gpu, {t: Fraction(offerings[t].gpu_count).limit_denominator(1000) for t in members}))
            per_block: dict[tuple[int, int], list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
            for (_w, t, _z, _opt, m, b), v in self.f.use.items():
                if t in members:
                    per_block[(m, b)].append((t, v))
            usage = self.f.quota_usage.setdefault(q.name, [])
            for unit, limit, weight in limits:
                denom = math.lcm(*(wt.denominator for wt in weight.values())) if weight else 1
                for (m, b), tv in sorted(per_block.items()):
                    coefs = [int(weight[t] * denom) for t, _ in tv]
                    expr = cp_model.LinearExpr.weighted_sum([v for _, v in tv], coefs)
                    self.add(expr <= limit * denom, self.lit("quota", q.name))
                    usage.append((m, b, unit, expr, denom))

    def _month_costs(self, scope: frozenset[str] | None) -> list[tuple[cp_model.LinearExprT, Fraction]]:
        """Per month: scaled cost of ``scope`` (None = whole plan), rounded up, and the exact
        constant part (existing fleet). A scoped budget pays reserved use at the highest
        rate any reservation of that offering can have that month (never below its real
        share), since reservations are fleet-wide."""
        ctx, plan = self.ctx, self.plan
        H = plan.horizon
        mode = plan.commitments.beyond_horizon
        terms: list[tuple[list[cp_model.IntVar], list[int]]] = [([], []) for _ in range(H)]
        const = [Fraction(0)] * H
        billed = {(blk.month, blk.index): blk.billed for blocks in ctx.blocks for blk in blocks}
        rate = self._reserved_rate() if scope is not None else {}
        for (w, t, z, opt, m, b), v in self.f.use.items():
            if scope is not None and w not in scope:
                continue
            if opt == RESERVED:
                if scope is None:
                    continue
                coef = self.money_coef(rate[(t, m)], billed[(m, b)], up=True)
            else:
                ln_price = self._price(t, z, opt)
                coef = self.money_coef(ln_price, billed[(m, b)], up=True)
            if coef:
                terms[m][0].append(v)
                terms[m][1].append(coef)
        if scope is None:
            for (t, z, i, s), v in self.f.buy.items():
                c = ctx.pools[(t, z)].choices[i]
                for m in range(s, min(H, s + c.term_months)):
                    cost = reservation_month_cost(c.hourly, c.upfront, c.term_months, s, m, H, self.hpm, mode)
                    coef = math.ceil(cost * self.money)
                    if coef:
                        terms[m][0].append(v)
                        terms[m][1].append(coef)
            const = existing_fleet_cost(plan)
        return [(cp_model.LinearExpr.weighted_sum(vs, cs), const[m]) for m, (vs, cs) in enumerate(terms)]

    def _price(self, t: str, z: str, opt: str) -> Decimal:
        o = self.offerings[t]
        if opt == ON_DEMAND:
            assert o.on_demand_hourly is not None
            return o.on_demand_hourly
        return o.spot_hourly[z]

    def _reserved_rate(self) -> dict[tuple[str, int], Decimal]:
        """Highest cost per owned instance-hour any reservation of t can carry in month m."""
        plan, ctx = self.plan, self.ctx
        H = plan.horizon
        hpm = Fraction(self.hpm)
        out: dict[tuple[str, int], Fraction] = defaultdict(Fraction)
        for r in plan.fleet:
            for m in range(max(0, r.start), min(H, r.end)):
                out[(r.offering, m)] = max(out[(r.offering, m)], Fraction(r.hourly))
        starts = set(purchase_months(plan))
        for pool in ctx.pools.values():
            for c in pool.choices:
                for m in range(H):
                    best = Fraction(0)
                    for s in range(max(0, m - c.term_months + 1), m + 1):
                        if s in starts:
                            cost = reservation_month_cost(c.hourly, c.upfront, c.term_months, s, m, H, self.hpm,
                                                          plan.commitments.beyond_horizon)
                            best = max(best, cost / hpm)
                    out[(pool.offering, m)] = max(out[(pool.offering, m)], best)
        return {k: Decimal(v.numerator) / Decimal(v.denominator) for k, v in out.items()}

    def budgets(self) -> list[tuple[int, cp_model.IntVar]]:
        """Hard budgets as constraints; soft ones return (penalty weight, overrun var)."""
        penalties: list[tuple[Fraction, cp_model.IntVar]] = []
        whole: list[tuple[cp_model.LinearExprT, Fraction]] | None = None
        for bud in self.plan.budgets:
            if bud.monthly is None and bud.total is None:
                continue
            if bud.workloads:
                months = self._month_costs(frozenset(bud.workloads))
            else:
                whole = whole if whole is not None else self._month_costs(None)
                months = whole
            self.f.budget_month[bud.name] = [(e, math.floor(c * self.money)) for e, c in months]
            if bud.monthly is not None:
                for expr, const in months:
                    rhs = math.floor((Fraction(bud.monthly) - const) * self.money)
                    if bud.hard:
                        self.add(expr <= rhs, self.lit("budget_monthly", bud.name))
                    else:
                        over = self.m.new_int_var(0, _BIG, "")
                        self.add(expr - over <= rhs, None)
                        penalties.append((Fraction(bud.penalty), over))
            if bud.total is not None:
                total = sum(e for e, _c in months)
                rhs = math.floor((Fraction(bud.total) - sum(c for _e, c in months)) * self.money)
                if bud.hard:
                    self.add(total <= rhs, self.lit("budget_total", bud.name))
                else:
                    over = self.m.new_int_var(0, _BIG, "")
                    self.add(total - over <= rhs, None)
                    penalties.append((Fraction(bud.penalty), over))
        weight = 1 if all(p.denominator == 1 for p, _ in penalties) else 100
        self.f.objective_weight = weight
        return [(int(p * weight), v) for p, v in penalties]

    def commitments(self) -> None:
        cap = self.plan.commitments.max_hourly
        if cap is None and not self.assumptions:
            return
        per_month: dict[int, tuple[list[cp_model.IntVar], list[int]]] = defaultdict(lambda: ([], []))
        for (t, z, i, s), v in self.f.buy.items():
            c = self.ctx.pools[(t, z)].choices[i]
            coef = math.ceil(Fraction(c.effective_hourly(self.hpm)) * self.money)
            for m in range(s, min(self.plan.horizon, s + c.term_months)):
                per_month[m][0].append(v)
                per_month[m][1].append(coef)
        for m, (vs, cs) in sorted(per_month.items()):
            expr = cp_model.LinearExpr.weighted_sum(vs, cs)
            self.f.commitment.append((m, expr))
            if cap is not None:
                self.add(expr <= math.floor(Fraction(cap) * self.money), self.lit("commitments", "max"))

    def symmetry(self) -> None:
        for group in self.ctx.zone_groups:
            totals = []
            for z in group:
                vs = [v for k, v in self.f.use.items() if k[2] == z]
                vs += [v for k, v in self.f.buy.items() if k[1] == z]
                totals.append(sum(vs) if vs else self.zero)
            for a, b in itertools.pairwise(totals):
                self.add(a >= b, None)

    def objective(self, penalties: Iterable[tuple[int, cp_model.IntVar]]) -> None:
        ctx, plan = self.ctx, self.plan
        weight = self.f.objective_weight
        vs: list[cp_model.IntVar] = []
        cs: list[int] = []
        billed = {(blk.month, blk.index): blk.billed for blocks in ctx.blocks for blk in blocks}
        price = {(ln.workload, ln.offering, ln.zone, ln.option): ln.price for ln in ctx.lanes}
        for (w, t, z, opt, m, b), v in self.f.use.items():
            if opt == RESERVED:
                continue
            coef = self.money_coef(price[(w, t, z, opt)], billed[(m, b)])
            if coef:
                vs.append(v)
                cs.append(coef * weight)
        for (t, z, i, s), v in self.f.buy.items():
            c = ctx.pools[(t, z)].choices[i]
            coef = round(choice_cost(c, s, plan.horizon, self.hpm, plan.commitments.beyond_horizon) * self.money)
            if coef:
                vs.append(v)
                cs.append(coef * weight)
        for p, v in penalties:
            vs.append(v)
            cs.append(p)
        self.f.objective = cp_model.LinearExpr.weighted_sum(vs, cs)
        self.f.constant = sum(existing_fleet_cost(plan), Fraction(0))

    def hint(self, use: Mapping[UseKey, int], buy: Mapping[tuple[str, str, int, str, str, int], int]) -> int:
        """Hint every decision variable (0 where the previous plan had nothing). Returns how
        many variables took a non-zero value from the previous plan."""
        matched = 0
        for key, v in self.f.use.items():
            val = use.get(key, 0)
            if val:
                matched += 1
            self.m.add_hint(v, min(val, self.f.ub[key]))
        for (t, z, i, s), v in self.f.buy.items():
            c = self.ctx.pools[(t, z)].choices[i]
            val = buy.get((t, z, c.term_months, c.payment, c.offering_class, s), 0)
            if val:
                matched += 1
            self.m.add_hint(v, min(val, self.buy_ub[(t, z, i, s)]))
        return matched


def formulate(
    ctx: SolveContext,
    *,
    assumptions: bool = False,
    hint_use: Mapping[UseKey, int] | None = None,
    hint_buy: Mapping[tuple[str, str, int, str, str, int], int] | None = None,
    minimize: bool = True,
) -> tuple[Formulation, int]:
    """Build the CP-SAT model. With ``assumptions``, each setting's constraints are enforced
    only when its literal (``Formulation.groups``) is true. Returns the formulation and how
    many hinted variables matched."""
    b = _Builder(ctx, assumptions)
    b.variables()
    b.reservations()
    b.workloads()
    b.quotas()
    penalties = b.budgets()
    b.commitments()
    b.symmetry()
    b.objective(penalties)
    if minimize:
        b.m.minimize(b.f.objective)
    matched = 0
    if hint_use is not None or hint_buy is not None:
        matched = b.hint(hint_use or {}, hint_buy or {})
    return b.f, matched
