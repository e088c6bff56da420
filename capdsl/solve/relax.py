"""Linear-programming relaxation of a formulation, for lower bounds (OR-Tools GLOP).

The CP-SAT model is read back from its proto: integer variables become continuous within
their domains, a constraint enforced by literals becomes a Big-M row (M from the variables'
bounds, exact for the relaxation), exactly-one stays an equality. Rows are scaled by their
largest coefficient, the objective likewise, for the simplex's numerics. The LP optimum is
a lower bound of the integer optimum; it is reported 1e-6 lower to absorb the simplex's
tolerances.

The LP is written straight into an ``MPModelProto`` (a row's indices and coefficients
appended as lists) and solved as a serialized request: building it through pywraplp's
expression API cost four times the simplex itself on the example plans.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import ortools.linear_solver.linear_solver_pb2 as mp
from google.protobuf.message import DecodeError
from ortools.linear_solver.python.model_builder_helper import ModelSolverHelper
from ortools.sat import cp_model_pb2

from capdsl.model.plan import Workload
from capdsl.solve.context import SPOT, Block, SolveContext
from capdsl.solve.floors import Floors, offerings_of, price_families, reserved_rates, vcpus_of
from capdsl.solve.formulate import Formulation
from capdsl.solve.money import existing_fleet_cost

_INF = 2**62
# GLOP's simplex methods, tried in turn until one proves an LP's optimum (``lp_bound``):
# "floors" for the monthly LPs with the integer floors' rows, "plain" for the others (the
# family LPs with floors too: the dual took 1.8 s on the XL benchmark with daily shapes,
# the primal 2.9 s)
_DUAL = "use_dual_simplex: true"
_PERTURBED_DUAL = "use_dual_simplex: true perturb_costs_in_dual_simplex: true"
_PRIMAL = "use_dual_simplex: false"
SIMPLEX = {"plain": (_DUAL, _PRIMAL), "floors": (_PRIMAL, _PERTURBED_DUAL)}


def lp_bound(form: Formulation, *, time_limit: float, floors: Floors | None = None) -> float | None:
    """The LP relaxation's optimum in money (fleet constant included), or None if GLOP did
    not prove it within ``time_limit``; with ``floors``, each service's instances in each
    block weigh at least its integer floor (``floors.py``).

    GLOP's simplex methods are tried in turn (``SIMPLEX``), each for what is left of the
    time limit, until one proves the optimum: the dual simplex was 1.8x faster than the
    primal on the plain monthly LPs, but the floor rows slow it 2.5x (the M benchmark with
    daily shapes: 5.0 s against 2.0 s for its 12 months), where the primal runs as fast
    with them as without (2.1 s); and on one month of the XL benchmark the dual did not
    end in 60 s, where the primal took 0.04 s. The primal in turn stops, in 0.1 s, on one
    month of the M benchmark (numerical trouble); then the dual, its costs perturbed (it
    ended every month of the benchmarks with floors), proves it."""
    relaxed = relaxation(form)
    if relaxed is None:
        return None
    request, scale = relaxed
    if floors is not None:
        _floor_rows(request.model, form, floors)
    response = _solve(request, time_limit, SIMPLEX["floors" if floors is not None else "plain"])
    if response is None:
        return None
    value = response.objective_value * scale
    return form.to_money(value * (1 - 1e-6) if value > 0 else value)


def _solve(
    request: mp.MPModelRequest, time_limit: float, methods: tuple[str, ...]
) -> mp.MPSolutionResponse | None:
    """GLOP's answer to ``request``, its simplex ``methods`` tried in turn, each for what is
    left of ``time_limit``, until one proves the optimum; None if none does."""
    deadline = time.perf_counter() + max(0.001, time_limit)
    for method in methods:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        request.solver_specific_parameters = method
        request.solver_time_limit_seconds = left
        # through model_builder's helper, which releases the GIL while GLOP runs
        # (pywraplp's SolveWithProto holds it): the monthly LPs of a plan then solve on
        # several threads at once, and the Python that builds the next month's model runs
        # beside them
        raw = ModelSolverHelper("glop").solve_serialized_request(request.SerializeToString())
        response = mp.MPSolutionResponse.FromString(raw)
        if response.status == mp.MPSOLVER_OPTIMAL:
            return response
    return None


def relaxation(form: Formulation) -> tuple[mp.MPModelRequest, float] | None:
    """The LP relaxation of ``form`` as a GLOP request and the factor its objective was
    divided by; None if the model has a constraint this relaxation does not understand (or
    cannot be read)."""
    proto = _plain_proto(form)
    if proto is None:
        return None
    request = mp.MPModelRequest(solver_type=mp.MPModelRequest.GLOP_LINEAR_PROGRAMMING)
    lp = request.model
    los: list[int] = []
    his: list[int] = []
    for v in proto.variables:
        d = v.domain
        los.append(d[0])
        his.append(d[-1])
        lp.variable.add(lower_bound=float(d[0]), upper_bound=float(d[-1]))
    inf = float("inf")

    def row(idx: list[int], coef: list[float], lb: float, ub: float) -> None:
        c = lp.constraint.add(lower_bound=lb, upper_bound=ub)
        c.var_index.extend(idx)
        c.coefficient.extend(coef)

    for c in proto.constraints:
        kind = c.WhichOneof("constraint")
        if kind == "exactly_one":
            # sum of literals == 1, a negated literal x being (1 - x)
            one: dict[int, float] = {}
            negated = 0
            for i in c.exactly_one.literals:
                if i >= 0:
                    one[i] = one.get(i, 0.0) + 1.0
                else:
                    one[-i - 1] = one.get(-i - 1, 0.0) - 1.0
                    negated += 1
            row(list(one), list(one.values()), 1.0 - negated, 1.0 - negated)
            continue
        if kind != "linear":
            return None  # not a model this relaxation understands
        lin = c.linear
        vars_ = list(lin.vars)
        coeffs = list(lin.coeffs)
        dom = lin.domain
        lo, hi = dom[0], dom[-1]
        # the expression's range over the variables' bounds
        low = sum([k * (los[v] if k > 0 else his[v]) for v, k in zip(vars_, coeffs, strict=True)])
        high = sum([k * (his[v] if k > 0 else los[v]) for v, k in zip(vars_, coeffs, strict=True)])
        needs_lo = lo > -_INF and lo > low
        needs_hi = hi < _INF and hi < high
        if not (needs_lo or needs_hi):
            continue
        scale = float(max(max(coeffs, default=1), -min(coeffs, default=1), 1))
        if len(set(vars_)) != len(vars_):  # a variable twice: merge its terms
            merged: dict[int, int] = {}
            for v, k in zip(vars_, coeffs, strict=True):
                merged[v] = merged.get(v, 0) + k
            vars_, coeffs = list(merged), list(merged.values())
        expr = [k / scale for k in coeffs]
        if not c.enforcement_literal:
            row(vars_, expr, lo / scale if needs_lo else -inf, hi / scale if needs_hi else inf)
            continue
        # enforced by literals: relaxed with the slack s = sum(1 - l) (0 when all hold),
        # times the Big-M that makes the row void when one literal is off:
        #   lo side: expr + M_lo * s >= lo;   hi side: expr - M_hi * s <= hi
        lits = list(c.enforcement_literal)
        for needed, big, bound, sign in (
            (needs_lo, (lo - low) / scale, lo / scale, 1.0),
            (needs_hi, (high - hi) / scale, hi / scale, -1.0),
        ):
            if not needed:
                continue
            coef = dict(zip(vars_, expr, strict=True))
            rhs = bound
            for idx in lits:
                # a positive literal x adds M * (1 - x); a negated one (x = -idx - 1) adds M * x
                x = idx if idx >= 0 else -idx - 1
                step = sign * big * (-1.0 if idx >= 0 else 1.0)
                coef[x] = coef.get(x, 0.0) + step
                if idx >= 0:
                    rhs -= sign * big
            if sign > 0:
                row(list(coef), list(coef.values()), rhs, inf)
            else:
                row(list(coef), list(coef.values()), -inf, rhs)
    obj = proto.objective
    coeffs = list(obj.coeffs)
    scale = float(max([abs(x) for x in coeffs] + [1]))
    for v, k in zip(list(obj.vars), coeffs, strict=True):
        lp.variable[v].objective_coefficient += k / scale
    return request, scale


def _floor_rows(lp: mp.MPModelProto, form: Formulation, floors: Floors) -> None:
    """Two rows per service and block with floors: its instances' weighted vCPUs reach the
    floor, and its standard instances' reach the standard floor."""
    offerings = offerings_of(form.ctx)
    family = floors.families or price_families(form.ctx)
    terms: dict[tuple[str, int, int], list[tuple[int, float]]] = {}
    standard_terms: dict[tuple[str, int, int], list[tuple[int, float]]] = {}
    for (w, t, _zone, kind, m, b), v in form.use.items():
        standard, spot = floors.weights.get(family[t], (0.0, 0.0))
        weight = (spot if kind == SPOT else standard) * vcpus_of(offerings, t)
        if weight > 0:
            terms.setdefault((w, m, b), []).append((v.index, weight))
            if kind != SPOT:
                standard_terms.setdefault((w, m, b), []).append((v.index, weight))
    for rows, floor_of in ((terms, floors.value), (standard_terms, floors.standard)):
        for key, row in rows.items():
            floor = floor_of.get(key, 0.0)
            if floor > 0:
                c = lp.constraint.add(lower_bound=floor, upper_bound=float("inf"))
                c.var_index.extend(i for i, _ in row)
                c.coefficient.extend(k for _, k in row)


