"""Explanations of a solved plan, in the plan's words.

- ``binding``: per month, the settings that hold with (near) equality -- in integer terms, a
  constraint binds when removing the smallest instance it counts (or adding one more, for
  an upper limit) would break it: demand with headroom, N+k, zone loss, spot share and
  per-pool limits, minimum replicas, quotas, budgets within 1% of their cap, the commitment
  cap. One entry per setting and month, naming the blocks ("N+1 binds for recs in 2027-11
  (peak, event: annual sale)").
- ``why_not``: for each workload, its main offering against the next-best alternative. On
  small plans the alternative is *re-solved* (the same plan without the chosen offering for
  that workload, warm-started from this solution) and the delta is the difference of the
  two plans' costs per month; on larger plans it is an *estimate* (the workload's capacity-
  hours priced at the alternative's best price per unit of capacity), labelled as such.

Only plain arithmetic on the Plan and the Solution here; the solver is imported lazily,
for re-solves only.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from capdsl.model.plan import Plan, Workload
from capdsl.solve.money import billed_hours
from capdsl.solve.solution import Allocation, Binding, Solution, WhyNot

# Re-solve why-not alternatives (exact) when the plan is this small; estimate otherwise.
RESOLVE_MAX_WORKLOADS = 4
RESOLVE_MAX_BLOCKS = 120
_NEAR = 1e-9


def _short(offering_id: str) -> str:
    """``aws.c7g.2xlarge@us-east-1`` -> ``c7g.2xlarge``."""
    body = offering_id.split("@", 1)[0]
    return body.split(".", 1)[1] if "." in body else body


def _money(x: float, currency: str) -> str:
    sign = "$" if currency == "USD" else f"{currency} "
    return f"{'+' if x >= 0 else '-'}{sign}{abs(x):,.0f}"


class _Binder:
    def __init__(self, plan: Plan, sol: Solution) -> None:
        self.plan = plan
        self.sol = sol
        self.offerings = {o.id: o.offering for o in plan.offerings}
        self.cap = {
            (w.name, c.offering): c.per_instance for w in plan.workloads for c in w.capacities
        }
        self.found: dict[tuple[int | None, str, str], list[str]] = defaultdict(
            list
        )  # (month, setting, what) -> blocks

    def add(self, month: int | None, setting: str, what: str, block: str) -> None:
        key = (month, setting, what)
        if block not in self.found[key]:
            self.found[key].append(block)

    def block_label(self, m: int, b: int) -> str:
        for blk in self.plan.demand[m].blocks:
            if blk.index == b:
                return blk.label or f"block {b}"
        return f"block {b}"

    def services(self) -> None:
        per: dict[tuple[int, int, str], list[Allocation]] = defaultdict(list)
        for a in self.sol.allocations:
            per[(a.month, a.block, a.workload)].append(a)
        for w in self.plan.workloads:
            if w.kind == "batch":
                continue
            for m in range(self.plan.horizon):
                for blk in self.plan.demand[m].blocks:
                    allocs = per.get((m, blk.index, w.name), [])
                    if allocs:
                        self.block(w, m, blk.index, blk.level.get(w.name, 0.0), allocs)

    def block(self, w: Workload, m: int, b: int, level: float, allocs: list[Allocation]) -> None:
        label = self.block_label(m, b)
        caps = [(self.cap[(w.name, a.offering)], a) for a in allocs]
        smallest = min(c for c, _ in caps)
        total = sum(c * a.count for c, a in caps)
        if level > 0 and total - level * w.required_factor < smallest - _NEAR:
            setting = f"{w.name}.headroom" if w.headroom else f"{w.name}.baseline"
            what = "demand with headroom" if w.headroom else "demand"
            self.add(m, setting, f"{what} binds for {w.name}", label)
        if level > 0 and w.redundancy:
            sizes = sorted((c for c, a in caps for _ in range(a.count)), reverse=True)
            survivors = total - sum(sizes[: w.redundancy])
            if survivors - level < smallest - _NEAR:
                self.add(m, f"{w.name}.redundancy", f"N+{w.redundancy} binds for {w.name}", label)
        if level > 0 and w.survive_zones:
            zones = sorted({z for c in w.capacities for z in c.zones})
            nonspot: dict[str, float] = defaultdict(float)
            for c, a in caps:
                if a.option != "spot":
                    nonspot[a.zone] += c * a.count
            small = min((c for c, a in caps if a.option != "spot"), default=smallest)
            for lost in itertools.combinations(zones, w.survive_zones):
                left = sum(v for z, v in nonspot.items() if z not in lost)
                if left - level < small - _NEAR:
                    self.add(
                        m,
                        f"{w.name}.survive",
                        f"losing {', '.join(lost)} binds for {w.name}",
                        label,
                    )
        spot = [(c, a) for c, a in caps if a.option == "spot"]
        if spot and w.spot.max_share is not None and level > 0:
            used = sum(c * a.count for c, a in spot)
            if w.spot.max_share * level - used < min(c for c, _ in spot) - _NEAR:
                self.add(
                    m,
                    f"{w.name}.spot.max",
                    f"spot share {w.spot.max_share * 100:g}% binds for {w.name}",
                    label,
                )
        if w.min_replicas and sum(a.count for a in allocs) <= w.min_replicas:
            self.add(
                m,
                f"{w.name}.min_replicas",
                f"min replicas {w.min_replicas} binds for {w.name}",
                label,
            )

    def quotas(self) -> None:
        for q in self.plan.quotas:
            use: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
            for a in self.sol.allocations:
                if a.offering in q.offerings:
                    o = self.offerings[a.offering]
                    u = use[(a.month, a.block)]
                    u[0] += a.count
                    u[1] += a.count * o.vcpu
                    u[2] += a.count * o.gpu_count
            for (m, b), (inst, vcpu, gpu) in sorted(use.items()):
                for value, limit, unit in (
                    (inst, q.max_instances, "instances"),
                    (vcpu, q.max_vcpu, "vCPU"),
                    (gpu, q.max_gpu, "GPU"),
                ):
                    if limit is not None and limit - value < 1 - _NEAR:
                        self.add(
                            m,
                            f"quota.{q.name}.max",
                            f"quota {q.name} ({limit:g} {unit}) binds",
                            self.block_label(m, b),
                        )

    def budgets(self) -> None:
        for bud in self.plan.budgets:
            if bud.monthly is None:
                continue
            cap = float(bud.monthly)
            for mc in self.sol.months:
                cost = (
                    float(mc.total)
                    if not bud.workloads
                    else float(
                        sum(
                            (v for w, v in mc.by_workload.items() if w in bud.workloads), Decimal(0)
                        )
                    )
                )
                if cost >= cap * 0.99:
                    self.add(
                        mc.index,
                        f"{bud.name}.monthly",
                        f"budget {bud.name} ({cap:,.0f}/month) binds",
                        "month",
                    )

    def result(self) -> list[Binding]:
        out = []
        for (m, setting, what), blocks in sorted(
            self.found.items(), key=lambda kv: (kv[0][0] or -1, kv[0][1], kv[0][2])
        ):
            month = f" in {self.plan.months[m]}" if m is not None else ""
            shown = ", ".join(blocks[:3]) + (
                f" and {len(blocks) - 3} more" if len(blocks) > 3 else ""
            )
            where = "" if blocks == ["month"] else f" ({shown})"
            out.append(Binding(month=m, setting=setting, text=f"{what}{month}{where}"))
        return out


# --------------------------------------------------------------------------- why not


def _billed(plan: Plan) -> dict[tuple[int, int], float]:
    """Billed hours of every (month, block) of the horizon."""
    return {
        (m, b.index): float(billed_hours(plan, m, b.hours))
        for m, md in enumerate(plan.demand[: plan.horizon])
        for b in md.blocks
    }


def _capacity_hours(plan: Plan, sol: Solution, workload: str) -> dict[str, float]:
    """Billed capacity-hours a workload gets from each offering over the horizon."""
    cap = {(w.name, c.offering): c.per_instance for w in plan.workloads for c in w.capacities}
    billed = _billed(plan)
    out: dict[str, float] = defaultdict(float)
    for a in sol.allocations:
        if a.workload == workload:
            out[a.offering] += a.count * cap[(workload, a.offering)] * billed[(a.month, a.block)]
    return out


def _unit_price(plan: Plan, w: Workload, offering: str) -> Fraction | None:
    """Cheapest price per unit of capacity of an offering for a workload (per hour)."""
    po = next((o for o in plan.offerings if o.id == offering), None)
    c = next((c for c in w.capacities if c.offering == offering), None)
    if po is None or c is None or c.per_instance <= 0:
        return None
    o = po.offering
    hpm = plan.hours_per_month
    allowed = {(r.term_months, r.payment, r.offering_class) for r in plan.commitments.options}
    prices = [Fraction(o.on_demand_hourly)] if o.on_demand_hourly is not None else []
    prices += [
        Fraction(r.effective_hourly(hpm))
        for r in o.reserved
        if (r.term_months, r.payment, r.offering_class) in allowed
    ]
    if not prices:
        return None
    return min(prices) / Fraction(c.per_instance)


def _why_not(plan: Plan, sol: Solution, time_limit: float) -> list[WhyNot]:
    out: list[WhyNot] = []
    blocks = sum(len(md.blocks) for md in plan.demand[: plan.horizon])
    resolve = len(plan.workloads) <= RESOLVE_MAX_WORKLOADS and blocks <= RESOLVE_MAX_BLOCKS
    base = float(sol.objective or 0)
    H = max(1, plan.horizon)
    for w in plan.workloads:
        used = _capacity_hours(plan, sol, w.name)
        if not used:
            continue
        chosen = max(sorted(used), key=lambda t: used[t])
        others = [c.offering for c in w.capacities if c.offering != chosen]
        if not others:
            continue
        if resolve:
            item = _resolved(
                plan, sol, w, chosen, base, H, time_limit / max(1, len(plan.workloads))
            )
            if item is not None:
                out.append(item)
                continue
        item = _estimated(plan, sol, w, chosen, others, H)
        if item is not None:
            out.append(item)
    return out


def _resolved(
    plan: Plan, sol: Solution, w: Workload, chosen: str, base: float, H: int, limit: float
) -> WhyNot | None:
    from capdsl.solve.solver import solve_without

    alt = solve_without(plan, [(w.name, chosen)], hint=sol, time_limit=max(0.5, limit))
    if alt.status == "infeasible":  # proven: no plan without it
        why = f" ({alt.message})" if alt.message else ""
        return WhyNot(
            workload=w.name,
            chosen=chosen,
            alternative="",
            delta_per_month=Decimal(0),
            text=f"why not another offering for {w.name}: without {_short(chosen)} "
            f"no plan meets every setting{why}",
        )
    if alt.status not in ("optimal", "feasible") or alt.objective is None:
        return None  # none found in its time: the estimate instead (it says so)
    used = _capacity_hours(plan, alt, w.name)
    alternative = max(sorted(used), key=lambda t: used[t]) if used else ""
    delta = (float(alt.objective) - base) / H
    note = "" if alt.status == "optimal" else " (alternative within its search time)"
    return WhyNot(
        workload=w.name,
        chosen=chosen,
        alternative=alternative,
        delta_per_month=Decimal(f"{delta:.2f}"),
        text=f"why not {_short(alternative)} for {w.name}: {_money(delta, plan.currency)}/month "
        f"(re-solved without {_short(chosen)}{note})",
    )


def _estimated(
    plan: Plan, sol: Solution, w: Workload, chosen: str, others: list[str], H: int
) -> WhyNot | None:
    """Swap ``chosen`` for each alternative zone by zone and block by block, keeping the
    capacity: ``ceil(count x capacity / alternative's capacity)`` whole instances, each at
    its offering's best hourly price (on-demand or an allowed reservation). Whole instances
    per zone keep the coarse granularity of large types visible (a 16xlarge costs less per
    unit of capacity but comes in big steps); it is still an estimate (N+k spares and spot
    are not re-planned), labelled as such. The alternative with the smallest delta wins."""
    cap = {c.offering: c.per_instance for c in w.capacities}
    mine = _unit_price(plan, w, chosen)
    if mine is None:
        return None
    billed = _billed(plan)
    per_slot: dict[tuple[int, int, str], int] = defaultdict(int)
    for a in sol.allocations:
        if a.workload == w.name and a.offering == chosen:
            per_slot[(a.month, a.block, a.zone)] += a.count
    if not per_slot:
        return None
    chosen_hourly = float(mine) * cap[chosen]
    deltas: list[tuple[float, str]] = []
    for alt in sorted(others):
        unit = _unit_price(plan, w, alt)
        if unit is None or cap.get(alt, 0) <= 0:
            continue
        alt_hourly = float(unit) * cap[alt]
        delta = 0.0
        for (m, b, _zone), n in per_slot.items():
            need = math.ceil(n * cap[chosen] / cap[alt] - 1e-9)
            delta += (need * alt_hourly - n * chosen_hourly) * billed[(m, b)]
        deltas.append((delta / H, alt))
    if not deltas:
        return None
    how = "(estimate: the same capacity per zone in whole {alt} instances, not re-solved{more})"
    cheaper = sorted(d for d in deltas if d[0] <= -1)
    dearer = sorted(d for d in deltas if d[0] >= 1)
    if cheaper:
        delta, alternative = cheaper[0]
        text = (
            f"{_short(alternative)} for {w.name} might save {_money(-delta, plan.currency)[1:]}"
            "/month "
            + how.format(
                alt=_short(alternative),
                more="; the search did not get there within its time limit",
            )
        )
    elif dearer:
        delta, alternative = dearer[0]
        text = (
            f"why not {_short(alternative)} for {w.name}: {_money(delta, plan.currency)}/month "
            + how.format(alt=_short(alternative), more="")
        )
    else:
        delta, alternative = min(deltas, key=lambda d: (abs(d[0]), d[1]))
        text = (
            f"{_short(alternative)} would cost {w.name} the same as {_short(chosen)} "
            "(the same price per unit of capacity)"
        )
    return WhyNot(
        workload=w.name,
        chosen=chosen,
        alternative=alternative,
        delta_per_month=Decimal(f"{delta:.2f}"),
        text=text,
    )


def explain(plan: Plan, solution: Solution, *, time_limit: float = 5.0) -> Solution:
    """``solution`` with ``binding`` and ``why_not`` filled (unchanged when not solved)."""
    if solution.status not in ("optimal", "feasible"):
        return solution
    b = _Binder(plan, solution)
    b.services()
    b.quotas()
    b.budgets()
    return solution.model_copy(
        update={"binding": b.result(), "why_not": _why_not(plan, solution, time_limit)}
    )
