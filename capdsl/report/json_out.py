"""``capdsl solve --format json``: the stable, documented machine schema (version 1).

Documented field by field in ``docs/json-schema.md``; the JSON Schema is
``capdsl/report/solution.schema.json``. Rules: keys sorted, two-space indent, money as JSON
numbers rounded half-up to cents (unit prices per instance-hour to 1e-6), months as
``"YYYY-MM"`` plus a 0-based ``month_index``, and nothing that varies between runs of the
same input (no timings, no worker counts, no dates of the run).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from capdsl.model.plan import Plan
from capdsl.report.facts import Result, reference_index
from capdsl.report.fmt import CENT, MICRO, quantize
from capdsl.solve.solution import Solution

SCHEMA_VERSION = 1


def money(value: Decimal | None) -> float | None:
    """Cents, as a JSON number (``float`` of the rounded Decimal prints exactly)."""
    return None if value is None else float(quantize(value, CENT))


def unit_price(value: Decimal | None) -> float | None:
    return None if value is None else float(quantize(value, MICRO))


def _round(value: float | None, places: int) -> float | None:
    if value is None:
        return None
    r = round(float(value), places)
    return 0.0 if r == 0 else r  # never "-0.0"


def result_to_dict(r: Result) -> dict[str, Any]:
    """One plan's result as plain JSON-ready data (schema version 1)."""
    sol, plan = r.solution, r.plan
    if not r.solved:
        # No plan to act on (infeasible, or rejected by the verifier): keep the status,
        # message, verification and diagnostics, never the allocations or purchases.
        sol = sol.model_copy(
            update={
                "allocations": [],
                "purchases": [],
                "months": [],
                "totals": None,
                "workload_costs": {},
                "reserved_utilisation": None,
                "spot_share": None,
            }
        )
        r = Result(plan, sol)
    allocations: dict[int, list[dict[str, Any]]] = {}
    for a in r.sorted_allocations():
        allocations.setdefault(a.month, []).append(
            {
                "workload": a.workload,
                "offering": a.offering,
                "zone": a.zone,
                "option": a.option,
                "block": a.block,
                "count": a.count,
                "hourly": unit_price(r.hourly_price(a)),
                "cost": money(r.allocation_cost(a)),
            }
        )
    months = []
    for mc in sol.months:
        blocks = plan.demand[mc.index].blocks if 0 <= mc.index < len(plan.demand) else []
        months.append(
            {
                "month": mc.month,
                "month_index": mc.index,
                "cost": money(mc.total),
                "on_demand": money(mc.on_demand),
                "spot": money(mc.spot),
                "reserved": money(mc.reserved),
                "existing": money(mc.existing),
                "upfront_cash": money(mc.upfront_cash),
                "penalty": money(mc.penalty),
                "by_workload": {k: money(v) for k, v in mc.by_workload.items()},
                "blocks": [
                    {
                        "block": b.index,
                        "label": b.label,
                        "event": b.event,
                        "hours": b.hours,
                        "billed_hours": _round(b.billed_hours, 4),
                    }
                    for b in blocks
                ],
                "allocations": allocations.get(mc.index, []),
            }
        )
    purchases = [
        {
            "offering": p.offering,
            "zone": p.zone,
            "term_months": p.term_months,
            "payment": p.payment,
            "offering_class": p.offering_class,
            "month": r.month_label(p.month),
            "month_index": p.month,
            "count": p.count,
            "upfront": money(p.upfront),
            "hourly": unit_price(p.hourly),
            "order_by": p.order_by,
            "cost_in_horizon": money(r.purchase_cost_in_horizon(p)),
            "beyond_horizon": money(p.beyond_horizon),
        }
        for p in sorted(
            sol.purchases, key=lambda p: (p.month, p.offering, p.zone, p.term_months, p.payment)
        )
    ]
    workloads: dict[str, Any] = {}
    for w in plan.workloads:
        workloads[w.name] = {
            "kind": w.kind,
            "unit": w.unit,
            "cost": money(sol.workload_costs.get(w.name)),
            "cliff_month": r.month_label(w.cliff_month),
            "cliff_reason": w.cliff_reason,
            "capacity": [
                {
                    "month": pt.month,
                    "month_index": pt.month_index,
                    "block": pt.block,
                    "demand": _round(pt.demand, 4),
                    "required": _round(pt.required, 4),
                    "capacity": _round(pt.capacity, 4),
                }
                for pt in (r.capacity.get(w.name, []) if r.solved else [])
            ],
        }
    totals = sol.totals
    ver = sol.verification
    stats = sol.stats
    return {
        "schema": SCHEMA_VERSION,
        "plan": r.name,
        "scenario": r.scenario,
        "plan_for": plan.plan_for,
        "start": plan.start,
        "horizon": plan.horizon,
        "status": r.status,
        "message": sol.message,
        "objective": money(sol.objective),
        "bound": money(sol.bound),
        "gap": _round(sol.gap, 6),
        "verified": bool(sol.verified),
        "verification": None
        if ver is None
        else {
            "ok": ver.ok,
            "checks": dict(ver.checks),
            "recomputed_cost": money(ver.recomputed_cost),
            "violations": [
                {
                    "check": v.check,
                    "message": v.message,
                    "workload": v.workload,
                    "month": r.month_label(v.month),
                    "month_index": v.month,
                    "hour": v.hour,
                    "setting": v.setting,
                }
                for v in ver.violations
            ],
        },
        "currency": sol.currency,
        "totals": None
        if totals is None
        else {
            "cost": money(totals.cost),
            "all_on_demand_cost": money(totals.all_on_demand_cost),
            "savings_pct": _round(totals.savings_pct, 2),
            "upfront": money(totals.upfront),
            "recurring": money(totals.recurring),
            "beyond_horizon": money(totals.beyond_horizon),
        },
        "months": months,
        "purchases": purchases,
        "binding": [
            {
                "month": r.month_label(b.month),
                "month_index": b.month,
                "setting": b.setting,
                "text": b.text,
            }
            for b in sol.binding
        ],
        "why_not": [
            {
                "workload": y.workload,
                "chosen": y.chosen,
                "alternative": y.alternative,
                "delta_per_month": money(y.delta_per_month),
                "text": y.text,
            }
            for y in sol.why_not
        ],
        "workloads": workloads,
        "reserved_utilisation": _round(sol.reserved_utilisation, 4),
        "spot_share": _round(sol.spot_share, 4),
        "sources": [
            {
                "source": s.source,
                "provider": s.provider,
                "as_of": s.as_of.isoformat(),
                "origin": s.origin,
                "detail": s.detail,
            }
            for s in sorted(plan.sources, key=lambda s: (s.provider, s.source, s.origin, s.as_of))
        ],
        "stats": {
            "vars_before": stats.vars_before,
            "vars_after": stats.vars_after,
            "constraints": stats.constraints,
            "offerings_before": stats.offerings_before,
            "offerings_after": stats.offerings_after,
            "passes": dict(stats.passes),
            "blocks": stats.blocks,
            "compression_overhead": _round(stats.compression_overhead, 6),
            "seed": stats.seed,
            "warm_start": stats.warm_start,
        },
        "diagnostics": [d.to_dict() for d in sol.diagnostics],
        "stress": _stress(sol),
    }