def _plain_proto(form: Formulation) -> cp_model_pb2.CpModelProto | None:
    """The model as a plain protobuf message: OR-Tools 9.15's Python ``CpModelProto`` is a
    C++ wrapper whose every field access costs a conversion (reading a month's model through
    it took 0.18 s, as a message 0.06 s), and it has no ``SerializeToString``; the model is
    exported to a temporary file and parsed back (a few ms). None if that fails (a full
    disk): the relaxation then gives no bound, and the plan is solved all the same."""
    try:
        fd, name = tempfile.mkstemp(prefix="capdsl-lp-", suffix=".pb")
    except OSError:
        return None
    os.close(fd)
    try:
        if not form.model.export_to_file(name):
            return None
        return cp_model_pb2.CpModelProto.FromString(Path(name).read_bytes())
    except (OSError, DecodeError):
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def capacity_bound(ctx: SolveContext) -> float:
    """A lower bound from prices per unit of capacity alone, without building a model.

    Every service workload needs, in every block, at least its demand with headroom (and
    with N+k, its demand plus k of its smallest instances); with ``survive k zones`` of Z, its
    non-spot capacity without its k largest zones carries the demand, so that capacity is at
    least ``demand x Z / (Z - k)`` (the k largest zones hold at least k/Z of it). Each unit of
    capacity costs at least the workload's cheapest price per unit: spot where allowed, else
    the cheaper of on-demand and a reservation *rented* for the hours it is used at its
    amortised rate (holding one for its term is never cheaper). Reservations the plan owns
    are free capacity (to every workload at once: a relaxation too), their cost the fleet
    constant every plan pays. Integrality, sharing, spot limits, quotas, batch work and
    budgets are left out -- each a relaxation -- so the bound is weak but valid, and cheap
    enough for plans whose monthly LPs are too large (the XL benchmark)."""
    plan = ctx.plan
    hpm = ctx.hours_per_month
    offerings = {o.id: o.offering for o in plan.offerings}
    rented = {
        t: min((c.effective_hourly(hpm) for c in pool.choices), default=None)
        for t, pool in ctx.pools.items()
    }
    total = sum((float(v) for v in existing_fleet_cost(plan)), 0.0)
    for w in plan.workloads:
        if w.kind == "batch":
            continue
        lanes = ctx.lanes_of(w.name)
        if not lanes:
            continue
        best_std = best_any = math.inf  # money per capacity-hour
        for ln in lanes:
            cap = ctx.cap.get((w.name, ln.offering), 0.0)
            if cap <= 0:
                continue
            if ln.kind == SPOT:
                price = float(offerings[ln.offering].spot_hourly[ln.zone])
                best_any = min(best_any, price / cap)
                continue
            prices = [float(p) for p in (ln.price, rented.get(ln.offering)) if p is not None]
            if prices:
                best_std = min(best_std, min(prices) / cap)
        best_any = min(best_any, best_std)
        if math.isinf(best_any):
            continue
        smallest = min(ctx.cap.get((w.name, ln.offering), 0.0) for ln in lanes)
        zones = len({ln.zone for ln in lanes})
        for m, blocks in enumerate(ctx.blocks):
            # reservations already owned in month m, as free non-spot capacity
            free = 0.0
            for t in {ln.offering for ln in lanes if ln.kind != SPOT}:
                pool = ctx.pools.get(t)
                if pool is None:
                    continue
                free += pool.owned(m) * ctx.cap.get((w.name, t), 0.0)
            for blk in blocks:
                plain = blk.level.get(w.name, 0.0)
                if plain <= 0:
                    continue
                need, standing = _covering(w, plain, smallest, zones)
                std = max(0.0, standing - free)  # non-spot capacity to pay for
                rest = max(0.0, need - free - std)  # the rest, at the cheapest price
                if std > 0 and math.isinf(best_std):
                    continue  # no non-spot lane: the plan is infeasible, bound nothing
                hourly = (std * best_std if std > 0 else 0.0) + rest * best_any
                total += hourly * float(blk.billed)
    return total * (1 - 1e-6)


