"""The CP-SAT model of a prepared SolveContext (OPTIMIZER.md: variables, constraints, objective).

Variables (integers), per month m and block b:

- ``use[w, t, z, kind, m, b]``: instances of offering t in zone z serving workload w; ``kind``
  is ``standard`` (reserved when the offering's reservations have room in that block,
  on-demand otherwise) or ``spot``;
- ``od[t, m, b]``: standard instances of t bought on-demand (only for offerings that have
  reservations: ``od >= standard instances - reservations owned``; without reservations the
  standard instances are all on-demand and priced directly);
- ``zonal_over[t, z, m, b]``: standard instances of t in z beyond the zonal reservations
  already owned there (only where such exist);
- ``buy[t, choice, s]``: reservations of t bought with reserved option ``choice``, starting at
  month s, regional (usable in any zone of t's region, by any workload).

This is exact: whatever split of standard instances into reserved and on-demand a plan
makes, drawing on the reservations first is no dearer, and which workload gets which
reserved instance does not change the cost (``solver.to_solution`` assigns them
deterministically). It halves the variables of the textbook U/D split.

Constraints, each family tagged with the plan setting it comes from (``Group``) so that
``infeasible.py`` can put it behind an assumption literal:

1. demand with headroom / max utilisation (rounded towards more capacity);
2. reservations: standard instances beyond what is owned that month are on-demand;
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

from capdsl.solve.context import SPOT, STANDARD, Choice, Lane, SolveContext, purchase_months
from capdsl.solve.money import existing_fleet_cost, reservation_month_cost
from capdsl.solve.prune import batch_factor, choice_cost

UseKey = tuple[str, str, str, str, int, int]  # workload, offering, zone, kind, month, block
BuyKey = tuple[str, int, int]  # offering, choice index, start month
# a purchase by its option, as ``formulate``'s ``hint_buy`` takes it: offering, term (months),
# payment, offering class, start month
OptionKey = tuple[str, int, str, str, int]


def by_option(ctx: SolveContext, buys: Mapping[BuyKey, int]) -> dict[OptionKey, int]:
    """``buys`` keyed by their options (``hint_buy``'s keys) instead of choice indices."""
    out: dict[OptionKey, int] = {}
    for (t, i, s), n in buys.items():
        c = ctx.pools[t].choices[i]
        key = (t, c.term_months, c.payment, c.offering_class, s)
        out[key] = out.get(key, 0) + n
    return out


_EPS = 1e-12
# Rounding cuts (``_Builder._rounding_cuts``): how many instance sizes each covering rule is
# rounded at. The three largest sizes below the demand gave the whole gain on the examples
# (the retail plan's monthly LPs: +4.2%, all sizes: the same)
ROUNDING_SIZES = 3
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


class _Model(cp_model.CpModel):
    """``CpModel`` without its pre-PEP 8 aliases: its constructor binds a camelCase alias of
    every ``add_*``/``new_*`` method on each new model (1.4 ms, a tenth of building a block
    model of the decomposition, which builds hundreds); capdsl uses none of them."""

    def _add_pre_pep8_methods(self) -> None:
        pass


@dataclass
class Formulation:
    model: cp_model.CpModel
    ctx: SolveContext
    use: dict[UseKey, cp_model.IntVar] = field(default_factory=dict)
    ub: dict[UseKey, int] = field(default_factory=dict)
    od: dict[tuple[str, int, int], cp_model.IntVar] = field(default_factory=dict)
    zonal_over: dict[tuple[str, str, int, int], cp_model.IntVar] = field(default_factory=dict)
    buy: dict[BuyKey, cp_model.IntVar] = field(default_factory=dict)
    groups: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    # Scaled (money units) cost of each budget's scope per month, rounded up; constant part.
    budget_month: dict[str, list[tuple[cp_model.LinearExprT, int]]] = field(default_factory=dict)
    quota_usage: dict[str, list[tuple[int, int, str, cp_model.LinearExprT, int]]] = field(
        default_factory=dict
    )
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

    @property
    def n_variables(self) -> int:
        return len(self.use) + len(self.od) + len(self.zonal_over) + len(self.buy)


class _Builder:
    def __init__(self, ctx: SolveContext, assumptions: bool, cuts: bool = False) -> None:
        assert ctx.scaling is not None, "run the scale_integers pass first"
        self.ctx = ctx
        self.plan = ctx.plan
        self.m = _Model()
        self.f = Formulation(self.m, ctx)
        self.assumptions = assumptions
        self.cuts = cuts
        self.money = ctx.scaling.money
        self.hpm = ctx.hours_per_month
        self.zero = self.m.new_constant(0)
        self._coef_cache: dict[tuple[Decimal, Fraction, bool], int] = {}
        self._domains: dict[int, cp_model.Domain] = {}
        self.var_ub: dict[int, int] = {}
        self.buy_ub: dict[BuyKey, int] = {}
        self.per_block_ub: dict[tuple[str, int, int], int] = {}
        self.by_workload: dict[str, list[Lane]] = defaultdict(list)
        for ln in ctx.lanes:
            self.by_workload[ln.workload].append(ln)
        self.offerings = {o.id: o.offering for o in self.plan.offerings}
        self.region = {oid: o.region for oid, o in self.offerings.items()}
        self.billed = {
            (blk.month, blk.index): blk.billed for blocks in ctx.blocks for blk in blocks
        }
        # month, block -> workload -> [(lane, var)]
        self.items: dict[tuple[int, int], dict[str, list[tuple[Lane, cp_model.IntVar]]]] = (
            defaultdict(lambda: defaultdict(list))
        )

    # ------------------------------------------------------------------ helpers

    def new_var(self, ub: int) -> cp_model.IntVar:
        """A nameless integer variable in [0, ub] (``new_int_var`` without its name and with
        the domains shared: most of a block model's variables have one of a few bounds)."""
        dom = self._domains.get(ub)
        if dom is None:
            dom = self._domains[ub] = cp_model.Domain(0, ub)
        return cp_model.IntVar(self.m.model_proto).with_domain(dom)

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
        new_var = self.new_var
        use, ubs, var_ub = self.f.use, self.f.ub, self.var_ub
        for w in plan.workloads:
            lanes = self.by_workload.get(w.name, [])
            if not lanes or (ctx.only is not None and w.name not in ctx.only):
                continue
            if w.kind == "batch" and ctx.batch == "drop":
                continue
            floor_n = max(w.min_replicas, w.min_replicas_per_zone)
            caps = [ctx.cap[(w.name, ln.offering)] for ln in lanes]
            spot = [ln.kind == SPOT for ln in lanes]
            ovh = w.batch.checkpoint_overhead if w.kind == "batch" and w.batch is not None else 0.0
            shares = [s for s in (w.spot.max_share, w.spot.per_pool) if s is not None]
            for m, blocks in enumerate(ctx.blocks):
                if not blocks:
                    continue
                work = (
                    plan.demand[m].work.get(w.name, 0.0) * batch_factor(plan, w, m)
                    if w.kind == "batch"
                    else 0.0
                )
                for blk in blocks:
                    level = blk.level.get(w.name, 0.0) * w.required_factor
                    bucket = self.items[(m, blk.index)][w.name]
                    # spot limits cap the count of a pool outright (in the block's quietest hour)
                    quiet = blk.low(w.name) if shares and w.kind != "batch" else 0.0
                    for ln, c, is_spot in zip(lanes, caps, spot, strict=True):
                        if w.kind == "batch":
                            per = c * blk.hours * ((1 - ovh) if is_spot else 1.0)
                            ub = math.ceil(work / per * (1 + 1e-9)) if work > 0 and per > 0 else 0
                        elif level > 0:
                            ub = math.ceil(level / c * (1 + 1e-9)) + w.redundancy
                        else:
                            ub = 0
                        ub = max(ub, floor_n)
                        if is_spot and w.kind != "batch":
                            for share in shares:
                                ub = min(ub, math.floor(share * quiet / c * (1 + 1e-9)))
                        if ub <= 0:
                            continue
                        key = (w.name, ln.offering, ln.zone, ln.kind, m, blk.index)
                        v = new_var(ub)
                        use[key] = v
                        ubs[key] = ub
                        var_ub[v.index] = ub
                        bucket.append((ln, v))
        peak: dict[tuple[str, int], int] = defaultdict(int)
        per_block: dict[tuple[str, int, int], int] = defaultdict(int)
        for (_w, t, _z, kind, m, b), ub in self.f.ub.items():
            if kind == STANDARD and t in ctx.pools:
                per_block[(t, m, b)] += ub
        for (t, m, _b), n in per_block.items():
            peak[(t, m)] = max(peak[(t, m)], n)
        self.per_block_ub = per_block
        mode = ctx.reservations
        if mode == "fixed":
            return
        starts = (
            [m for m in purchase_months(plan) if ctx.included(m)]
            if mode == "rent"
            else list(purchase_months(plan))
        )
        for t, pool in sorted(ctx.pools.items()):
            top = max((n for (tt, _m), n in peak.items() if tt == t), default=0)
            if top <= 0:
                continue
            for i, _c in enumerate(pool.choices):
                for s in starts:
                    ub = peak.get((t, s), 0) if mode == "rent" else top
                    if ub > 0:
                        self.f.buy[(t, i, s)] = self.new_var(ub)
                        self.buy_ub[(t, i, s)] = ub

    # ------------------------------------------------------------------ reservations

    def owned(self, t: str, m: int) -> tuple[int, list[cp_model.IntVar]]:
        """Regional reservations of t owned in month m: (fixed count, variables active)."""
        pool = self.ctx.pools[t]
        mode = self.ctx.reservations
        if mode == "fixed":
            return pool.existing[m] + self.ctx.fixed_owned.get((t, m), 0), []
        if mode == "rent":
            # (with ``fixed_owned``: reservations already bought, free to the month, beside
            # the new ones rented: ``Decomposer.chain``)
            return pool.existing[m] + self.ctx.fixed_owned.get((t, m), 0), [
                v for i in range(len(pool.choices)) if (v := self.f.buy.get((t, i, m))) is not None
            ]
        active: list[cp_model.IntVar] = []
        for i, c in enumerate(pool.choices):
            for s in range(max(0, m - c.term_months + 1), m + 1):
                v = self.f.buy.get((t, i, s))
                if v is not None:
                    active.append(v)
        return pool.existing[m], active

    def reservations(self) -> None:
        """On-demand overflow: standard instances beyond the reservations owned."""
        ctx = self.ctx
        standard: dict[tuple[str, int, int], dict[str, list[cp_model.IntVar]]] = defaultdict(
            lambda: defaultdict(list)
        )
        zone_ub: dict[tuple[str, str, int, int], int] = defaultdict(int)
        for key, v in self.f.use.items():
            _w, t, z, kind, m, b = key
            if kind == STANDARD and t in ctx.pools:
                standard[(t, m, b)][z].append(v)
                zone_ub[(t, z, m, b)] += self.f.ub[key]
        # the other workloads' standard instances, held fixed (``SolveContext.fixed_use``)
        held: dict[tuple[str, int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (_w, t, z, kind, m, b), n in ctx.fixed_use.items():
            if kind == STANDARD and t in ctx.pools and (t, m, b) in standard:
                held[(t, m, b)][z] += n
        for (t, m, b), by_zone in sorted(standard.items()):
            pool = ctx.pools[t]
            parts: list[cp_model.LinearExpr] = []
            fixed = 0
            others = held.get((t, m, b), {})
            for z in sorted(set(by_zone) | set(others)):
                vs = by_zone.get(z, [])
                n = others.get(z, 0)
                zonal = pool.zonal.get(z, ())
                own = zonal[m] if zonal else 0
                if own > 0:
                    over = self.new_var(zone_ub[(t, z, m, b)] + n)
                    self.f.zonal_over[(t, z, m, b)] = over
                    self.add(over >= sum(vs) + n - own, None)
                    parts.append(over)
                else:
                    parts.extend(vs)
                    fixed += n
            existing, active = self.owned(t, m)
            price = self.offerings[t].on_demand_hourly
            if price is None:
                self.add(sum(parts) + fixed <= existing + sum(active), None)
                continue
            od = self.new_var(self.per_block_ub[(t, m, b)] + fixed)
            self.f.od[(t, m, b)] = od
            self.add(od >= sum(parts) + fixed - existing - sum(active), None)

    # ------------------------------------------------------------------ workloads

    def workloads(self) -> None:
        for w in self.plan.workloads:
            if self.ctx.only is not None and w.name not in self.ctx.only:
                continue
            if w.kind == "batch":
                self._batch(w.name)
            else:
                self._service(w.name)

    def _service(self, name: str) -> None:
        ctx = self.ctx
        w = ctx.workload(name)
        lanes = self.by_workload.get(name, [])
        zones = sorted({ln.zone for ln in lanes})
        offerings = {ln.offering for ln in lanes}
        lo = {t: self.cap_lo(name, t) for t in offerings}
        hi = {t: self.cap_hi(name, t) for t in offerings}
        regions = sorted({self.region[ln.offering] for ln in lanes})
        for m, blocks in enumerate(ctx.blocks):
            for blk in blocks:
                level = blk.level.get(name, 0.0)
                items = self.items[(m, blk.index)].get(name, [])
                if level > 0:
                    required = self.need(name, level * w.required_factor)
                    plain = self.need(name, level)
                    # every covering row counts an instance for at most the row's own
                    # demand: one that covers the demand alone satisfies the row either
                    # way, so the integer plans are the same (for N+k and zone loss too:
                    # capacity minus its k largest instances, or without a zone, covers the
                    # demand with capped capacities iff it does with the real ones), and the
                    # LP can no longer buy a fraction of one large instance where a plan
                    # needs a whole one (its bound on the retail example: +10%)
                    capped = {ln.offering: min(lo[ln.offering], plain) for ln, _ in items}
                    if required > plain:
                        self.add(
                            self._capacity(items, lo, required) >= required,
                            self.lit("headroom", name),
                        )
                        if self.assumptions:
                            self.add(
                                self._capacity(items, lo, plain) >= plain,
                                self.lit("demand", name),
                            )
                    else:
                        self.add(
                            self._capacity(items, lo, required) >= required,
                            self.lit("demand", name),
                        )
                    if w.redundancy > 0:
                        self._redundancy(name, items, capped, plain)
                    if w.survive_zones > 0:
                        self._survive(
                            name,
                            items,
                            capped,
                            plain,
                            [ln.zone for ln, _ in items],
                            zones,
                            w.survive_zones,
                        )
                    if w.survive_regions > 0:
                        keys = [self.region[ln.offering] for ln, _ in items]
                        self._survive(name, items, capped, plain, keys, regions, w.survive_regions)
                self._replicas(name, items, zones)
                spot = [(ln, v) for ln, v in items if ln.kind == SPOT]
                if spot and (w.spot.max_share is not None or w.spot.per_pool is not None):
                    lit = self.lit("spot", name)
                    quiet = blk.low(name)  # the limits hold in every hour of the block
                    if w.spot.max_share is not None:
                        limit = self.allow(name, w.spot.max_share * quiet)
                        expr = cp_model.LinearExpr.weighted_sum(
                            [v for _, v in spot], [hi[ln.offering] for ln, _ in spot]
                        )
                        self.add(expr <= limit, lit)
                    if w.spot.per_pool is not None:
                        limit = self.allow(name, w.spot.per_pool * quiet)
                        for ln, v in spot:
                            self.add(hi[ln.offering] * v <= limit, lit)

    @staticmethod
    def _capacity(
        items: list[tuple[Lane, cp_model.IntVar]], lo: Mapping[str, int], cap: int
    ) -> cp_model.LinearExpr:
        """Capacity of ``items``, each instance counted for at most ``cap``."""
        return cp_model.LinearExpr.weighted_sum(
            [v for _, v in items], [min(lo[ln.offering], cap) for ln, _ in items]
        )

    def _redundancy(
        self,
        name: str,
        items: list[tuple[Lane, cp_model.IntVar]],
        lo: Mapping[str, int],
        plain: int,
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
        flat = [(v, lo[t]) for t in offerings for v in by_offering[t]]
        # the k instances left out count at least one size each
        self._rounding_cuts([(c, v) for v, c in flat], [([(c, v) for v, c in flat], k)], plain, lit)
        total = cp_model.LinearExpr.weighted_sum([v for v, _ in flat], [c for _, c in flat])
        # valid for every plan, and the whole rule when all instances are the same size
        self.add(total >= plain + k * levels[0], lit)
        if len(levels) == 1:
            return
        if k == 1:
            theta = self.m.new_int_var(levels[0], levels[-1], "")
            for t in offerings:
                if lo[t] == levels[0]:
                    continue
                in_use = self.m.new_bool_var("")
                self.m.add(cp_model.LinearExpr.sum(by_offering[t]) == 0).only_enforce_if(
                    in_use.Not()
                )
                self.m.add(theta >= lo[t]).only_enforce_if(in_use)
                self.f.constraints += 2
            self.add(total - theta >= plain, lit)
            return
        pick = [self.m.new_bool_var("") for _ in levels]
        self.m.add_exactly_one(pick)
        for y, c in zip(pick, levels, strict=True):
            expr = cp_model.LinearExpr.weighted_sum(
                [v for v, _ in flat], [min(ct, c) for _, ct in flat]
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
        keys: list[str],
        domains: list[str],
        k: int,
    ) -> None:
        """Without any k of ``domains`` (zones or regions) and without spot, demand is carried.

        k = 1 (the usual case) uses the sparse exact form: ``largest >= capacity(d)`` for
        every domain d and ``non-spot capacity - largest >= demand``; k >= 2 lists every
        combination of k lost domains."""
        lit = self.lit("survive", name)
        per: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (ln, v), d in zip(items, keys, strict=True):
            if ln.kind != SPOT:
                per[d].append((lo[ln.offering], v))
        if len(domains) <= k:
            self.add(self.zero >= plain, lit)
            return
        if k == 1:
            flat = [cv for d in domains for cv in per.get(d, [])]
            if not flat:
                self.add(self.zero >= plain, lit)
                return
            bound = max(sum(c * self.var_ub[v.index] for c, v in per.get(d, [])) for d in domains)
            largest = self.new_var(bound)
            for d in domains:
                if per.get(d):
                    expr = cp_model.LinearExpr.weighted_sum(
                        [v for _c, v in per[d]], [c for c, _v in per[d]]
                    )
                    self.add(expr <= largest, None)
            total = cp_model.LinearExpr.weighted_sum([v for _c, v in flat], [c for c, _v in flat])
            self.add(total - largest >= plain, lit)
            if len(domains) > 1:
                self._rounding_cuts(
                    flat,
                    [
                        ([cv for e in domains if e != d for cv in per.get(e, [])], 0)
                        for d in domains
                    ],
                    plain,
                    lit,
                )
            return
        for lost in itertools.combinations(domains, k):
            rest = [(c, v) for d in domains if d not in lost for c, v in per.get(d, [])]
            if not rest:
                self.add(self.zero >= plain, lit)
                continue
            expr = cp_model.LinearExpr.weighted_sum([v for _c, v in rest], [c for c, _v in rest])
            self.add(expr >= plain, lit)

    def _rounding_cuts(
        self,
        flat: list[tuple[int, cp_model.IntVar]],
        rows: list[tuple[list[tuple[int, cp_model.IntVar]], int]],
        plain: int,
        lit: cp_model.IntVar | None,
    ) -> None:
        """Chvatal-Gomory roundings of covering rules, valid for every integer plan, which
        the LP relaxation (the bound) lacks: it buys a zone a fraction of an instance where a
        plan needs a whole one.

        Each row ``(terms, k)`` says: the capacity of ``terms`` (capacities ``c``, already
        capped at the demand), less its k largest instances, covers ``plain``. For a size
        theta, every instance counts ``ceil(c / theta)`` and the whole number of sizes the
        kept instances reach is at least ``r = ceil(plain / theta)``, each left-out instance
        adding at least one: ``sum ceil(c / theta) x >= r + k``. Zone loss gives one row per
        zone lost (k = 0); every instance is in all of those rows but its own zone's, so
        their sum over Z zones, divided by Z - 1 and rounded up, gives ``sum ceil(c / theta)
        x >= ceil(Z r / (Z - 1))`` over ``flat`` (the whole fleet). Sizes: the
        ``ROUNDING_SIZES`` largest capacities below the demand (a size at or above it rounds
        every instance to one). Enforced by the rule's own literal (infeasibility
        explanations are unchanged)."""
        if not self.cuts:
            return
        sizes = sorted({c for c, _ in flat if 0 < c < plain}, reverse=True)[:ROUNDING_SIZES]
        if not sizes:
            return
        rows = [([(c, v) for c, v in terms if c > 0], k) for terms, k in rows]
        fleet = [(c, v) for c, v in flat if c > 0]
        zones = len(rows) > 1 and all(k == 0 for _, k in rows)
        for theta in sizes:
            r = -(-plain // theta)
            for terms, k in rows:
                if terms:
                    self.add(
                        cp_model.LinearExpr.weighted_sum(
                            [v for _, v in terms], [-(-c // theta) for c, _ in terms]
                        )
                        >= r + k,
                        lit,
                    )
            if zones:
                z = len(rows)
                self.add(
                    cp_model.LinearExpr.weighted_sum(
                        [v for _, v in fleet], [-(-c // theta) for c, _ in fleet]
                    )
                    >= -(-z * r // (z - 1)),
                    lit,
                )

    def _replicas(
        self, name: str, items: list[tuple[Lane, cp_model.IntVar]], zones: list[str]
    ) -> None:
        w = self.ctx.workload(name)
        if w.min_replicas > 0:
            vs = [v for _, v in items]
            self.add(
                (sum(vs) if vs else self.zero) >= w.min_replicas, self.lit("min_replicas", name)
            )
        if w.min_replicas_per_zone > 0:
            for z in zones:
                vs = [v for ln, v in items if ln.zone == z]
                self.add(
                    (sum(vs) if vs else self.zero) >= w.min_replicas_per_zone,
                    self.lit("min_replicas", name),
                )

    def _batch(self, name: str) -> None:
        ctx, plan = self.ctx, self.plan
        w = ctx.workload(name)
        assert ctx.scaling is not None
        q = ctx.scaling.capacity[name]
        ovh = w.batch.checkpoint_overhead if w.batch is not None else 0.0
        lanes = self.by_workload.get(name, [])
        zones = sorted({ln.zone for ln in lanes})
        if ctx.batch == "drop":
            return
        for m, blocks in enumerate(ctx.blocks):
            if not blocks:
                continue  # a sub-model without this month
            work = plan.demand[m].work.get(name, 0.0) * batch_factor(plan, w, m)
            if ctx.batch == "split":
                work *= sum(blk.hours for blk in blocks) / plan.demand[m].hours
            done_v: list[cp_model.IntVar] = []
            done_c: list[int] = []
            spot_v: list[cp_model.IntVar] = []
            spot_c: list[int] = []
            for blk in blocks:
                items = self.items[(m, blk.index)].get(name, [])
                for ln, v in items:
                    c = ctx.cap[(name, ln.offering)] * blk.hours
                    if ln.kind == SPOT:
                        spot_v.append(v)
                        spot_c.append(math.ceil(c * (1 - ovh) * q * (1 - _EPS)))
                        c *= 1 - ovh
                    done_v.append(v)
                    done_c.append(max(0, math.floor(c * q * (1 + _EPS))))
                self._replicas(name, items, zones)
            if work > 0:
                due = self.need(name, work)
                self.add(
                    cp_model.LinearExpr.weighted_sum(done_v, [min(c, due) for c in done_c]) >= due,
                    self.lit("work", name),
                )
                if spot_v and w.spot.max_share is not None:
                    limit = self.allow(name, w.spot.max_share * work)
                    self.add(
                        cp_model.LinearExpr.weighted_sum(spot_v, spot_c) <= limit,
                        self.lit("spot", name),
                    )

    # ------------------------------------------------------------------ fleet-wide limits

    def quotas(self) -> None:
        offerings = self.offerings
        for q in self.plan.quotas:
            members = {
                t
                for t in q.offerings
                if t in offerings and (q.region is None or offerings[t].region == q.region)
            }
            limits: list[tuple[str, int, dict[str, Fraction]]] = []
            if q.max_instances is not None:
                limits.append(("instances", q.max_instances, {t: Fraction(1) for t in members}))
            if q.max_vcpu is not None:
                limits.append(
                    ("vcpu", q.max_vcpu, {t: Fraction(offerings[t].vcpu) for t in members})
                )
            if q.max_gpu is not None:
                limits.append(
                    (
                        "gpu",
                        q.max_gpu,
                        {
                            t: Fraction(offerings[t].gpu_count).limit_denominator(1000)
                            for t in members
                        },
                    )
                )
            per_block: dict[tuple[int, int], list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
            for (_w, t, _z, _k, m, b), v in self.f.use.items():
                if t in members:
                    per_block[(m, b)].append((t, v))
            held: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
            for (_w, t, _z, _k, m, b), n in self.ctx.fixed_use.items():
                if t in members and (m, b) in per_block:
                    held[(m, b)].append((t, n))
            usage = self.f.quota_usage.setdefault(q.name, [])
            for unit, limit, weight in limits:
                denom = math.lcm(*(wt.denominator for wt in weight.values())) if weight else 1
                for (m, b), tv in sorted(per_block.items()):
                    coefs = [int(weight[t] * denom) for t, _ in tv]
                    expr = cp_model.LinearExpr.weighted_sum([v for _, v in tv], coefs)
                    fixed = sum(int(weight[t] * denom) * n for t, n in held.get((m, b), []))
                    if fixed:
                        expr = expr + fixed
                    self.add(expr <= limit * denom, self.lit("quota", q.name))
                    usage.append((m, b, unit, expr, denom))

    def _cost_terms(
        self,
    ) -> tuple[
        list[tuple[int, cp_model.IntVar, Fraction]], list[tuple[int, cp_model.IntVar, Fraction]]
    ]:
        """Every cost of the model as (month, variable, exact cost per unit): per-hour
        purchases (on-demand and spot) and reservations (their cost in that month)."""
        ctx, plan = self.ctx, self.plan
        hourly: list[tuple[int, cp_model.IntVar, Fraction]] = []
        costs: dict[tuple[Decimal, int, int], Fraction] = {}  # shared by a block's lanes

        def per_unit(price: Decimal, m: int, b: int) -> Fraction:
            c = costs.get((price, m, b))
            if c is None:
                c = costs[(price, m, b)] = Fraction(price) * self.billed[(m, b)]
            return c

        for (_w, t, z, kind, m, b), v in self.f.use.items():
            if kind == SPOT:
                price = self.offerings[t].spot_hourly[z]
            elif t in ctx.pools:
                continue  # paid through od[t, m, b]
            else:
                p = self.offerings[t].on_demand_hourly
                assert p is not None
                price = p
            hourly.append((m, v, per_unit(price, m, b)))
        for (t, m, b), v in self.f.od.items():
            p = self.offerings[t].on_demand_hourly
            assert p is not None
            hourly.append((m, v, per_unit(p, m, b)))
        reserved: list[tuple[int, cp_model.IntVar, Fraction]] = []
        mode = plan.commitments.beyond_horizon
        for (t, i, s), v in self.f.buy.items():
            c = ctx.pools[t].choices[i]
            if ctx.reservations == "rent":
                reserved.append((s, v, monthly_rate(c, self.hpm) * ctx.rent_share))
                continue
            for m in range(s, min(plan.horizon, s + c.term_months)):
                cost = reservation_month_cost(
                    c.hourly, c.upfront, c.term_months, s, m, plan.horizon, self.hpm, mode
                )
                if cost:
                    reserved.append((m, v, cost))
        return hourly, reserved

    def _month_costs(
        self, scope: frozenset[str] | None
    ) -> list[tuple[cp_model.LinearExpr, Fraction]]:
        """Per month: scaled cost of ``scope`` (None = whole plan), rounded up, and the exact
        constant part (existing fleet). A scoped budget pays every standard instance of its
        workloads at the dearest of on-demand and the highest per-hour rate any reservation
        of that offering can carry that month (never below its attributed share, since
        reservations are fleet-wide), plus its spot."""
        ctx, plan = self.ctx, self.plan
        H = plan.horizon
        vs: list[list[cp_model.IntVar]] = [[] for _ in range(H)]
        cs: list[list[int]] = [[] for _ in range(H)]
        if scope is None:
            hourly, reserved = self._cost_terms()
            for m, v, cost in itertools.chain(hourly, reserved):
                coef = math.ceil(cost * self.money)
                if coef:
                    vs[m].append(v)
                    cs[m].append(coef)
            const = existing_fleet_cost(plan)
            if ctx.fixed_cost:
                const = [a + b for a, b in zip(const, ctx.fixed_cost, strict=True)]
        else:
            rate = self._reserved_rate()
            for (w, t, z, kind, m, b), v in self.f.use.items():
                if w not in scope:
                    continue
                o = self.offerings[t]
                if kind == SPOT:
                    price = Fraction(o.spot_hourly[z])
                else:
                    price = max(Fraction(o.on_demand_hourly or 0), rate.get((t, m), Fraction(0)))
                coef = math.ceil(price * self.billed[(m, b)] * self.money)
                if coef:
                    vs[m].append(v)
                    cs[m].append(coef)
            const = [Fraction(0)] * H
        return [(cp_model.LinearExpr.weighted_sum(vs[m], cs[m]), const[m]) for m in range(H)]

    def _reserved_rate(self) -> dict[tuple[str, int], Fraction]:
        """Highest cost per owned instance-hour any reservation of t can carry in month m."""
        plan, ctx = self.plan, self.ctx
        H = plan.horizon
        hpm = Fraction(self.hpm)
        out: dict[tuple[str, int], Fraction] = defaultdict(Fraction)
        for r in plan.fleet:
            for m in range(max(0, r.start), min(H, r.end)):
                out[(r.offering, m)] = max(out[(r.offering, m)], Fraction(r.hourly))
        starts = set(purchase_months(plan))
        mode = plan.commitments.beyond_horizon
        for pool in ctx.pools.values():
            for c in pool.choices:
                for m in range(H):
                    for s in range(max(0, m - c.term_months + 1), m + 1):
                        if s in starts:
                            cost = reservation_month_cost(
                                c.hourly, c.upfront, c.term_months, s, m, H, self.hpm, mode
                            )
                            out[(pool.offering, m)] = max(out[(pool.offering, m)], cost / hpm)
        return out

    def budgets(self) -> list[tuple[int, cp_model.IntVar]]:
        """Hard budgets as constraints; soft ones return (penalty weight, overrun var)."""
        penalties: list[tuple[Fraction, cp_model.IntVar]] = []
        whole: list[tuple[cp_model.LinearExpr, Fraction]] | None = None
        for bud in self.plan.budgets:
            if bud.monthly is None and bud.total is None:
                continue
            if bud.workloads:
                months = self._month_costs(frozenset(bud.workloads))
            else:
                whole = whole if whole is not None else self._month_costs(None)
                months = whole
            self.f.budget_month[bud.name] = [(e, math.ceil(c * self.money)) for e, c in months]
            if bud.monthly is not None:
                for m, (expr, const) in enumerate(months):
                    if not self.ctx.included(m):
                        continue
                    rhs = math.floor((Fraction(bud.monthly) - const) * self.money)
                    if bud.hard:
                        self.add(expr <= rhs, self.lit("budget_monthly", bud.name))
                    else:
                        over = self.new_var(_BIG)
                        self.add(expr - over <= rhs, None)
                        penalties.append((Fraction(bud.penalty), over))
            whole_horizon = self.ctx.reservations == "buy" and all(
                self.ctx.included(m) for m in range(self.plan.horizon)
            )
            if bud.total is not None and whole_horizon:
                total = sum(e for e, _c in months)
                rhs = math.floor((Fraction(bud.total) - sum(c for _e, c in months)) * self.money)
                if bud.hard:
                    self.add(total <= rhs, self.lit("budget_total", bud.name))
                else:
                    over = self.new_var(_BIG)
                    self.add(total - over <= rhs, None)
                    penalties.append((Fraction(bud.penalty), over))
        weight = 1 if all(p.denominator == 1 for p, _ in penalties) else 100
        self.f.objective_weight = weight
        return [(int(p * weight), v) for p, v in penalties]

    def commitments(self) -> None:
        cap = self.plan.commitments.max_hourly
        if cap is None and not self.assumptions:
            return
        per_month: dict[int, tuple[list[cp_model.IntVar], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        for (t, i, s), v in self.f.buy.items():
            c = self.ctx.pools[t].choices[i]
            coef = math.ceil(Fraction(c.effective_hourly(self.hpm)) * self.money)
            span = (
                range(s, s + 1)
                if self.ctx.reservations == "rent"
                else range(s, min(self.plan.horizon, s + c.term_months))
            )
            for m in span:
                per_month[m][0].append(v)
                per_month[m][1].append(coef)
        for m, (vs, cs) in sorted(per_month.items()):
            expr = cp_model.LinearExpr.weighted_sum(vs, cs)
            self.f.commitment.append((m, expr))
            if cap is not None:
                self.add(
                    expr <= math.floor(Fraction(cap) * self.money), self.lit("commitments", "max")
                )

    def symmetry(self) -> None:
        if self.ctx.fixed_use:
            return  # the zones are told apart by what the other workloads run in them
        for group in self.ctx.zone_groups:
            per_zone: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            for k, v in self.f.use.items():
                if k[2] in group:
                    per_zone[k[2]].append(v)
            totals = [sum(per_zone[z]) if per_zone[z] else self.zero for z in group]
            for a, b in itertools.pairwise(totals):
                self.add(a >= b, None)

    def objective(self, penalties: Iterable[tuple[int, cp_model.IntVar]]) -> None:
        plan = self.plan
        weight = self.f.objective_weight
        hourly, _reserved = self._cost_terms()
        coef: dict[int, int] = defaultdict(int)
        var: dict[int, cp_model.IntVar] = {}
        rounded: dict[int, int] = {}  # by the id of a cost: ``_cost_terms`` shares them
        for _m, v, cost in hourly:
            scaled = rounded.get(id(cost))
            if scaled is None:
                scaled = rounded[id(cost)] = round(cost * self.money)
            if scaled:
                coef[v.index] += scaled * weight
                var[v.index] = v
        for (t, i, s), v in self.f.buy.items():
            c = self.ctx.pools[t].choices[i]
            if self.ctx.reservations == "rent":
                cc = round(monthly_rate(c, self.hpm) * self.ctx.rent_share * self.money)
            else:
                cc = round(
                    choice_cost(c, s, plan.horizon, self.hpm, plan.commitments.beyond_horizon)
                    * self.money
                )
            if cc:
                coef[v.index] += cc * weight
                var[v.index] = v
        for p, v in penalties:
            coef[v.index] += p
            var[v.index] = v
        order = sorted(var)
        self.f.objective = cp_model.LinearExpr.weighted_sum(
            [var[i] for i in order], [coef[i] for i in order]
        )
        fleet = existing_fleet_cost(plan)
        fixed = self.ctx.fixed_cost or (Fraction(0),) * plan.horizon
        self.f.constant = sum(
            (fleet[m] + fixed[m] for m in range(plan.horizon) if self.ctx.included(m)), Fraction(0)
        )

    def hint(
        self, use: Mapping[UseKey, int], buy: Mapping[tuple[str, int, str, str, int], int]
    ) -> int:
        """Hint every decision variable (0 where the previous plan had nothing), plus the
        derived on-demand overflows. Returns how many variables matched the previous plan.
        (The hint is written into the proto in bulk: ``add_hint`` per variable cost a fifth
        of building a block model.)"""
        matched = 0
        hvars: list[int] = []
        hvals: list[int] = []
        standard: dict[tuple[str, int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        pools = self.ctx.pools
        for key, v in self.f.use.items():
            val = min(use.get(key, 0), self.f.ub[key])
            matched += val > 0
            hvars.append(v.index)
            hvals.append(val)
            _w, t, z, kind, m, b = key
            if kind == STANDARD and t in pools:
                standard[(t, m, b)][z] += val
        bought: dict[tuple[str, int], int] = defaultdict(int)
        active: dict[tuple[str, int, str, str, int], int] = defaultdict(int)  # by month
        for (t, term, pay, cls, s), n in buy.items():
            for m in range(s, min(self.plan.horizon, s + term)):
                active[(t, term, pay, cls, m)] += n
        for (t, i, s), v in self.f.buy.items():
            c = pools[t].choices[i]
            option = (t, c.term_months, c.payment, c.offering_class, s)
            val = min(
                active.get(option, 0) if self.ctx.reservations == "rent" else buy.get(option, 0),
                self.buy_ub[(t, i, s)],
            )
            matched += val > 0
            hvars.append(v.index)
            hvals.append(val)
            span = (
                range(s, s + 1)
                if self.ctx.reservations == "rent"
                else range(s, min(self.plan.horizon, s + c.term_months))
            )
            for m in span:
                bought[(t, m)] += val
        for (t, m), n in self.ctx.fixed_owned.items():
            bought[(t, m)] += n
        for (t, m, b), by_zone in standard.items():
            pool = pools[t]
            total = 0
            for z, n in by_zone.items():
                own = pool.zonal.get(z, (0,) * (m + 1))[m] if pool.zonal.get(z) else 0
                over = max(0, n - own)
                if (t, z, m, b) in self.f.zonal_over:
                    hvars.append(self.f.zonal_over[(t, z, m, b)].index)
                    hvals.append(over)
                    total += over
                else:
                    total += n
            if (t, m, b) in self.f.od:
                od = max(0, total - pool.existing[m] - bought[(t, m)])
                hvars.append(self.f.od[(t, m, b)].index)
                hvals.append(min(od, self.per_block_ub[(t, m, b)]))
        if hvars:  # (no empty hint message: see ``search.safe_hint``)
            hint = self.m.model_proto.solution_hint
            hint.vars.extend(hvars)
            hint.values.extend(hvals)
        return matched


def monthly_rate(c: Choice, hpm: Decimal) -> Fraction:
    """What one reservation costs per month of its term, amortised (the "rent" relaxation:
    holding it month by month at this rate is never dearer than committing to the term)."""
    return Fraction(c.hourly) * Fraction(hpm) + Fraction(c.upfront) / c.term_months


def formulate(
    ctx: SolveContext,
    *,
    assumptions: bool = False,
    hint_use: Mapping[UseKey, int] | None = None,
    hint_buy: Mapping[OptionKey, int] | None = None,
    minimize: bool = True,
    cuts: bool = False,
) -> tuple[Formulation, int]:
    """Build the CP-SAT model. With ``assumptions``, each setting's constraints are enforced
    only when its literal (``Formulation.groups``) is true. With ``cuts``, the covering rules
    get their rounding cuts (``_Builder._rounding_cuts``: for LP relaxations; CP-SAT makes
    its own, and the rows slowed its block searches). Returns the formulation and how many
    hinted variables matched the hint."""
    b = _Builder(ctx, assumptions, cuts)
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
