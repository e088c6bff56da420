"""A fake capdsl pipeline for TUI tests: real Plan / Solution objects, made by hand.

``FakeBackend`` reads a ``.cap``-like text with a tiny item scanner (enough for the
settings the what-if knobs touch), builds a real pydantic ``Plan`` whose settings carry
real spans into that text, and "solves" it with a closed-form sizing rule, so a what-if
(growth, headroom, spot max, budget, event scale, terms) really changes the cost, a low
budget really makes the plan infeasible, and ``# fake: slow`` makes a solve that only a
stop ends. The real pipeline is exercised in ``test_real_pipeline.py``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from capdsl.api import Built
from capdsl.lang.diagnostics import DiagnosticError, Span, error, warning
from capdsl.model.plan import (
    Budget,
    Capacity,
    CommitmentPolicy,
    DemandBlock,
    ExistingReservation,
    MonthDemand,
    Plan,
    PlanOffering,
    ReservedOption,
    Setting,
    SpotPolicy,
    Workload,
)
from capdsl.pricing.catalog import Offering, ReservedPrice, SourceStamp
from capdsl.solve.solution import (
    Allocation,
    Binding,
    MonthCost,
    Purchase,
    Solution,
    SolveStats,
    Totals,
    WhyNot,
)
from capdsl.tui.whatif import BlockRange, find_block, scan_blocks

PLANS = Path(__file__).parent / "plans"
ZONES = ("us-east-1a", "us-east-1b")
C7G = "aws.c7g.2xlarge@us-east-1"
M7G = "aws.m7g.2xlarge@us-east-1"
PER_INSTANCE = {C7G: 60.0, M7G: 52.0}
D = Decimal


def _offerings() -> list[PlanOffering]:
    def off(itype: str, family: str, od: str, spot: str, r1: str, r3: str) -> PlanOffering:
        return PlanOffering(
            id=f"aws.{itype}@us-east-1",
            catalog="aws",
            offering=Offering(
                provider="aws",
                region="us-east-1",
                instance_type=itype,
                zones=ZONES,
                vcpu=8,
                memory_gib=16 if family == "c7g" else 32,
                arch="arm64",
                family=family,
                on_demand_hourly=D(od),
                spot_hourly={z: D(spot) for z in ZONES},
                spot_interruption=5,
                reserved=(
                    ReservedPrice(term_months=12, payment="no_upfront", hourly=D(r1)),
                    ReservedPrice(
                        term_months=36, payment="all_upfront", upfront=D(r3), hourly=D(0)
                    ),
                ),
            ),
        )

    return [
        off("c7g.2xlarge", "c7g", "0.289", "0.110", "0.182", "3400"),
        off("m7g.2xlarge", "m7g", "0.326", "0.125", "0.205", "3900"),
    ]


# --------------------------------------------------------------------------- a tiny reader


@dataclass
class Item:
    key: str
    op: str
    value: str
    start: int
    end: int


def _items(text: str, block: BlockRange, blocks: list[BlockRange]) -> list[Item]:
    """Items written directly in ``block`` (not in nested blocks)."""
    nested = [(b.header_start, b.close + 1) for b in blocks if b.parent == block.index]
    out: list[Item] = []
    start = block.open + 1
    i = start
    in_str = False

    def flush(end: int) -> None:
        seg = text[start:end]
        if not seg.strip():
            return
        lead = len(seg) - len(seg.lstrip())
        s, e = start + lead, start + len(seg.rstrip())
        m = re.match(r"\s*([^\s=<>]+(?:\s+[^\s=<>]+)?)\s*(<=|>=|=|<|>)\s*(.+?)\s*$", text[s:e])
        if m:
            out.append(Item(m[1].strip(), m[2], m[3], s, e))

    while i < block.close:
        for a, b in nested:
            if i == a:
                flush(i)
                i = b
                start = i
                break
        else:
            c = text[i]
            if c == '"':
                in_str = not in_str
            elif not in_str and c == "#":
                flush(i)
                j = text.find("\n", i)
                i = block.close if j < 0 else j
                start = i
                continue
            elif not in_str and c in "\n,":
                flush(i)
                start = i + 1
            i += 1
            continue
    flush(block.close)
    return out


def _span(text: str, path: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    eline = text.count("\n", 0, end) + 1
    ecol = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(path, line, col, eline, ecol, start, end)


def _settings(text: str, path: str) -> tuple[dict[str, Setting], dict[str, dict[str, Setting]]]:
    """Base settings by path, and each scenario's overrides."""
    blocks = scan_blocks(text)
    base: dict[str, Setting] = {}
    scenarios: dict[str, dict[str, Setting]] = {}

    def put(target: dict[str, Setting], key: str, item: Item) -> None:
        target[key] = Setting(
            path=key, text=text[item.start : item.end], span=_span(text, path, item.start, item.end)
        )

    for b in blocks:
        if b.parent is not None:
            continue
        if b.kind in ("service", "batch", "stream") and b.labels:
            name = b.labels[0]
            for it in _items(text, b, blocks):
                key = it.key.split()[0] if it.op != "=" else it.key
                put(base, f"{name}.{key}", it)
            for child in blocks:
                if child.parent != b.index:
                    continue
                if child.kind == "spot":
                    for it in _items(text, child, blocks):
                        put(base, f"{name}.spot.{it.key}", it)
                elif child.kind == "event" and child.labels:
                    for it in _items(text, child, blocks):
                        put(base, f"{name}.event.{child.labels[0]}.{it.key}", it)
        elif b.kind in ("budget", "commitments", "plan"):
            for it in _items(text, b, blocks):
                put(base, f"{b.kind}.{it.key}", it)
        elif b.kind == "scenario" and b.labels:
            scenarios[b.labels[0]] = {}
            for it in _items(text, b, blocks):
                # the model's keys are unquoted: recs.event."annual sale".scale -> recs.event.annual sale.scale
                put(scenarios[b.labels[0]], it.key.replace('"', ""), it)
    return base, scenarios


