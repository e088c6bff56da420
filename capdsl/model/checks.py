"""Lints: the practitioners' rules of thumb (SCENARIOS.md), as warnings on a built Plan.

Built-in checks use the same ``Check`` shape as plugin checks (``register_checks``): an
object with ``code``, ``name`` and ``run(plan) -> list[Diagnostic]``. Built-ins run first,
then plugin checks; a plugin check that raises is reported (W0099), never fatal.

| code  | rule |
|-------|------|
| W0001 | an availability target of 99.9% or more wants at least N+1 (or zone survival) |
| W0002 | a spiky service (peak hour > 1.5x the month's average, events included) wants 30-50% burst headroom |
| W0003 | planned peak utilisation above 80% |
| W0004 | even the cheapest capacity for a month reaches a budget's alert threshold |
| W0005 | even the cheapest capacity for a month (or the horizon) exceeds a hard budget |
| W0011 | ... exceeds a soft budget (it will be overrun, at its penalty) |
| W0012 | the same seasonality factor in every month (factors are relative: it is no seasonality) -- reported by the builder |
| W0007 | spot is allowed but no spot pool is eligible |
| W0009 | a quota that covers every offering of a workload cannot hold its peak (or its batch work within the deadline) |

Budget lints use a lower bound of each month's cost that no plan can beat: every block's
demand (with headroom, less the whole existing fleet that could serve it) times the cheapest
price per unit of capacity over on-demand, eligible spot and allowed reserved rates, plus
what the existing fleet still costs. Anything the optimiser finds costs at least this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from capdsl.lang.diagnostics import Diagnostic, Span, warning
from capdsl.model.plan import Budget, Plan, Quota, Workload

SPIKY_PEAK_TO_AVERAGE = 1.5
MIN_BURST_HEADROOM = 0.30
MAX_PEAK_UTILIZATION = 0.80


@runtime_checkable
class Check(Protocol):
    """A lint run on every built plan (also the shape of ``register_checks`` plugins)."""

    code: str
    name: str

    def run(self, plan: Plan) -> list[Diagnostic]: ...


def _span(plan: Plan, *keys: str) -> Span | None:
    for key in keys:
        s = plan.setting(key)
        if s is not None and s.span is not None:
            return s.span
    return None


def _root(w: Workload) -> str:
    return w.parent or w.name


def _pct(x: float) -> str:
    return f"{x * 100:.3g}%"


def _money(value: Decimal | float) -> str:
    v = float(value)
    if abs(v) >= 1e6:
        return f"${v / 1e6:,.2f}M"
    if abs(v) >= 1e4:
        return f"${v / 1e3:,.1f}k"
    return f"${v:,.2f}"


class AvailabilityNeedsRedundancy:
    code = "W0001"
    name = "availability-needs-redundancy"

    def run(self, plan: Plan) -> list[Diagnostic]:
        out = []
        for w in plan.workloads:
            if w.availability is None or w.availability < 0.999 - 1e-12:
                continue
            if w.redundancy >= 1 or w.survive_zones >= 1 or w.survive_regions >= 1:
                continue
            out.append(
                warning(
                    self.code,
                    f"`{w.name}` targets {_pct(w.availability)} availability with no redundancy",
                    _span(plan, f"{w.name}.availability", f"{_root(w)}.availability"),
                    label="one lost instance breaks this target",
                    help="99.9% needs at least N+1: add `redundancy = N+1` or `survive = 1 zone`",
                )
            )
        return out


def peak_to_average(plan: Plan, name: str) -> float:
    worst = 0.0
    for month in plan.demand:
        hourly = month.hourly.get(name)
        if not hourly:
            continue
        mean = sum(hourly) / len(hourly)
        if mean > 0:
            worst = max(worst, max(hourly) / mean)
    return worst


def spiky(plan: Plan, w: Workload) -> tuple[bool, str]:
    """A service whose peak hour is over 1.5x its month's average (events included).
    Streams are planned at their burst rate already, and batch has no bursts."""
    if w.kind != "service":
        return False, ""
    ratio = peak_to_average(plan, w.name)
    if ratio > SPIKY_PEAK_TO_AVERAGE:
        return True, f"peak hour {ratio:.2g}x the month's average"
    return False, ""


class BurstHeadroom:
    code = "W0002"
    name = "burst-headroom"

    def run(self, plan: Plan) -> list[Diagnostic]:
        out = []
        for w in plan.workloads:
            is_spiky, why = spiky(plan, w)
            headroom = w.required_factor - 1.0
            if not is_spiky or headroom >= MIN_BURST_HEADROOM - 1e-9:
                continue
            out.append(
                warning(
                    self.code,
                    f"`{w.name}` is spiky ({why}) but plans {_pct(headroom)} burst headroom",
                    _span(
                        plan, f"{w.name}.headroom", f"{_root(w)}.headroom", f"{_root(w)}.baseline"
                    ),
                    label="bursts beyond the forecast have no room",
                    help="practitioners keep 30-50% burst headroom on spiky services: `headroom = 30%`",
                )
            )
        return out


class PeakUtilization:
    code = "W0003"
    name = "peak-utilization"

    def run(self, plan: Plan) -> list[Diagnostic]:
        out = []
        for w in plan.workloads:
            if w.kind == "batch" or (
                spiky(plan, w)[0] and w.required_factor < 1 + MIN_BURST_HEADROOM
            ):
                continue  # W0002 already says it
            # A stream's demand is its burst rate: at the average rate it runs burst x lower.
            utilization = 1.0 / (w.required_factor * w.burst)
            if utilization <= MAX_PEAK_UTILIZATION + 1e-9:
                continue
            out.append(
                warning(
                    self.code,
                    f"`{w.name}` is planned at {_pct(utilization)} utilisation at peak",
                    _span(
                        plan,
                        f"{w.name}.max_utilization",
                        f"{_root(w)}.max_utilization",
                        f"{w.name}.headroom",
                        f"{_root(w)}.headroom",
                        f"{_root(w)}.baseline",
                    ),
                    label="above the 80% practitioners warn at",
                    help="plan for at most 80% at peak: `headroom = 25%` or `max_utilization = 80%`",
                )
            )
        return out


# --------------------------------------------------------------------------- budgets


def unit_prices(plan: Plan, w: Workload) -> tuple[float | None, float | None]:
    """Lowest $ per unit of capacity-hour for ``w``: (without spot, on spot)."""
    allowed = {(o.term_months, o.payment, o.offering_class) for o in plan.commitments.options}
    firm: float | None = None
    spot: float | None = None
    for cap in w.capacities:
        offering = plan.offering(cap.offering).offering
        prices: list[Decimal] = []
        if offering.on_demand_hourly is not None:
            prices.append(offering.on_demand_hourly)
        prices += [
            r.effective_hourly(plan.hours_per_month)
            for r in offering.reserved
            if (r.term_months, r.payment, r.offering_class) in allowed
        ]
        if prices:
            unit = float(min(prices)) / cap.per_instance
            firm = unit if firm is None else min(firm, unit)
        spots = [offering.spot_hourly[z] for z in cap.spot_zones if z in offering.spot_hourly]
        if spots:
            unit = float(min(spots)) / cap.per_instance
            spot = unit if spot is None else min(spot, unit)
    return firm, spot


def firm_share(w: Workload) -> float:
    """Least share of capacity that must be on-demand or reserved (not spot): losing any
    ``k`` of ``n`` zones (and all spot) must leave the demand, so non-spot capacity is at
    least ``n / (n - k)`` x demand, spread evenly at best."""
    if w.survive_zones:
        n = len({z for c in w.capacities for z in c.zones})
        return n / (n - w.survive_zones) if n > w.survive_zones else float("inf")
    if w.survive_regions:
        n = len({c.offering.split("@")[-1] for c in w.capacities})
        return n / (n - w.survive_regions) if n > w.survive_regions else float("inf")
    return 0.0


def capacity_cost(
    w: Workload, demand: float, need: float, firm: float | None, spot: float | None
) -> float:
    """Cheapest cost rate of capacity ``need`` (demand ``demand`` before headroom)."""
    if need <= 0:
        return 0.0
    if spot is None or not w.spot.allowed:
        return need * (firm or 0.0)
    if firm is None:
        return need * spot
    share = 1.0 if w.spot.max_share is None else w.spot.max_share
    on_spot = min(need * share, max(0.0, need - demand * firm_share(w)))
    return on_spot * spot + (need - on_spot) * firm


def fleet_cost(plan: Plan, month: int) -> float:
    return sum(
        float(r.hourly) * r.count * float(plan.hours_per_month)
        for r in plan.fleet
        if r.start <= month < r.end
    )


def fleet_capacity(plan: Plan, w: Workload, month: int) -> float:
    caps = {c.offering: c.per_instance for c in w.capacities}
    return sum(
        r.count * caps[r.offering]
        for r in plan.fleet
        if r.offering in caps and r.start <= month < r.end
    )


def month_cost_floor(
    plan: Plan, month: int, workloads: Iterable[Workload], *, with_fleet: bool
) -> float:
    demand = plan.demand[month]
    total = fleet_cost(plan, month) if with_fleet else 0.0
    for w in workloads:
        firm, spot = unit_prices(plan, w)
        owned = fleet_capacity(plan, w, month)
        if w.kind == "batch":
            work = demand.work.get(w.name, 0.0) / float(plan.hours_per_month) - owned
            total += capacity_cost(w, 0.0, work, firm, spot) * float(plan.hours_per_month)
            continue
        for b in demand.blocks:
            level = b.level.get(w.name, 0.0)
            need = level * w.required_factor - owned
            total += capacity_cost(w, max(0.0, level - owned), need, firm, spot) * b.billed_hours
    return total


def budget_scope(plan: Plan, budget: Budget) -> list[Workload]:
    if not budget.workloads:
        return list(plan.workloads)
    return [w for w in plan.workloads if w.name in budget.workloads]


class BudgetFloor:
    code = "W0005"
    name = "budget-floor"
    alert_code = "W0004"
    soft_code = "W0011"  # a soft budget is overrun at a penalty, never infeasible

    def run(self, plan: Plan) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for budget in plan.budgets:
            scope = budget_scope(plan, budget)
            floors = [
                month_cost_floor(plan, m, scope, with_fleet=not budget.workloads)
                for m in range(plan.horizon)
            ]
            out += self.monthly(plan, budget, floors)
            out += self.total(plan, budget, floors)
        return out

    def monthly(self, plan: Plan, budget: Budget, floors: Sequence[float]) -> list[Diagnostic]:
        if budget.monthly is None or not floors:
            return []
        cap = float(budget.monthly)
        worst = max(range(len(floors)), key=lambda m: floors[m])
        span = _span(plan, f"{budget.name}.monthly")
        if floors[worst] > cap * (1 + 1e-9):
            over = [plan.months[m] for m, f in enumerate(floors) if f > cap * (1 + 1e-9)]
            verb = "cannot be met" if budget.hard else "will be overrun"
            return [
                warning(
                    self.code if budget.hard else self.soft_code,
                    f"`{budget.name}` of {_money(cap)} a month {verb} in {plan.months[worst]}: "
                    f"the cheapest capacity costs at least {_money(floors[worst])}",
                    span,
                    label=f"the cheapest plan is over by at least {_money(floors[worst] - cap)}",
                    notes=(
                        f"months over the cap: {', '.join(over[:8])}"
                        + (" ..." if len(over) > 8 else ""),
                    ),
                    help="raise the budget, or relax what drives demand in those months (growth, events, headroom, redundancy)",
                )
            ]
        if budget.alert is not None and floors[worst] >= cap * budget.alert:
            return [
                warning(
                    self.alert_code,
                    f"`{budget.name}` alert: {plan.months[worst]} needs at least {_money(floors[worst])}, "
                    f"{_pct(floors[worst] / cap)} of the {_money(cap)} cap (alert at {_pct(budget.alert)})",
                    span,
                    label="alert threshold reached by the cheapest possible plan",
                    help="expect this alert to fire; raise the budget or plan for less",
                )
            ]
        return []

    def total(self, plan: Plan, budget: Budget, floors: Sequence[float]) -> list[Diagnostic]:
        if budget.total is None:
            return []
        cap, floor = float(budget.total), sum(floors)
        span = _span(plan, f"{budget.name}.total")
        if floor > cap * (1 + 1e-9):
            verb = "cannot be met" if budget.hard else "will be overrun"
            return [
                warning(
                    self.code if budget.hard else self.soft_code,
                    f"`{budget.name}` total of {_money(cap)} {verb}: the cheapest capacity costs at least {_money(floor)}",
                    span,
                    label=f"the cheapest plan is over by at least {_money(floor - cap)}",
                    help="raise the total, shorten the horizon, or plan for less demand",
                )
            ]
        if budget.alert is not None and floor >= cap * budget.alert:
            return [
                warning(
                    self.alert_code,
                    f"`{budget.name}` alert: the horizon needs at least {_money(floor)}, {_pct(floor / cap)} of the {_money(cap)} total",
                    span,
                    help="expect this alert to fire; raise the budget or plan for less",
                )
            ]
        return []


class SpotWithoutPools:
    code = "W0007"
    name = "spot-without-pools"

    def run(self, plan: Plan) -> list[Diagnostic]:
        out = []
        for w in plan.workloads:
            asked = (
                w.spot.max_share is not None
                or w.spot.per_pool is not None
                or w.spot.max_interruption is not None
            )
            if not (w.spot.allowed and asked) or any(c.spot_zones for c in w.capacities):
                continue
            limit = w.spot.max_interruption
            why = (
                f"every pool's interruption rate is above {limit:g}% or unknown"
                if limit is not None and limit < 100
                else "none of its offerings has spot prices"
            )
            out.append(
                warning(
                    self.code,
                    f"`{w.name}` allows spot but no spot pool is eligible",
                    _span(plan, f"{w.name}.spot", f"{_root(w)}.spot"),
                    label=why,
                    help="raise `max_interruption`, add offerings with spot prices, or drop the spot policy",
                )
            )
        return out


def quota_units(plan: Plan, offering_id: str, kind: str) -> float:
    o = plan.offering(offering_id).offering
    return {"instance": 1.0, "vcpu": float(o.vcpu), "gpu": float(o.gpu_count)}[kind]


def quota_ceiling(plan: Plan, w: Workload, quota: Quota) -> tuple[float, str] | None:
    """Most capacity ``w`` can have under ``quota`` (when every offering it may use is
    covered by the quota), with the quota's unit; None when it does not bind ``w``."""
    covered = set(quota.offerings)
    if not w.capacities or any(c.offering not in covered for c in w.capacities):
        return None
    for kind, limit in (
        ("gpu", quota.max_gpu),
        ("vcpu", quota.max_vcpu),
        ("instance", quota.max_instances),
    ):
        if limit is None:
            continue
        best = 0.0
        for c in w.capacities:
            units = quota_units(plan, c.offering, kind)
            best = max(best, c.per_instance / units if units > 0 else float("inf"))
        return best * limit, f"{limit} {kind}"
    return None


