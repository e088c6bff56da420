"""``capdsl bench``: the optimiser on generated plans over the real bundled catalog, side by
side with a naive formulation, a spreadsheet baseline and all on-demand.

This is CLI-level code (it prints). ``measure`` returns the figures as a dict;
``run_bench`` prints them (table or JSON) and returns the exit code.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from capdsl.bench.generate import SIZES

DEFAULT_TIME_LIMIT = {"S": 10.0, "M": 10.0, "L": 30.0, "XL": 60.0}
# The naive model is not even built beyond this many variables (it would not fit in time).
NAIVE_MAX_VARIABLES = 1_500_000


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _num(x: Any) -> float | None:
    return round(float(x), 2) if x is not None else None


def measure(
    size: str,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    naive: bool = True,
    demand: str = "daily",
) -> dict[str, Any]:
    """Every figure of one benchmark size (see ``capdsl bench --help``); ``demand``: the
    plan's demand shape (``generate.DEMANDS``)."""
    from capdsl.bench.generate import generate
    from capdsl.solve import solve, verify
    from capdsl.solve.greedy import greedy_plan
    from capdsl.solve.speed import machine_speed

    limit = time_limit if time_limit is not None else DEFAULT_TIME_LIMIT[size]
    # this machine's speed (measured once per machine, or CAPDSL_SPEED): known before the
    # clocks start; the naive formulation's deterministic limit gets it too
    speed = machine_speed()
    started = time.perf_counter()
    plan = generate(size, seed, demand)
    generate_s = time.perf_counter() - started
    sol = solve(plan, time_limit=limit, seed=seed)
    rss = _rss_mb()
    ok = verify(plan, sol).ok if sol.status in ("optimal", "feasible") else False
    greedy = greedy_plan(plan)
    greedy_ok = verify(plan, greedy).ok
    out: dict[str, Any] = {
        "size": size,
        "demand": demand,
        "time_limit_s": limit,
        "speed": speed,
        "plan": {
            "workloads": len(plan.workloads),
            "offerings": len(plan.offerings),
            "months": plan.horizon,
            "blocks": sum(len(md.blocks) for md in plan.demand),
            "generate_s": round(generate_s, 3),
        },
        "capdsl": {
            "status": sol.status,
            "verified": ok,
            "build_s": sol.stats.build_s,
            "solve_s": sol.stats.solve_s,
            "objective": _num(sol.objective),
            "bound": _num(sol.bound),
            "gap": sol.gap,
            "vars_before": sol.stats.vars_before,
            "vars_after": sol.stats.vars_after,
            "peak_rss_mb": rss,
            "search": sol.stats.passes.get("search", ""),
        },
        "greedy": {
            "objective": _num(greedy.totals.cost if greedy.totals else None),
            "verified": greedy_ok,
        },
        "all_on_demand": {"objective": _num(sol.totals.all_on_demand_cost if sol.totals else None)},
    }
    out["naive"], out["naive_time_to_capdsl_gap_s"] = (
        _naive(plan, limit, seed, sol.gap, speed) if naive else ({}, None)
    )
    return out


def _naive(
    plan: Any, limit: float, seed: int, target_gap: float | None, speed: float = 1.0
) -> tuple[dict[str, Any], float | None]:
    """The textbook formulation on the same plan: one block per distinct hour, no pruning, no
    symmetry breaking, the whole plan in one CP-SAT model, the same time limit (its
    deterministic time at this machine's ``speed``, as ``solve`` spends it)."""
    from capdsl.solve.context import count_variables
    from capdsl.solve.formulate import formulate
    from capdsl.solve.prune import NAIVE_PASSES, prepare
    from capdsl.solve.search import relative_gap, run_model

    started = time.perf_counter()
    ctx = prepare(plan, passes=NAIVE_PASSES)
    n = count_variables(ctx)
    if n > NAIVE_MAX_VARIABLES:
        return {
            "status": "not built",
            "variables": n,
            "solve_s": None,
            "objective": None,
            "bound": None,
            "gap": None,
        }, None
    form, _ = formulate(ctx)
    build_s = time.perf_counter() - started
    res = run_model(form, time_limit=limit * speed, seed=seed)
    reached = None
    if target_gap is not None:
        for t, obj, bound in res.best_times:
            g = relative_gap(obj, bound)
            if g is not None and g <= target_gap + 1e-12:
                reached = round(build_s + t, 3)
                break
    gap = relative_gap(res.objective, res.bound)
    return (
        {
            "status": res.status,
            "variables": n,
            "build_s": round(build_s, 3),
            "solve_s": round(res.wall_s, 3),
            "objective": _num(res.objective),
            "bound": _num(res.bound),
            "gap": round(gap, 8) if gap is not None else None,
        },
        reached,
    )


def run_bench(
    size: str,
    *,
    fmt: str = "table",
    time_limit: float | None = None,
    seed: int = 0,
    demand: str = "daily",
) -> int:
    """Run one size and print it; exit 0 when capdsl found a verified plan."""
    if size not in SIZES:
        sys.stderr.write(f"unknown size {size}\n")
        return 2
    figures = measure(size, time_limit=time_limit, seed=seed, demand=demand)
    if fmt == "json":
        sys.stdout.write(json.dumps(figures, sort_keys=True) + "\n")
    else:
        sys.stdout.write(table([figures]) + "\n")
    return 0 if figures["capdsl"]["verified"] else 1


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.2f}%"


def _usd(x: float | None) -> str:
    return "-" if x is None else f"${x:,.0f}"


def label(row: dict[str, Any]) -> str:
    """A row's size, and its demand shape unless daily: ``M``, ``M (monthly)``."""
    demand = row.get("demand", "daily")
    return row["size"] + ("" if demand == "daily" else f" ({demand})")


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of benchmark figures (one row per size)."""
    head = (
        "| size | blocks | vars before -> after | capdsl solve (s) | objective | bound | gap | peak RSS | "
        "naive (s) | naive objective | naive gap | naive to capdsl gap (s) | greedy | all on-demand | vs greedy |"
    )
    sep = "|" + "---|" * 15
    lines = [head, sep]
    for r in rows:
        c, nv, g, a = r["capdsl"], r["naive"], r["greedy"], r["all_on_demand"]
        saving = (
            (1 - c["objective"] / g["objective"]) if c["objective"] and g["objective"] else None
        )
        naive_s = "not built" if nv.get("status") == "not built" else f"{nv.get('solve_s', '-')}"
        lines.append(
            f"| {label(r)} | {r['plan']['blocks']} | {c['vars_before']:,} -> {c['vars_after']:,} | {c['solve_s']} | "
            f"{_usd(c['objective'])} | {_usd(c['bound'])} | {_pct(c['gap'])} | {c['peak_rss_mb']} MB | {naive_s} | "
            f"{_usd(nv.get('objective'))} | {_pct(nv.get('gap'))} | {r['naive_time_to_capdsl_gap_s'] or 'never'} | "
            f"{_usd(g['objective'])} | {_usd(a['objective'])} | {_pct(saving)} |"
        )
    return "\n".join(lines)
