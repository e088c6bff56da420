"""Integer floors: the least a service's fleet can weigh at each demand level, for the bound.

The LP bounds (``relax.py``) buy fractions of instances. Where a service needs only a few,
that is most of what they miss: surviving a zone takes whole instances in at least two
zones, N+1 a whole spare, and the LP buys a fifth of each. A small CP-SAT model per service
and demand level gives what integrality costs, and one row per service and block carries it
into the LP over instance families (``relax.aggregate_bound``) and the monthly LPs
(``relax.lp_bound``):

    sum over the service's instances of  weight(family, standard or spot) x vCPUs  >=  floor

where ``floor`` is the least that sum can be for any whole fleet that meets the service's
covering rules at the block's demand. Every real plan's fleet meets them, so its LP image
satisfies the row, whatever the weights (the row is valid for any non-negative weights);
the weights are each *price family's* cheapest price per vCPU-hour (on-demand, a
reservation's amortised rate; spot apart), so the row bounds what the fleet costs (an
instance family, split where its sizes are not priced by the vCPU: ``price_families``).
Computed at every level, the floors raised the family LP of the benchmarks' first month by
4% (M), 7% (L) and 19% (XL), and the retail example's monthly LPs by 7%.

The model of a service at demand ``d`` keeps: capacity with headroom, each instance counted
for at most the demand (as in the full model); N+1 exactly (capacity less its largest
instance), N+k relaxed to ``k`` of the smallest; surviving one zone exactly (without spot, no
zone's loss leaves less than ``d``), more zones relaxed to one; and it drops the spot limits,
quotas and placement (a relaxation each, so the floor stays below the true one); spot is
one count per kind (no rule left tells its zones apart). Zones that can run the same
instances are interchangeable: they are numbered by capacity, and only the loss of the
first of each such class is written (the others' losses are no worse) -- 1.6x faster on
the M benchmark's models. Capacities are rounded up and demand down to integers, weights
down.

Most of each floor comes from a dynamic program over capacity instead (``_dp_floors``):
the same rules, further relaxed (capacities rounded up to a grid of 512 units, every
standard instance allowed in every zone), solved exactly at every level of a service at
once -- a service's 300 levels in 0.1-0.3 s, where the models take 40 ms each. Most of
its floors equal the models'; the others are up to 15% lower (a few instances' round-ups
crossing a threshold). With it, the family LPs of the M benchmark rose 3.5%, L's 5.6% and
XL's 15.5%, against 1.4%, 1.2% and 10% from the models alone within the same budgets.

A second floor per service and block weighs the standard instances alone (spot weighing
nothing: ``standard_only``), by the same DP once every service's first is done: with one
row, an LP meets a floor with spot wherever that is cheaper than standard instances (at
the peaks, where standard ones are on-demand), while surviving a zone (spot left out) and
the spot limits still take whole standard instances. The second row raised the family LPs
of the M and L benchmarks by 0.8% and 3.2%, and of the seasonal and retail examples by 2.1%
and 15%, for 0.2-0.4 s.

The models then refine the first: a floor is monotone in the demand (a fleet that covers more
covers less; with capped capacities too), so they are solved on a few levels per service
and each block takes the higher of the DP's floor at its level and the models' floor of
the highest solved level at or below its own (``FloorSearch``): each service's lowest and
highest level first, then, a batch at a time, the middle of the range of levels
whose blocks could gain the most (the floors' difference at its ends times the blocks'
billed hours), until the floors at a range's ends are within ``TOLERANCE`` or the time
budget is spent. The gain is spread over the upper half of the levels (reservations rented
for the month cover the quiet hours whatever the floors say there); on the M benchmark a
second of this order found 62% of what all 429 models give. CP-SAT's proven bound is used
(not its best plan), so a solve cut short still gives a valid floor. Every solve runs on
one worker with a deterministic limit: the same floors on every run.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from capdsl.model.plan import Workload
from capdsl.pricing.catalog import Offering
from capdsl.solve.context import SPOT, SolveContext

# A bisection stops between two computed levels whose floors are within this ratio: the
# levels in between take the lower one (at most this much of a floor is given away).
TOLERANCE = 0.02
# Sizes of an instance family whose least prices per vCPU-hour differ by more than this
# ratio are priced apart (``price_families``).
PRICE_FAMILY_RATIO = 1.02
# Deterministic time (about seconds) for one service's model at one level.
SOLVE_DTIME = 0.2
# CP-SAT's deterministic time per second of one core on these models, and the wall time of
# a solve besides (building, presolve), measured on the benchmarks and examples: 0.16-0.36
# per second (0.2 is used: the estimate errs long on most), 4 ms.
DTIME_PER_SECOND = 0.2
SOLVE_OVERHEAD_S = 0.004
# Capacity scale: the model's required capacity is this many integer units.
CAPACITY_UNITS = 10_000
# Money scale: the cheapest instance weighs this many integer units.
WEIGHT_UNITS = 1_000_000


@dataclass
class Floors:
    """The floors found, per (service, month, block index): money per hour at the weights'
    prices."""

    weights: dict[str, tuple[float, float]]  # price family -> weight per vCPU (standard, spot)
    families: dict[str, str] = field(default_factory=dict)  # offering -> its price family
    value: dict[tuple[str, int, int], float] = field(default_factory=dict)
    # the same for the standard instances alone, spot weighing nothing (``standard_only``)
    standard: dict[tuple[str, int, int], float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Kind:
    """Instances of one offering, standard or spot, for one service: the zones they run in."""

    offering: str
    spot: bool
    capacity: float
    weight: float
    zones: frozenset[str]


def family_weights(
    ctx: SolveContext, families: Mapping[str, str] | None = None
) -> dict[str, tuple[float, float]]:
    """Each price family's cheapest price per vCPU-hour, over all its offerings and zones:
    standard (on-demand, or a reservation's amortised rate) and spot (``families``: the
    plan's, from ``price_families``, when not given)."""
    offerings = offerings_of(ctx)
    family = price_families(ctx) if families is None else families
    standard = reserved_rates(ctx, family)
    spot: dict[str, float] = {}
    for ln in ctx.lanes:
        f, u = family[ln.offering], vcpus_of(offerings, ln.offering)
        if ln.kind == SPOT:
            price = float(offerings[ln.offering].spot_hourly[ln.zone]) / u
            spot[f] = min(spot.get(f, math.inf), price)
        elif ln.price is not None:
            standard[f] = min(standard.get(f, math.inf), float(ln.price) / u)
    out = {}
    for f in set(standard) | set(spot):
        s = standard.get(f, math.inf)
        out[f] = (s if s < math.inf else 0.0, spot.get(f, math.inf) if f in spot else 0.0)
    return out


def standard_only(weights: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """The weights with spot weighing nothing: their floor is the least the *standard*
    instances of a whole fleet weigh. A second row per service and block: the first lets
    the LPs meet the floor with cheap spot, where surviving a zone (spot left out) and the
    spot limits still take whole standard instances (the family LPs of the M and L
    benchmarks +0.8% and +3.2%, of the seasonal example +2.1%, of the retail example 15%)."""
    return {f: (standard, 0.0) for f, (standard, _spot) in weights.items()}


def offerings_of(ctx: SolveContext) -> dict[str, Offering]:
    """The plan's catalog offerings by id."""
    return {o.id: o.offering for o in ctx.plan.offerings}


def reserved_rates(ctx: SolveContext, families: Mapping[str, str]) -> dict[str, float]:
    """Each price family's least amortised price per vCPU-hour of a reservation, over every
    reserved option of its offerings."""
    offerings = offerings_of(ctx)
    hpm = ctx.hours_per_month
    rates: dict[str, float] = {}
    for t, pool in ctx.pools.items():
        f, u = families[t], vcpus_of(offerings, t)
        for c in pool.choices:
            rates[f] = min(rates.get(f, math.inf), float(c.effective_hourly(hpm)) / u)
    return rates


def price_families(ctx: SolveContext) -> dict[str, str]:
    """Each offering's *price family*, what the bounds price per vCPU-hour: its instance
    family (its own id if the catalog gives none), split where its sizes' least standard
    prices per vCPU-hour (on-demand, or a reservation's amortised rate) differ by more than
    ``PRICE_FAMILY_RATIO``. Most families are priced by the vCPU; some are not: every
    hpc7g size costs $1.68 an hour, so its 4xlarge costs 4 times its 16xlarge per vCPU,
    and priced at the 16xlarge's rate a fleet of 4xlarges looked cheap to the floors (an XL
    benchmark service whose every month costs $966.31 was floored at $603.73). Any grouping
    of offerings is a valid relaxation, one finer is a tighter one."""
    offerings = offerings_of(ctx)
    hpm = ctx.hours_per_month
    least: dict[str, float] = {}
    for t, pool in ctx.pools.items():
        for c in pool.choices:
            least[t] = min(least.get(t, math.inf), float(c.effective_hourly(hpm)))
    for ln in ctx.lanes:
        if ln.kind != SPOT and ln.price is not None:
            least[ln.offering] = min(least.get(ln.offering, math.inf), float(ln.price))
    members: dict[str, list[tuple[float, str]]] = {}
    for t, o in offerings.items():
        rate = least.get(t, math.inf) / vcpus_of(offerings, t)
        members.setdefault(o.family or t, []).append((rate, t))
    out: dict[str, str] = {}
    for family, ranked in members.items():
        ranked.sort()
        base, k = ranked[0][0], 0
        for rate, t in ranked:
            if rate > base * PRICE_FAMILY_RATIO:
                base, k = rate, k + 1
            out[t] = family if k == 0 else f"{family}#{k + 1}"
    return out


def vcpus_of(offerings: Mapping[str, Offering], offering: str) -> float:
    """An offering's vCPUs (1 if the catalog gives none)."""
    o = offerings[offering]
    return float(o.vcpu) if o.vcpu > 0 else 1.0


class FloorSearch:
    """The floors of every service (not batch work), found a batch of models at a time on
    ``threads`` threads: each service's lowest and highest level first, then the levels
    between whose floors could rise the most (their difference times the billed hours of
    the blocks between). ``run`` goes on where the last call stopped."""

    def __init__(
        self, ctx: SolveContext, *, threads: int = 2, stop: threading.Event | None = None
    ) -> None:
        self.ctx = ctx
        self.threads = max(1, threads)
        self.stop = stop
        self.families = price_families(ctx)
        self.weights = family_weights(ctx, self.families)
        # service -> (workload, its instances, its block levels ascending, the billed hours
        # of its blocks at or below each level)
        self.services: dict[str, tuple[Workload, list[_Kind], list[float], list[float]]] = {}
        for w in ctx.plan.workloads:
            if w.kind == "batch":
                continue
            hours: dict[float, float] = {}
            for blocks in ctx.blocks:
                for blk in blocks:
                    level = blk.level.get(w.name, 0.0)
                    if level > 0:
                        hours[level] = hours.get(level, 0.0) + float(blk.billed)
            kinds = _kinds(ctx, w, self.weights, self.families)
            if kinds and hours:
                levels = sorted(hours)
                below = list(itertools.accumulate(hours[lv] for lv in levels))
                self.services[w.name] = (w, kinds, levels, below)
        self.found: dict[str, dict[int, float]] = {name: {} for name in self.services}
        # the fleet DP's floors at every level of a service (``_dp_floors``), the services
        # still to do first; then the same for their standard instances alone
        self.dp: dict[str, list[float]] = {}
        self.dp_todo = list(self.services)
        self.dp_standard: dict[str, list[float]] = {}
        self.standard_todo = list(self.services)
        standard = standard_only(self.weights)
        self.standard_kinds = {
            name: _kinds(ctx, w, standard, self.families)
            for name, (w, *_rest) in self.services.items()
        }
        self.ends = [
            (name, i)
            for name, (_, _, levels, _) in self.services.items()
            for i in sorted({0, len(levels) - 1})
        ]
        # (-gain, service, lo, hi): level indices whose floors are known at both ends
        self.ranges: list[tuple[float, str, int, int]] = []
        self.solves = 0
        self.work = 0.0  # estimated wall seconds of the solves so far (deterministic)

    @property
    def done(self) -> bool:
        """Every service's DP is done, and every range's floors are within ``TOLERANCE`` (or
        its levels all solved)."""
        return not self.dp_todo and not self.standard_todo and not self.ends and not self.ranges

    @property
    def levels(self) -> int:
        """The service demand levels with a floor so far (by the DP or a CP-SAT model)."""
        return sum(len(self.services[name][2]) for name in self.dp) + sum(
            len(found) for name, found in self.found.items() if name not in self.dp
        )

    def run(self, budget: float) -> None:
        """Solve batches while their estimated wall time in this call (from CP-SAT's
        deterministic time: the same on every run) is under ``budget`` seconds."""
        start = self.work
        # the DP first: every level of a service in about the time of a few models
        while self.dp_todo and self.work - start < budget:
            if self.stop is not None and self.stop.is_set():
                return
            name = self.dp_todo.pop(0)
            w, kinds, levels, _ = self.services[name]
            self.dp[name], steps = _dp_floors(w, kinds, levels)
            self.work += steps * DP_SECONDS_PER_STEP
        # then the standard instances' floors (after every service's first: on the XL
        # benchmark the DPs take most of the floors' time)
        while not self.dp_todo and self.standard_todo and self.work - start < budget:
            if self.stop is not None and self.stop.is_set():
                return
            name = self.standard_todo.pop(0)
            w, _, levels, _ = self.services[name]
            self.dp_standard[name], steps = _dp_floors(w, self.standard_kinds[name], levels)
            self.work += steps * DP_SECONDS_PER_STEP
        if self.dp_todo or self.standard_todo:
            return
        batch = self.threads * 4
        with ThreadPoolExecutor(self.threads, thread_name_prefix="capdsl-floor") as pool:
            while not self.done and self.work - start < budget:
                if self.stop is not None and self.stop.is_set():
                    return
                spans: list[tuple[str, int, int, int]] = []
                if self.ends:
                    todo, self.ends = self.ends[:batch], self.ends[batch:]
                else:
                    while self.ranges and len(spans) < batch:
                        _, name, lo, hi = heapq.heappop(self.ranges)
                        spans.append((name, (lo + hi) // 2, lo, hi))
                    todo = [(name, mid) for name, mid, _, _ in spans]
                for (name, i), (value, dtime) in zip(
                    todo, pool.map(self._solve, todo), strict=True
                ):
                    self.found[name][i] = value
                    self.work += (dtime / DTIME_PER_SECOND + SOLVE_OVERHEAD_S) / self.threads
                self.solves += len(todo)
                for name, i in [] if spans else todo:
                    last = len(self.services[name][2]) - 1
                    if i == last and last > 0:  # both ends known (the lowest comes first)
                        self._push(name, 0, last)
                for name, mid, lo, hi in spans:
                    self._push(name, lo, mid)
                    self._push(name, mid, hi)

    def _solve(self, task: tuple[str, int]) -> tuple[float, float]:
        w, kinds, levels, _ = self.services[task[0]]
        return _floor(w, kinds, levels[task[1]])

    def _push(self, name: str, lo: int, hi: int) -> None:
        values = self.found[name]
        if hi - lo < 2 or values[hi] <= values[lo] * (1 + TOLERANCE):
            return
        below = self.services[name][3]
        gain = (values[hi] - values[lo]) * (below[hi - 1] - below[lo])
        heapq.heappush(self.ranges, (-gain, name, lo, hi))

    def floors(self) -> Floors:
        """Each block's floor: the higher of the DP's at its level and that of the highest
        level a CP-SAT model solved at or below its own."""
        out = Floors(self.weights, self.families)
        for name, values in self.found.items():
            levels = self.services[name][2]
            known = sorted((levels[i], v) for i, v in values.items())
            dp = self.dp.get(name)
            standard = self.dp_standard.get(name)
            for m, blocks in enumerate(self.ctx.blocks):
                for blk in blocks:
                    level = blk.level.get(name, 0.0)
                    if level <= 0:
                        continue
                    at = bisect.bisect_right(known, (level, math.inf)) - 1
                    value = known[at][1] if at >= 0 else 0.0
                    i = bisect.bisect_left(levels, level)
                    if dp is not None:
                        value = max(value, dp[i])
                    if value > 0:
                        out.value[(name, m, blk.index)] = value
                    if standard is not None and standard[i] > 0:
                        out.standard[(name, m, blk.index)] = standard[i]
        return out


def _kinds(
    ctx: SolveContext,
    w: Workload,
    weights: Mapping[str, tuple[float, float]],
    families: Mapping[str, str] | None = None,
    prune: bool = True,
) -> list[_Kind]:
    """The service's instances by offering and kind, without those another beats outright
    (at least the capacity, at most the weight, in every zone it runs in): a fleet using a
    beaten one is matched, rule for rule, by one using the other instead (``prune=False``:
    all of them)."""
    offerings = offerings_of(ctx)
    family = price_families(ctx) if families is None else families
    zones: dict[tuple[str, bool], set[str]] = {}
    for ln in ctx.lanes_of(w.name):
        if ctx.cap.get((w.name, ln.offering), 0.0) > 0:
            zones.setdefault((ln.offering, ln.kind == SPOT), set()).add(ln.zone)
    kinds = []
    for (t, spot), zs in zones.items():
        std, spt = weights.get(family[t], (0.0, 0.0))
        kinds.append(
            _Kind(
                t,
                spot,
                ctx.cap[(w.name, t)],
                (spt if spot else std) * vcpus_of(offerings, t),
                frozenset(zs),
            )
        )

    def beats(a: _Kind, b: _Kind) -> bool:
        # standard counts wherever spot does (and in zone loss too); spot never beats it
        return (
            (a.spot <= b.spot)
            and a.capacity >= b.capacity
            and a.weight <= b.weight
            and a.zones >= b.zones
            and (a.capacity, -a.weight, len(a.zones), not a.spot, a.offering)
            > (b.capacity, -b.weight, len(b.zones), not b.spot, b.offering)
        )

    if not prune:
        return kinds
    return [k for k in kinds if not any(beats(o, k) for o in kinds if o is not k)]


def _floor(w: Workload, kinds: list[_Kind], level: float) -> tuple[float, float]:
    """CP-SAT's proven lower bound on the least weight of a whole fleet of ``kinds`` that
    meets the service's covering rules at demand ``level`` (weight units per hour), and the
    deterministic time it took."""
    required = level * w.required_factor
    scale = CAPACITY_UNITS / required

    def counted(k: _Kind, row: float) -> int:  # rounded up: a relaxation
        return math.ceil(min(k.capacity, row) * scale - 1e-9)

    def demand(row: float) -> int:  # rounded down: a relaxation
        return math.floor(row * scale + 1e-9)

    zones = sorted({z for k in kinds for z in k.zones})
    m = cp_model.CpModel()
    xs: list[tuple[_Kind, str, cp_model.IntVar]] = []
    for k in kinds:
        ub = math.ceil(required / k.capacity) + w.redundancy + 1
        # spot counts the same in every zone (its limits are left out): one count
        for z in sorted(k.zones)[:1] if k.spot else sorted(k.zones):
            xs.append((k, z, m.new_int_var(0, ub, "")))
    m.add(sum(counted(k, required) * x for k, _, x in xs) >= demand(required))
    survive = w.survive_zones > 0 and len(zones) > 1
    if w.redundancy > 0:
        _spare(m, w.redundancy, [(counted(k, level), x) for k, _, x in xs], demand(level))
    if survive:
        per_zone = {
            zone: sum(counted(k, level) * x for k, z, x in xs if not k.spot and z == zone)
            for zone in zones
        }
        # zones that can run the same instances are interchangeable: number each such class
        # by capacity, largest first; losing its first is then the worst loss in the class
        classes: dict[frozenset[_Kind], list[str]] = {}
        for zone in zones:
            key = frozenset(k for k in kinds if not k.spot and zone in k.zones)
            classes.setdefault(key, []).append(zone)
        for members in classes.values():
            for a, b in itertools.pairwise(members):
                m.add(per_zone[a] >= per_zone[b])
            lost = members[0]
            m.add(sum(c for zone, c in per_zone.items() if zone != lost) >= demand(level))
    cheapest = min((k.weight for k in kinds if k.weight > 0), default=0.0)
    if cheapest <= 0:
        return 0.0, 0.0
    money = WEIGHT_UNITS / cheapest
    m.minimize(sum(math.floor(k.weight * money) * x for k, _, x in xs))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = SOLVE_DTIME
    status = solver.solve(m)
    dtime = solver.response_proto.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        return 0.0, dtime  # infeasible: the plan has no solution, which the search reports
    return max(0.0, solver.best_objective_bound) / money, dtime


# The fleet DP (``_dp_floors``): each group of a service's levels (required capacities within
# a factor DP_GROUP of the group's largest) is solved on a grid of DP_UNITS capacity units;
# with 512 units most floors on the benchmarks and examples equal CP-SAT's and the others
# are up to 15% lower (8192 matched one where 512 fell 5% short: several instances'
# round-ups crossing a threshold), in 0.1-0.4 s for a service's 300 levels
DP_UNITS = 512
DP_GROUP = 2.0
# Instances of fewer grid units than this count as units of capacity at their least rate
# (``_small``)
DP_SMALL = 8
# Estimated wall seconds per step of the DP (a Python-level loop iteration over the grid, or
# DP_ELEMENTS_PER_STEP array elements), measured on the benchmarks: the DP's work counts in
# the search's budget as an estimate, so that the floors are the same on every run
DP_SECONDS_PER_STEP = 8e-6
DP_ELEMENTS_PER_STEP = 2_000

_Array = npt.NDArray[np.float64]


def _dp_floors(
    w: Workload, kinds: list[_Kind], levels: list[float], small: int = DP_SMALL
) -> tuple[list[float], int]:
    """Floors at every one of ``levels`` (ascending) at once, by dynamic programming over
    capacity, and the steps it took (``DP_SECONDS_PER_STEP``): each at most the least weight
    of a whole fleet that meets the service's rules at that level, as ``_floor``'s.

    The same rules as ``_floor``, relaxed the same way, and further: capacities are rounded
    up to the group's grid (and the required capacity down), every standard instance counts
    as able to run in every zone any standard instance runs in, and N+1 is left to the zone
    rule where there is one (it implies N+1: losing the zone of the largest instance loses
    at least that instance). What remains is solved exactly:

    - surviving a zone: with the zones numbered by capacity, the largest holds ``a`` and
      the ``Z - 1`` others, each at most ``a``, at least the demand; all of them and spot
      at least the required capacity. ``zone[s]`` is the least weight of one zone holding
      exactly ``s`` (``_exact``), ``others[a, t]`` that of ``Z - 1`` zones of at most ``a``
      each holding at least ``t`` together (``_others``), and the floor the least
      ``zone[a] + others[a, max(demand, required - spot - a)] + spot_cover[spot]``;
    - otherwise one pool of instances: with N+1, for each size ``theta`` of the largest
      instance, the least weight of instances no larger holding ``demand + theta`` and the
      required capacity (``_cover``); with N+k (k >= 2), ``demand + k`` of the smallest.

    Every capacity counted for at most the group's largest required capacity (the rules
    count each for at most their own demand, which is no more): a relaxation each, so the
    result is a valid floor; the zones' and the spot's capacity saturate at the grid's top,
    where every rule is met."""
    floors = [0.0] * len(levels)
    steps = 0
    hi = len(levels)
    while hi > 0:
        top = levels[hi - 1] * w.required_factor
        lo = hi - 1
        while lo > 0 and levels[lo - 1] * w.required_factor * DP_GROUP > top:
            lo -= 1
        # instances of a few grid units as they are (rounded up), and as units of capacity
        # (``_small``): each is a valid floor, and either can be the higher one
        values, n = _dp_group(w, kinds, levels[lo:hi], top, 1)
        if any(k.capacity * DP_UNITS < top * small for k in kinds):
            other, more = _dp_group(w, kinds, levels[lo:hi], top, small)
            values = [max(x, y) for x, y in zip(values, other, strict=True)]
            n += more
        floors[lo:hi] = values
        steps += n
        hi = lo
    return floors, steps


def _dp_group(
    w: Workload, kinds: list[_Kind], levels: list[float], top: float, small: int
) -> tuple[list[float], int]:
    """``_dp_floors`` for levels whose required capacity is at most ``top``, instances of
    fewer than ``small`` grid units counted as units of capacity (``_small``)."""
    size = DP_UNITS
    unit = top / size

    def units(capacity: float) -> int:  # rounded up (a relaxation), at most the grid's top
        return min(size, max(1, math.ceil(min(capacity, top) / unit - 1e-9)))

    def down(amount: float) -> int:  # rounded down (a relaxation)
        return max(0, math.floor(amount / unit + 1e-9))

    def spare(level: float) -> int:  # N+k, k >= 2: demand plus k of the smallest instance
        smallest = min(min(kind.capacity, level) for kind in kinds)
        return down(level + w.redundancy * smallest) if w.redundancy >= 2 else 0

    def pool(group: list[_Kind]) -> tuple[list[int], list[float], float]:
        # instances of at least ``small`` units, and the least weight per unit of the others
        big = [(units(k.capacity), k.weight) for k in group if units(k.capacity) >= small]
        rates = [k.weight / min(k.capacity, top) for k in group if units(k.capacity) < small]
        rate = min(rates, default=math.inf) * unit
        return [c for c, _ in big], [x for _, x in big], rate

    out: list[float] = []
    standard = [k for k in kinds if not k.spot]
    spot = [k for k in kinds if k.spot]
    if w.survive_zones > 0 and len({z for k in kinds for z in k.zones}) > 1:
        zones = len({z for k in standard for z in k.zones})
        zone = _exact(*pool(standard), size)
        spot_cover = _cover(*pool(spot), size)
        others = _others(zone, max(0, zones - 1))
        steps = 2 * size + (size + 1) * max(0, zones - 1)
        a = np.arange(size + 1)
        for level in levels:
            demand = down(level)
            required = min(size, max(down(level * w.required_factor), spare(level)))
            # without spot (or with enough standard capacity in the largest zone)
            need = np.clip(np.maximum(demand, required - a), 0, size)
            best = float(np.min(zone + others[a, need]))
            gap = required - demand  # what spot can supply at most (zones need the demand)
            if spot and gap > 0:
                # the largest zone under ``gap`` and spot of 1 .. gap units
                aa = a[:gap, None]
                pp = np.arange(1, gap + 1)[None, :]
                need2 = np.clip(np.maximum(demand, required - pp - aa), 0, size)
                mixed = zone[:gap, None] + others[aa, need2] + spot_cover[pp]
                best = min(best, float(np.min(mixed)))
                steps += mixed.size // DP_ELEMENTS_PER_STEP
            out.append(best)
            steps += 1 + size // DP_ELEMENTS_PER_STEP
    else:
        # one pool; each instance counted for at most ``top`` (so the largest is at most the
        # grid's top, and demand plus it at most twice that)
        if w.redundancy == 1:
            # the largest instance's size: every instance no larger may be used
            sizes = sorted({units(k.capacity) for k in kinds})
            covers = [
                (theta, _cover(*pool([k for k in kinds if units(k.capacity) <= theta]), 2 * size))
                for theta in sizes
            ]
            steps = 2 * size * len(sizes)
        else:
            covers = [(0, _cover(*pool(kinds), 2 * size))]
            steps = 2 * size
        for level in levels:
            demand = down(level)
            required = max(down(level * w.required_factor), spare(level))
            if w.redundancy == 1:
                best = min(
                    float(c[min(2 * size, max(required, demand + theta))]) for theta, c in covers
                )
            else:
                best = float(covers[0][1][min(2 * size, required)])
            out.append(best)
            steps += 1
    # unreachable: no fleet meets the rules (the plan's search reports it), so no floor
    return [v * (1 - 1e-9) if v < math.inf else 0.0 for v in out], steps


def _cover(caps: list[int], weights: list[float], rate: float, size: int) -> _Array:
    """``c[s]``, s in 0..size: the least weight of instances (any number of each kind) whose
    capacities add up to at least ``s``; with ``rate`` finite, small instances too, as any
    number of units at ``rate`` each, one of them free (``_small``)."""
    c = np.full(size + 1, math.inf)
    c[0] = 0.0
    cap, weight = _small(caps, weights, rate)
    if not len(cap):
        return c
    for s in range(1, size + 1):
        c[s] = np.min(c[np.maximum(s - cap, 0)] + weight)
    if rate < math.inf:
        c[1:] = c[:-1].copy()
    return c


def _exact(caps: list[int], weights: list[float], rate: float, size: int) -> _Array:
    """``e[s]``: the least weight of instances whose capacities add up to exactly ``s``
    (s < size) or to at least ``size`` (s = size); infinite where none do. Small instances
    as in ``_cover``."""
    e = np.full(size + 1, math.inf)
    e[0] = 0.0
    cap, weight = _small(caps, weights, rate)
    if not len(cap):
        return e
    for s in range(1, size):
        back = s - cap
        ok = back >= 0
        if ok.any():
            e[s] = np.min(e[back[ok]] + weight[ok])
    # at least ``size``: the last instance added crosses it
    e[size] = min(
        float(np.min(e[max(0, size - c) : size])) + x
        for c, x in zip(cap.tolist(), weight.tolist(), strict=True)
    )
    if rate < math.inf:
        # one unit free, or not (a sum of exactly s without the small ones stays possible)
        e[1:] = np.minimum(e[1:], e[:-1])
    return e


def _small(
    caps: list[int], weights: list[float], rate: float
) -> tuple[npt.NDArray[np.int64], _Array]:
    """The instances as arrays, with a one-unit instance at ``rate`` when it is finite.

    Instances of a few units are rounded up by most of their size, which would leave a
    fleet of them far above its real capacity; they are replaced by units of capacity at the
    least rate of any of them, one unit free. A fleet holding ``C`` of them holds
    ``ceil(C / unit)`` units, and the paid ones (one fewer) weigh at most ``C`` times that
    rate, so at most what the instances weigh: still a relaxation."""
    if rate < math.inf:
        caps, weights = [*caps, 1], [*weights, rate]
    return np.array(caps, dtype=np.int64), np.array(weights, dtype=float)


def _others(zone: _Array, count: int) -> _Array:
    """``q[a, t]``: the least weight of ``count`` zones, each holding at most ``a`` (one
    zone's weights: ``zone``, as from ``_exact``), that hold at least ``t`` together.

    Built as ``a`` grows: the least weight of ``i`` zones of at most ``a`` holding exactly
    ``s`` is that of at most ``a - 1``, or of one zone holding ``a`` and ``i - 1`` zones of
    at most ``a`` holding ``s - a`` (sums saturate at the top)."""
    size = len(zone) - 1
    layers = [np.full(size + 1, math.inf) for _ in range(count + 1)]
    layers[0][0] = 0.0
    exact = np.empty((size + 1, size + 1))
    for a in range(size + 1):
        if zone[a] < math.inf:
            for i in range(1, count + 1):
                prev = layers[i - 1]
                add = np.full(size + 1, math.inf)
                add[a:size] = prev[: size - a] + zone[a]
                add[size] = np.min(prev[size - a :]) + zone[a]
                np.minimum(layers[i], add, out=layers[i])
        exact[a] = layers[count]
    # at least ``t``: the least over every sum from ``t`` up
    return np.minimum.accumulate(exact[:, ::-1], axis=1)[:, ::-1]


def _spare(
    m: cp_model.CpModel,
    k: int,
    terms: list[tuple[int, cp_model.IntVar]],
    need: int,
) -> None:
    """N+k: capacity less its largest instance covers ``need`` (exact for k = 1; for k >= 2,
    relaxed to k of the smallest)."""
    sizes = sorted({c for c, _ in terms})
    total = sum(c * x for c, x in terms)
    if k > 1 or len(sizes) == 1:
        m.add(total >= need + k * sizes[0])
        return
    theta = m.new_int_var(sizes[0], sizes[-1], "")
    for c, x in terms:
        if c > sizes[0]:
            used = m.new_bool_var("")
            m.add(x == 0).only_enforce_if(used.Not())
            m.add(theta >= c).only_enforce_if(used)
    m.add(total - theta >= need)