def _covering(w: Workload, plain: float, smallest: float, zones: int) -> tuple[float, float]:
    """What a service's capacity must reach in a block of demand ``plain``, relaxed to one
    number each (``capacity_bound``, ``aggregate_bound``): in all, its demand with headroom
    and, with N+k, its demand plus k of its ``smallest`` instances; without spot, when it
    survives k of its ``zones`` zones, ``demand x Z / (Z - k)`` (the k largest zones hold at
    least k/Z of it)."""
    need = max(plain * w.required_factor, plain + w.redundancy * smallest)
    k = w.survive_zones
    return need, plain * zones / (zones - k) if 0 < k < zones else 0.0


@dataclass
class _Family:
    """What one workload can run of one instance family, for ``aggregate_bound``: the
    (capacity, vCPUs) of its standard and spot instances, and the least price per vCPU-hour
    of each."""

    standard: set[tuple[float, float]]
    spot: set[tuple[float, float]]
    on_demand: float = math.inf
    spot_price: float = math.inf

    @staticmethod
    def rate(sizes: set[tuple[float, float]], row: float) -> float:
        """The most capacity a vCPU gives towards a covering rule of ``row``: an instance
        counts for at most the row's demand (one that covers it alone satisfies it)."""
        return max(min(cap, row) / u for cap, u in sizes)