def _num(value: str) -> float:
    m = re.match(r"\$?\s*(-?\d+(?:\.\d+)?)\s*([kMB]?)", value)
    if not m:
        raise ValueError(value)
    mult = {"": 1, "k": 1e3, "M": 1e6, "B": 1e9}[m[2]]
    return float(m[1]) * mult


# --------------------------------------------------------------------------- the backend


class FakeBackend:
    """The TUI's Backend, with a hand-made model and solver (see module docstring)."""

    def __init__(self, *, lexer: Any = None, solve_delay: float = 0.0) -> None:
        self.builds: list[tuple[str | None, str]] = []  # (scenario, text)
        self.solves: list[dict[str, Any]] = []
        self.written: dict[str, str] = {}
        self.reports: list[tuple[list[tuple[Plan, Solution]], str]] = []
        self._lexer = lexer
        self.solve_delay = solve_delay
        self.formatted: list[str] = []
        self._texts: dict[int, str] = {}

    closed = False

    def close(self) -> None:
        self.closed = True

    # files
    def read(self, path: str) -> str:
        return Path(path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        self.written[path] = text
        Path(path).write_text(text, encoding="utf-8")

    def format(self, text: str, path: str) -> str:
        if "!!" in text:
            raise DiagnosticError([error("E0101", "unexpected `!!`")])
        self.formatted.append(text)
        # the fake formatter aligns nothing; it only strips trailing spaces per line
        return "\n".join(line.rstrip() for line in text.split("\n"))

    def explain(self, code: str) -> tuple[str, str] | None:
        if code.upper() == "E0490":
            return (
                "the solver's plan failed verification",
                "# E0490: verification failed\n\nThe solver ...",
            )
        if code.upper() in ("E0203", "E0101", "E0401", "W0101"):
            return (
                f"title of {code}",
                f"# {code.upper()}: title of {code}\n\nLong explanation.\n\n## Example\n\n```cap\nx = 1\n```\n",
            )
        return None

    def known_codes(self) -> list[str]:
        return ["E0101", "E0203", "E0401", "E0490", "W0101"]

    def report(self, results: Sequence[tuple[Plan, Solution]], fmt: str) -> str:
        self.reports.append((list(results), fmt))
        return (
            "<html><body>"
            + "".join(f"<h1>{p.name} {s.scenario}</h1>" for p, s in results)
            + "</body></html>"
        )

    def lexer(self) -> Any:
        if self._lexer is None:
            from capdsl.lang.lexer import CapLexer

            return CapLexer()
        return self._lexer

    # build
    def build(self, text: str, path: str, scenario: str | None) -> Built:
        self.builds.append((scenario, text))
        bad = text.find("!!")
        if bad >= 0:
            d = error(
                "E0101",
                "unexpected `!!`",
                _span(text, path, bad, bad + 2),
                label="not valid here",
                help="remove it",
            )
            return Built(None, [d], {path: text})
        base, overrides = _settings(text, path)
        if scenario is not None and scenario not in overrides:
            return Built(None, [error("E0301", f"unknown scenario `{scenario}`")], {path: text})
        settings = dict(base)
        if scenario is not None:
            settings.update(overrides[scenario])
        try:
            plan = self._plan(text, path, scenario, settings, tuple(overrides))
        except (ValueError, KeyError) as exc:
            return Built(None, [error("E0201", f"bad value: {exc}")], {path: text})
        lint = (
            warning(
                "W0101", "headroom under 30% on a spiky service", settings["recs.headroom"].span
            )
            if plan.workloads[0].headroom < 0.3
            else None
        )
        diags = [lint] if lint else []
        plan.warnings = list(diags)
        return Built(plan, diags, {path: text})

    def _plan(
        self,
        text: str,
        path: str,
        scenario: str | None,
        settings: dict[str, Setting],
        scenarios: tuple[str, ...],
    ) -> Plan:
        from capdsl.tui.whatif import value_of

        def val(key: str, default: str) -> str:
            s = settings.get(key)
            return value_of(s.text) if s is not None else default

        growth = _num(val("recs.growth", "0%")) / 100
        headroom = _num(val("recs.headroom", "0%")) / 100
        spot_max = _num(val("recs.spot.max", "100%")) / 100
        scale = _num(val("recs.event.annual sale.scale", "1x"))
        terms_text = val("commitments.terms", "[1y, 3y]")
        terms = [int(t) for t in re.findall(r"(\d+)y", terms_text)]
        horizon = int(_num(val("plan.horizon", "12 months")))
        months = [f"{2027 + (i // 12)}-{i % 12 + 1:02d}" for i in range(horizon)]
        base_rate = 45e6 / 86400
        demand = []
        for i, month in enumerate(months):
            avg = base_rate * (1 + growth) ** i
            blocks = [
                DemandBlock(
                    index=0, hours=400, billed_hours=400, level={"recs": avg * 0.7}, label="night"
                ),
                DemandBlock(
                    index=1,
                    hours=330,
                    billed_hours=330,
                    level={"recs": avg * 1.4},
                    label="day peak",
                ),
            ]
            if month.endswith("-11"):
                blocks[1] = DemandBlock(
                    index=1,
                    hours=258,
                    billed_hours=258,
                    level={"recs": avg * 1.4},
                    label="day peak",
                )
                blocks.append(
                    DemandBlock(
                        index=2,
                        hours=72,
                        billed_hours=72,
                        level={"recs": avg * 1.4 * scale},
                        label="event: annual sale",
                        event="annual sale",
                    )
                )
            demand.append(
                MonthDemand(
                    index=i,
                    month=month,
                    hours=730,
                    hour_weight=1.0,
                    blocks=blocks,
                    work={"train": 600.0},
                )
            )
        fleet_cap = 20 * PER_INSTANCE[C7G]
        need = [max(b.level["recs"] for b in md.blocks) * (1 + headroom) for md in demand]
        cliff = next((i for i, r in enumerate(need) if i >= 5 or r > fleet_cap), None)
        budget_text = settings.get("budget.monthly")
        budgets = (
            [Budget(name="budget", monthly=D(str(_num(value_of(budget_text.text)))))]
            if budget_text
            else []
        )
        plan = Plan(
            name="shop-recs",
            scenario=scenario,
            scenarios=scenarios,
            start="2027-01",
            horizon=horizon,
            months=months,
            offerings=_offerings(),
            workloads=[
                Workload(
                    name="recs",
                    kind="service",
                    unit="prediction",
                    capacities=tuple(
                        Capacity(
                            offering=o, per_instance=PER_INSTANCE[o], zones=ZONES, spot_zones=ZONES
                        )
                        for o in (C7G, M7G)
                    ),
                    headroom=headroom,
                    redundancy=1,
                    spot=SpotPolicy(allowed=spot_max > 0, max_share=spot_max),
                    cliff_month=cliff,
                    cliff_reason="the 20 owned c7g.2xlarge expire in 2027-06",
                ),
                Workload(
                    name="train",
                    kind="batch",
                    unit="gpu_hour",
                    capacities=(
                        Capacity(offering=C7G, per_instance=8.0, zones=ZONES, spot_zones=ZONES),
                    ),
                ),
            ],
            fleet=[
                ExistingReservation(
                    offering=C7G,
                    zone="us-east-1a",
                    count=20,
                    start=-6,
                    end=5,
                    hourly=D("0.182"),
                    label="owned c7g",
                )
            ],
            commitments=CommitmentPolicy(
                options=tuple(
                    ReservedOption(
                        term_months=12 * t, payment="no_upfront" if t == 1 else "all_upfront"
                    )
                    for t in terms
                )
            ),
            budgets=budgets,
            demand=demand,
            sources=[
                SourceStamp(
                    source="bundled", provider="aws", as_of="2026-01-15", origin="bundled snapshot"
                )
            ],
            settings=settings,
            source_path=path,
        )
        plan._variant = lambda s: self.build(text, path, s).plan
        self._texts[id(plan)] = text
        return plan

    # solve
    def solve(
        self,
        plan: Plan,
        *,
        time_limit: float,
        on_progress: Callable[[Any], None] | None,
        stop: threading.Event,
        hint: Solution | None,
        seed: int,
    ) -> Solution:
        self.solves.append(
            {"scenario": plan.scenario, "hint": hint, "time_limit": time_limit, "seed": seed}
        )
        source = self._texts.get(id(plan), "")
        if "# fake: crash" in source:
            raise RuntimeError("the solver crashed (fake)")
        slow = "# fake: slow" in source
        solution = solve_plan(plan)
        obj = float(solution.objective or 0)
        started = time.monotonic()
        if on_progress is not None:
            on_progress(
                SimpleNamespace(
                    objective=obj * 1.2, bound=obj * 0.8, gap=(1.2 - 0.8) / 1.2, elapsed_s=0.01
                )
            )
        if slow:
            while not stop.is_set() and time.monotonic() - started < 30:
                time.sleep(0.02)
            if on_progress is not None:
                on_progress(
                    SimpleNamespace(
                        objective=obj * 1.05,
                        bound=obj * 0.95,
                        gap=0.095,
                        elapsed_s=time.monotonic() - started,
                    )
                )
            return solution.model_copy(
                update={
                    "status": "feasible",
                    "gap": 0.095,
                    "bound": solution.objective * D("0.9"),
                    "verified": True,
                }
            )
        if self.solve_delay:
            stop.wait(self.solve_delay)
        if on_progress is not None:
            on_progress(SimpleNamespace(objective=obj, bound=obj, gap=0.0, elapsed_s=0.02))
        return solution


def solve_plan(plan: Plan) -> Solution:
    """Size every block with the cheapest rule of thumb and price it (deterministic)."""
    recs = plan.workload("recs")
    od, spot_p = D("0.289"), D("0.110")
    r1 = D("0.182")
    allow_1y = any(o.term_months == 12 for o in plan.commitments.options)
    sizes: list[list[int]] = []
    for md in plan.demand:
        sizes.append(
            [
                math.ceil(b.level["recs"] * (1 + recs.headroom) / PER_INSTANCE[C7G])
                + recs.redundancy
                for b in md.blocks
            ]
        )
    reserved = min(min(s) for s in sizes) if allow_1y else 0
    spot_share = (
        recs.spot.max_share if recs.spot.allowed and recs.spot.max_share is not None else 0.0
    )
    allocations: list[Allocation] = []
    months: list[MonthCost] = []
    purchases: list[Purchase] = []
    if reserved:
        purchases.append(
            Purchase(
                offering=C7G,
                zone=ZONES[0],
                term_months=12,
                payment="no_upfront",
                month=0,
                count=reserved,
                upfront=D(0),
                hourly=r1,
                order_by="2026-12",
            )
        )
    total = D(0)
    all_od = D(0)
    for md, size in zip(plan.demand, sizes, strict=True):
        c_res = c_od = c_spot = D(0)
        for b, n in zip(md.blocks, size, strict=True):
            hours = D(str(b.billed_hours))
            extra = n - reserved
            n_spot = math.floor(extra * min(spot_share, 0.5))
            n_od = extra - n_spot
            if reserved:
                allocations.append(
                    Allocation(
                        workload="recs",
                        offering=C7G,
                        zone=ZONES[0],
                        option="reserved",
                        month=md.index,
                        block=b.index,
                        count=reserved,
                    )
                )
            if n_od:
                allocations.append(
                    Allocation(
                        workload="recs",
                        offering=C7G,
                        zone=ZONES[1],
                        option="on_demand",
                        month=md.index,
                        block=b.index,
                        count=n_od,
                    )
                )
            if n_spot:
                allocations.append(
                    Allocation(
                        workload="recs",
                        offering=C7G,
                        zone=ZONES[1],
                        option="spot",
                        month=md.index,
                        block=b.index,
                        count=n_spot,
                    )
                )
            c_od += od * n_od * hours
            c_spot += spot_p * n_spot * hours
            all_od += od * n * hours
        allocations.append(
            Allocation(
                workload="train",
                offering=C7G,
                zone=ZONES[0],
                option="on_demand",
                month=md.index,
                block=0,
                count=1,
            )
        )
        c_train = od * D(400)
        c_res = r1 * reserved * D(730)
        month_total = (c_res + c_od + c_spot + c_train).quantize(D("0.01"))
        all_od += c_train
        total += month_total
        months.append(
            MonthCost(
                month=md.month,
                index=md.index,
                total=month_total,
                on_demand=c_od + c_train,
                spot=c_spot,
                reserved=c_res,
                existing=D(0),
                upfront_cash=D(0),
            )
        )
    budget = plan.budgets[0].monthly if plan.budgets else None
    over = [m for m in months if budget is not None and m.total > budget]
    setting = plan.settings.get("budget.monthly")
    if over:
        worst = max(over, key=lambda m: m.total)
        d = error(
            "E0401",
            f"budget {budget:,.0f}/month is below the cheapest plan in {worst.month}: "
            f"${worst.total:,.0f}",
            setting.span if setting else None,
            label="this cap",
            help="raise the budget or lower the demand",
        )
        return Solution(
            plan=plan.name,
            scenario=plan.scenario,
            status="infeasible",
            message=f"infeasible: budget conflicts with demand in {worst.month}",
            diagnostics=[d],
        )
    saving = float((all_od - total) / all_od * 100) if all_od else 0.0
    peak = max(months, key=lambda m: m.total)
    binding = [
        Binding(
            month=peak.index,
            setting="recs.redundancy",
            text=f"N+1 binds for recs in {peak.month} (peak block)",
        ),
        Binding(
            month=None,
            setting="recs.spot.max",
            text="spot share of recs at its 40% cap every month",
        ),
        Binding(
            month=peak.index,
            setting="budget.monthly",
            text=f"budget at {float(peak.total / budget * 100):.0f}% in {peak.month}",
        )
        if budget
        else None,
    ]
    return Solution(
        plan=plan.name,
        scenario=plan.scenario,
        status="optimal",
        objective=total,
        bound=total,
        gap=0.0,
        allocations=allocations,
        purchases=purchases,
        months=months,
        totals=Totals(
            cost=total, all_on_demand_cost=all_od, savings_pct=saving, upfront=D(0), recurring=total
        ),
        workload_costs={
            "recs": total - sum(D(400) * od for _ in months),
            "train": sum(D(400) * od for _ in months),
        },
        reserved_utilisation=0.97 if reserved else None,
        spot_share=spot_share * 0.4,
        binding=[b for b in binding if b is not None],
        why_not=[
            WhyNot(
                workload="recs",
                chosen=C7G,
                alternative=M7G,
                delta_per_month=D("412.50"),
                text="m7g.2xlarge costs $412.50/month more for the same predictions (more memory, unused)",
            )
        ],
        stats=SolveStats(solve_s=0.42, vars_before=1200, vars_after=310, warm_start=False),
        verified=True,
    )


def shop_text() -> str:
    return (PLANS / "shop.cap").read_text(encoding="utf-8")


def write_plan(tmp: Path, text: str | None = None, name: str = "shop.cap") -> Path:
    path = tmp / name
    path.write_text(text if text is not None else shop_text(), encoding="utf-8")
    return path


def built(text: str | None = None, scenario: str | None = None, path: str = "shop.cap") -> Built:
    return FakeBackend().build(text if text is not None else shop_text(), path, scenario)


__all__ = [
    "C7G",
    "M7G",
    "FakeBackend",
    "built",
    "find_block",
    "shop_text",
    "solve_plan",
    "write_plan",
]


# --------------------------------------------------------------------------- solver-process targets
# Module-level, so a spawned child can import them (``tui_fakes:child_solve``).


def child_solve(
    plan: Plan, *, on_progress: Callable[[Any], None], stop: Any, **kw: Any
) -> Solution:
    on_progress(SimpleNamespace(objective=D("123.5"), bound=100, gap=0.19, elapsed_s=0.01))
    return solve_plan(plan)


def child_slow(plan: Plan, *, on_progress: Callable[[Any], None], stop: Any, **kw: Any) -> Solution:
    on_progress(SimpleNamespace(objective=1.0, bound=0.5, gap=0.5, elapsed_s=0.0))
    while not stop.is_set():
        time.sleep(0.01)
    return solve_plan(plan).model_copy(update={"status": "feasible", "gap": 0.5})


def child_stubborn(plan: Plan, **kw: Any) -> Solution:
    time.sleep(600)
    raise AssertionError("unreachable")


def child_abort(plan: Plan, **kw: Any) -> Solution:
    import os
    import sys

    sys.stderr.write("Check failed: heuristics.fixed_search != nullptr\n")
    sys.stderr.flush()
    os.write(2, b"*** Check failure stack trace: ***\n")
    os.abort()


def child_raise(plan: Plan, **kw: Any) -> Solution:
    raise ValueError("the model has no variables (fake)")