def needed_rate(plan: Plan, w: Workload, month: int) -> float:
    """Capacity ``w`` must have running at some hour of the month (a lower bound)."""
    demand = plan.demand[month]
    if w.kind == "batch":
        hours = w.batch.deadline_hours if w.batch and w.batch.deadline_hours else demand.hours
        return demand.work.get(w.name, 0.0) / hours
    return max((b.level.get(w.name, 0.0) for b in demand.blocks), default=0.0) * w.required_factor


class QuotaFloor:
    code = "W0009"
    name = "quota-floor"

    def run(self, plan: Plan) -> list[Diagnostic]:
        out = []
        for quota in plan.quotas:
            for w in plan.workloads:
                ceiling = quota_ceiling(plan, w, quota)
                if ceiling is None:
                    continue
                cap, allowed = ceiling
                short = [
                    m for m in range(plan.horizon) if needed_rate(plan, w, m) > cap * (1 + 1e-9)
                ]
                if not short:
                    continue
                m = max(short, key=lambda i: needed_rate(plan, w, i))
                what = (
                    "work within its deadline" if w.kind == "batch" else "peak demand with headroom"
                )
                out.append(
                    warning(
                        self.code,
                        f"`{w.name}` cannot carry {plan.months[m]}'s {what} under quota `{quota.name}`: "
                        f"it needs {needed_rate(plan, w, m) / cap:.2g}x what {allowed} can run",
                        _span(plan, f"quota.{quota.name}.max", f"quota.{quota.name}"),
                        label=f"every offering `{w.name}` may use is under this quota",
                        notes=(
                            f"months short: {', '.join(plan.months[i] for i in short[:8])}"
                            + (" ..." if len(short) > 8 else ""),
                        ),
                        help="raise the quota (ask the provider), allow offerings outside it, or spread the work (`deadline`)",
                    )
                )
        return out


BUILTIN: tuple[Check, ...] = (
    AvailabilityNeedsRedundancy(),
    BurstHeadroom(),
    PeakUtilization(),
    BudgetFloor(),
    SpotWithoutPools(),
    QuotaFloor(),
)


def run_checks(plan: Plan, extra: Sequence[Check] = ()) -> list[Diagnostic]:
    """Built-in lints, then plugin checks (a failing plugin check is reported, not raised)."""
    out: list[Diagnostic] = []
    for check in BUILTIN:
        out += check.run(plan)
    for check in extra:
        try:
            out += list(check.run(plan))
        except Exception as exc:  # a plugin's bug must not break `capdsl check`
            name = getattr(check, "name", type(check).__name__)
            out.append(
                warning(
                    "W0099",
                    f"check `{name}` failed: {type(exc).__name__}: {exc}",
                    help="report it to the plugin's authors; `CAPDSL_DISABLE_PLUGINS=1` runs without plugins",
                )
            )
    return out