class AggregateBound(NamedTuple):
    value: float | None  # None: an LP was not solved in time
    variables: int  # of all the months' LPs (the work they took, for the time budget)


def aggregate_bound(
    ctx: SolveContext,
    *,
    time_limit: float,
    stop: threading.Event | None = None,
    floors: Floors | None = None,
) -> AggregateBound:
    """A lower bound in milliseconds on most plans (seconds on the XL benchmark): each
    month's LP over instance *families* instead of offerings and zones, in vCPUs (each
    month gets its share of ``time_limit``, and at least 2 s: a timed-out LP gives no
    bound; nor does a ``stop`` set between two months).

    What it keeps that ``capacity_bound`` drops is the month a reservation is held: rented
    for the whole month at its amortised rate (the "rent" relaxation), shared by every
    workload and block, against on-demand and spot paid per hour used -- so a reservation
    sized for the evening peak pays for the night. Each real plan maps to a solution of
    this LP that costs no more, so its optimum is a valid bound:

    - a family's instances count in vCPUs (families split where their sizes are not priced
      by the vCPU: ``floors.price_families``); a vCPU gives workload w at most the best
      capacity per vCPU of any of its offerings in that family (standard and spot
      separately; each instance counted for at most the demand of the rule it covers, as
      in the full model: one that covers it alone satisfies it), and costs at least the
      family's cheapest price per vCPU (on-demand, spot, a reservation's amortised rate,
      over all its offerings and zones);
    - reservations of a family (new ones rented, owned ones free) are one pool in vCPUs for
      every workload and zone; in each block the reserved vCPUs in use are at most the pool;
    - in every block, each service's capacity covers its demand with headroom (and with N+k
      its demand plus k of its smallest instances), its non-spot capacity covers ``demand x
      Z / (Z - k)`` when it survives k of Z zones (as in ``capacity_bound``), and the
      capacity spot supplies -- at most its vCPUs at the best rate -- counts only up to the
      spot share of the block's quietest hour;
    - with ``floors`` (``floors.FloorSearch``), each service's instances in each block
      weigh at least its integer floor, which carries what whole instances in zones cost;
    - otherwise integrality, zones, per-pool spot limits, quotas, budgets, batch work and
      replica floors are left out."""
    plan = ctx.plan
    hpm = ctx.hours_per_month
    offerings = offerings_of(ctx)
    families = floors.families if floors is not None else price_families(ctx)
    family = families.__getitem__
    vcpus = functools.partial(vcpus_of, offerings)
    rent = reserved_rates(ctx, families)  # price family -> least amortised $ per vCPU-hour
    owned: dict[tuple[str, int], float] = {}  # (family, month) -> vCPUs owned
    for t, pool in ctx.pools.items():
        for m in range(plan.horizon):
            n = pool.owned(m)
            if n:
                owned[(family(t), m)] = owned.get((family(t), m), 0.0) + n * vcpus(t)
    # per service and family: best capacity per vCPU (standard, spot), least $ per vCPU-hour
    # (on-demand, spot), and the smallest instance's capacity (N+k)
    classes: dict[str, dict[str, _Family]] = {}
    smallest: dict[str, float] = {}
    zones: dict[str, int] = {}
    for w in plan.workloads:
        if w.kind == "batch":
            continue
        per: dict[str, _Family] = {}
        caps = []
        lanes = ctx.lanes_of(w.name)
        for ln in lanes:
            cap = ctx.cap.get((w.name, ln.offering), 0.0)
            if cap <= 0:
                continue
            caps.append(cap)
            fam = per.setdefault(family(ln.offering), _Family(set(), set()))
            u = vcpus(ln.offering)
            if ln.kind == SPOT:
                fam.spot.add((cap, u))
                price = float(offerings[ln.offering].spot_hourly[ln.zone]) / u
                fam.spot_price = min(fam.spot_price, price)
            else:
                fam.standard.add((cap, u))
                if ln.price is not None:
                    fam.on_demand = min(fam.on_demand, float(ln.price) / u)
        if per:
            classes[w.name] = per
            smallest[w.name] = min(caps)
            zones[w.name] = len({ln.zone for ln in lanes})
    total = sum((float(v) for v in existing_fleet_cost(plan)), 0.0)
    per_month = max(2.0, time_limit / max(1, plan.horizon))
    # money is scaled by the largest monthly rate for the simplex's numerics
    rates = [
        r
        for per in classes.values()
        for fam in per.values()
        for r in (fam.on_demand, fam.spot_price)
        if r < math.inf
    ]
    rates += [r for r in rent.values() if r < math.inf]
    scale = max(rates, default=1.0) * float(hpm) or 1.0
    variables = 0
    for m, blocks in enumerate(ctx.blocks):
        if stop is not None and stop.is_set():
            return AggregateBound(None, variables)
        value, n = _aggregate_month(
            ctx, m, blocks, classes, smallest, zones, rent, owned, scale, per_month, floors
        )
        variables += n
        if value is None:
            return AggregateBound(None, variables)
        total += value
    return AggregateBound(total * (1 - 1e-6), variables)


