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
the weights are each family's cheapest price per vCPU-hour (on-demand, a reservation's
amortised rate; spot apart), so the row bounds what the fleet costs. Computed at every
level, the floors raised the family LP of the benchmarks' first month by 4% (M), 7% (L)
and 19% (XL), and the retail example's monthly LPs by 7%.

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

The floor is monotone in the demand (a fleet that covers more covers less; with capped
capacities too), so it is computed on a few levels per service and each block takes the
floor of the highest computed level at or below its own (``FloorSearch``): each service's
lowest and highest level first, then, a batch at a time, the middle of the range of levels
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

from ortools.sat.python import cp_model

from capdsl.model.plan import Workload
from capdsl.pricing.catalog import Offering
from capdsl.solve.context import SPOT, SolveContext

# A bisection stops between two computed levels whose floors are within this ratio: the
# levels in between take the lower one (at most this much of a floor is given away).
TOLERANCE = 0.02
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

    weights: dict[str, tuple[float, float]]  # family -> weight per vCPU (standard, spot)
    value: dict[tuple[str, int, int], float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Kind:
    """Instances of one offering, standard or spot, for one service: the zones they run in."""

    offering: str
    spot: bool
    capacity: float
    weight: float
    zones: frozenset[str]


def family_weights(ctx: SolveContext) -> dict[str, tuple[float, float]]:
    """Each instance family's cheapest price per vCPU-hour, over all its offerings and zones:
    standard (on-demand, or a reservation's amortised rate) and spot."""
    offerings = offerings_of(ctx)
    standard = reserved_rates(ctx, offerings)
    spot: dict[str, float] = {}
    for ln in ctx.lanes:
        f, u = family_of(offerings, ln.offering), vcpus_of(offerings, ln.offering)
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


def offerings_of(ctx: SolveContext) -> dict[str, Offering]:
    """The plan's catalog offerings by id."""
    return {o.id: o.offering for o in ctx.plan.offerings}


def reserved_rates(ctx: SolveContext, offerings: Mapping[str, Offering]) -> dict[str, float]:
    """Each instance family's least amortised price per vCPU-hour of a reservation, over
    every reserved option of its offerings."""
    hpm = ctx.hours_per_month
    rates: dict[str, float] = {}
    for t, pool in ctx.pools.items():
        f, u = family_of(offerings, t), vcpus_of(offerings, t)
        for c in pool.choices:
            rates[f] = min(rates.get(f, math.inf), float(c.effective_hourly(hpm)) / u)
    return rates


def family_of(offerings: Mapping[str, Offering], offering: str) -> str:
    """An offering's instance family (its own id if the catalog gives none)."""
    return offerings[offering].family or offering


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
        self.weights = family_weights(ctx)
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
            kinds = _kinds(ctx, w, self.weights)
            if kinds and hours:
                levels = sorted(hours)
                below = list(itertools.accumulate(hours[lv] for lv in levels))
                self.services[w.name] = (w, kinds, levels, below)
        self.found: dict[str, dict[int, float]] = {name: {} for name in self.services}
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
        """Every range's floors are within ``TOLERANCE`` (or its levels all solved)."""
        return not self.ends and not self.ranges

    def run(self, budget: float) -> None:
        """Solve batches while their estimated wall time in this call (from CP-SAT's
        deterministic time: the same on every run) is under ``budget`` seconds."""
        start = self.work
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
        """Each block's floor: that of the highest level solved at or below its own."""
        out = Floors(self.weights)
        for name, values in self.found.items():
            levels = self.services[name][2]
            known = sorted((levels[i], v) for i, v in values.items())
            for m, blocks in enumerate(self.ctx.blocks):
                for blk in blocks:
                    at = bisect.bisect_right(known, (blk.level.get(name, 0.0), math.inf)) - 1
                    if at >= 0 and known[at][1] > 0:
                        out.value[(name, m, blk.index)] = known[at][1]
        return out


def _kinds(
    ctx: SolveContext, w: Workload, weights: Mapping[str, tuple[float, float]], prune: bool = True
) -> list[_Kind]:
    """The service's instances by offering and kind, without those another beats outright
    (at least the capacity, at most the weight, in every zone it runs in): a fleet using a
    beaten one is matched, rule for rule, by one using the other instead (``prune=False``:
    all of them)."""
    offerings = offerings_of(ctx)
    zones: dict[tuple[str, bool], set[str]] = {}
    for ln in ctx.lanes_of(w.name):
        if ctx.cap.get((w.name, ln.offering), 0.0) > 0:
            zones.setdefault((ln.offering, ln.kind == SPOT), set()).add(ln.zone)
    kinds = []
    for (t, spot), zs in zones.items():
        std, spt = weights.get(family_of(offerings, t), (0.0, 0.0))
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