def _stress(sol: Solution) -> dict[str, Any] | None:
    report = sol.stress
    if report is None:
        return None
    workloads = []
    for w in report.workloads:
        worst = None
        if w.worst is not None:
            h = w.worst
            worst = {
                "month": h.when[:7],
                "month_index": h.month,
                "hour": h.hour,
                "when": h.when,
                "demand": _round(h.demand, 3),
                "carried": _round(h.carried, 3),
                "shortfall_pct": _round(h.shortfall_pct, 2),
                "utilization": None if h.utilization == float("inf") else _round(h.utilization, 4),
                "latency_s": None
                if h.latency_s is None or h.latency_s == float("inf")
                else _round(h.latency_s, 6),
                "slo_s": _round(h.slo_s, 6),
                "percentile": h.percentile,
            }
        workloads.append(
            {
                "workload": w.workload,
                "unit": w.unit,
                "hours_short": w.hours_short,
                "hours_without_headroom": w.hours_without_headroom,
                "worst": worst,
            }
        )
    return {
        "provisioned": report.provisioned,
        "actual": report.actual,
        "ok": report.ok,
        "summary": report.summary(),
        "workloads": workloads,
    }


def results_to_data(results: Sequence[tuple[Plan, Solution]]) -> dict[str, Any]:
    """One plan -> its object; several -> ``{"schema", "plan_for", "reference", "comparison", "plans"}``."""
    if not results:
        raise ValueError("nothing to render: no results")
    if len(results) == 1:
        return result_to_dict(Result(*results[0]))
    views = [Result(p, s) for p, s in results]
    ref = views[reference_index(views)]
    ref_cost = ref.solution.totals.cost if ref.solved and ref.solution.totals else None
    comparison = []
    for v in views:
        cost = v.solution.totals.cost if v.solved and v.solution.totals else None
        comparison.append(
            {
                "plan": v.name,
                "scenario": v.scenario,
                "status": v.status,
                "verified": bool(v.solution.verified),
                "cost": money(cost),
                "delta": money(cost - ref_cost)
                if cost is not None and ref_cost is not None
                else None,
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "plan_for": ref.plan.plan_for,
        "reference": ref.scenario,
        "comparison": comparison,
        "plans": [result_to_dict(v) for v in views],
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of this output, shipped as ``solution.schema.json``."""
    from importlib.resources import files

    data: dict[str, Any] = json.loads(
        files("capdsl.report").joinpath("solution.schema.json").read_text("utf-8")
    )
    return data


def render_json(results: Sequence[tuple[Plan, Solution]]) -> str:
    return dumps(results_to_data(results))