def _aggregate_month(
    ctx: SolveContext,
    m: int,
    blocks: tuple[Block, ...],
    classes: dict[str, dict[str, _Family]],
    smallest: dict[str, float],
    zones: dict[str, int],
    rent: dict[str, float],
    owned: dict[tuple[str, int], float],
    scale: float,
    time_limit: float,
    floors: Floors | None = None,
) -> tuple[float | None, int]:
    """One month of ``aggregate_bound``: its LP optimum in money, without the fleet's cost
    (None if not solved in time), and its number of variables."""
    request = mp.MPModelRequest(solver_type=mp.MPModelRequest.GLOP_LINEAR_PROGRAMMING)
    lp = request.model
    inf = float("inf")
    hpm = float(ctx.hours_per_month)

    def var(cost: float, ub: float = inf) -> int:
        lp.variable.add(lower_bound=0.0, upper_bound=ub, objective_coefficient=cost / scale)
        return len(lp.variable) - 1

    def row(terms: list[tuple[int, float]], lb: float, ub: float) -> None:
        c = lp.constraint.add(lower_bound=lb, upper_bound=ub)
        c.var_index.extend(i for i, _ in terms)
        c.coefficient.extend(k for _, k in terms)

    pool = {f: var(r * hpm) for f, r in rent.items() if r < inf}  # rented vCPUs this month
    for blk in blocks:
        hours = float(blk.billed)
        drawn: dict[str, list[tuple[int, float]]] = {}  # family -> reserved vCPUs in use
        for name, per in classes.items():
            w = ctx.workload(name)
            plain = blk.level.get(name, 0.0)
            if plain <= 0:
                continue
            need, standing = _covering(w, plain, smallest[name], zones[name])
            weighed: list[tuple[int, float]] = []  # the service's vCPUs, by floor weight
            standard: list[tuple[int, float]] = []  # the same, its standard vCPUs alone
            firm: list[tuple[int, float]] = []  # non-spot capacity towards the need
            stand: list[tuple[int, float]] = []  # the same towards the standing capacity
            spot: list[tuple[int, float]] = []  # spot vCPUs at their best capacity
            for f, fam in per.items():
                if fam.standard:
                    to_need, to_stand = fam.rate(fam.standard, need), fam.rate(fam.standard, plain)
                    lanes = []
                    if f in pool or owned.get((f, m), 0.0) > 0:
                        r = var(0.0)
                        drawn.setdefault(f, []).append((r, 1.0))
                        lanes.append(r)
                    if fam.on_demand < inf:
                        lanes.append(var(fam.on_demand * hours))
                    firm += [(i, to_need) for i in lanes]
                    if floors is not None:
                        weight = floors.weights.get(f, (0.0, 0.0))[0]
                        weighed += [(i, weight) for i in lanes]
                        standard += [(i, weight) for i in lanes]
                    stand += [(i, to_stand) for i in lanes]
                if fam.spot and fam.spot_price < inf:
                    spot.append((var(fam.spot_price * hours), fam.rate(fam.spot, need)))
                    if floors is not None:
                        weighed.append((spot[-1][0], floors.weights.get(f, (0.0, 0.0))[1]))
            # the capacity spot supplies: at most its vCPUs' and the spot share's
            limit = w.spot.max_share * blk.low(name) if w.spot.max_share is not None else inf
            supplied = var(0.0, limit) if spot else None
            if supplied is not None:
                row([(supplied, 1.0)] + [(i, -c) for i, c in spot], -inf, 0.0)
            row(firm + ([(supplied, 1.0)] if supplied is not None else []), need, inf)
            if standing > 0:
                row(stand, standing, inf)
            if floors is not None:
                for terms, floor in (
                    (weighed, floors.value.get((name, m, blk.index), 0.0)),
                    (standard, floors.standard.get((name, m, blk.index), 0.0)),
                ):
                    if floor > 0:
                        row(terms, floor, inf)
        for f, terms in drawn.items():
            cap = [(pool[f], -1.0)] if f in pool else []
            row(terms + cap, -inf, owned.get((f, m), 0.0))
    response = _solve(request, time_limit, SIMPLEX["plain"])
    if response is None:
        return None, len(lp.variable)
    return response.objective_value * scale, len(lp.variable)
